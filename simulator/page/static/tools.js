// Toolbox-drawer items and the chip of the selected tool. The selection persists across turns until
// the user deselects it.
//
// Rows (docs/architecture/evidence.md#d2, D3; REG, UAT): `toolbox-drawer-item > button.toolbox-drawer-item-list-button
// [role=menuitemcheckbox][aria-label=""][aria-checked]` with `mat-icon[data-mat-icon-name]` and the
// label text. Chip (D6; PWA, ZHT, REG): October and mid 2026 `gem-button[data-test-id=
// "deselect-drawer-item-gem-button"] > button[aria-label="Deselect <chip>"]`; early 2026 keeps
// `button.toolbox-drawer-item-deselect-button`.

import { h, icon } from "./dom.js";

export class Tools {
  constructor({ ui, tools, onChange }) {
    this.ui = ui;
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
      // UAT 2026-05-19: the toggles carry an empty aria-label; they are matched by their text.
      "aria-label": "",
      "aria-checked": String(checked),
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
    if (tool) this.chipHost.append(this.chip(tool));
    document.querySelector(".toolbox-drawer-button")?.classList.toggle("has-selected-item", Boolean(tool));
    this.onChange(tool);
  }

  chip(tool) {
    const parts = [icon(tool.icon), h("span", { class: "toolbox-drawer-item-deselect-button-label", text: tool.chip }), icon("close")];
    const deselect = () => this.select(null);
    if (this.ui === "early2026") {
      return h("button", {
        class: "toolbox-drawer-item-deselect-button",
        type: "button",
        "aria-label": `Deselect ${tool.chip}`,
        onclick: deselect,
      }, parts);
    }
    return h("gem-button", { class: "deselect-drawer-item", "data-test-id": "deselect-drawer-item-gem-button" },
      h("button", { class: "mdc-button gem-button", type: "button", "aria-label": `Deselect ${tool.chip}`, onclick: deselect }, parts));
  }
}
