// Toolbox-drawer items (menuitemcheckbox) and the "Deselect <tool>" chip of the selected tool.
// The selection persists across turns until the user deselects it.

import { h, icon } from "./dom.js";

export class Tools {
  constructor({ tools, onChange }) {
    this.tools = tools;
    this.selected = null;
    this.onChange = onChange;
    this.chipHost = document.querySelector(".toolbox-drawer-chips");
  }

  item(tool, afterClick) {
    const checked = this.selected?.key === tool.key;
    const button = h("button", {
      class: `mat-mdc-list-item toolbox-drawer-item-list-button${checked ? " is-selected" : ""}`,
      type: "button",
      role: "menuitemcheckbox",
      "aria-checked": String(checked),
      "data-tool": tool.key,
      onclick: () => {
        this.select(checked ? null : tool);
        afterClick();
      },
    }, icon(tool.icon), h("span", { class: "toolbox-drawer-item-label gds-label-l", text: tool.label }));
    return h("toolbox-drawer-item", { class: "toolbox-drawer-item" }, button);
  }

  select(tool) {
    this.selected = tool;
    this.chipHost.replaceChildren();
    if (tool) {
      this.chipHost.append(h("button", {
        class: "toolbox-drawer-item-deselect-button",
        type: "button",
        "aria-label": `Deselect ${tool.chip}`,
        onclick: () => this.select(null),
      }, icon(tool.icon), h("span", { class: "toolbox-drawer-item-deselect-button-label", text: tool.chip }), icon("close")));
    }
    document.querySelector(".toolbox-drawer-button")?.classList.toggle("has-selected-item", Boolean(tool));
    this.onChange(tool);
  }
}
