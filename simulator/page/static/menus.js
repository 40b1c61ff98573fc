// The composer's menus: early-2026 separate upload menu and "Tools" drawer; October and mid 2026 one
// merged "Upload and tools" menu (the label is the `tools_label` setting, D1) with the main tools and
// "More tools" (D4). With `toolsExclusive` (ZHT, D7) a selected tool hides the others. Signed-out
// visitors get no menu: mid/early 2026 show `uploader-signed-out-tooltip`, October 2026 a snack bar.

import { h, icon, snackbar } from "./dom.js";
import { closeAll, isOpen, openOverlay } from "./overlay.js";

export function wireComposerMenus({ ui, plan, tools, uploads, exclusive }) {
  const uploadButton = document.querySelector("uploader button");
  let menu = null;
  const toggle = (anchor, build) => {
    if (isOpen(menu) && menu.anchor === anchor) {
      closeAll();
      return;
    }
    closeAll();
    menu = openOverlay({ anchor, panel: build(() => menu?.close()) });
  };

  if (plan === "anon") {
    uploadButton.addEventListener("click", () => {
      // Looked up on click: with signin_marker_delay the tooltip is added after boot.
      const tooltip = document.querySelector("uploader-signed-out-tooltip");
      if (!tooltip) {
        if (ui === "oct2026") snackbar("Sign in to upload files");
        return;
      }
      tooltip.hidden = false;
      setTimeout(() => (tooltip.hidden = true), 4000);
    });
    return;
  }

  if (ui === "early2026") {
    uploadButton.addEventListener("click", () => toggle(uploadButton, (close) =>
      h("div", { class: "mat-mdc-menu-panel upload-file-menu", role: "menu", tabindex: "-1" },
        h("div", { class: "mat-mdc-menu-content" }, uploads.uploader(ui, close)))));
    const toolsButton = document.querySelector("toolbox-drawer button.toolbox-drawer-button");
    toolsButton?.addEventListener("click", () => toggle(toolsButton, (close) =>
      h("div", { class: "mat-mdc-menu-panel toolbox-drawer-menu", role: "menu", tabindex: "-1" },
        h("mat-card", { class: "toolbox-drawer-card" },
          h("mat-action-list", { class: "toolbox-drawer-list" }, tools.tools.map((tool) => tools.item(tool, close)))))));
    return;
  }

  uploadButton.addEventListener("click", () => toggle(uploadButton, (close) => {
    const content = h("div", { class: "mat-mdc-menu-content" }, uploads.uploader(ui, close));
    // ZHT: once a mode is on, the menu no longer lists the other modes (deselect first).
    const listed = exclusive && tools.selected ? tools.tools.filter((tool) => tool.key === tools.selected.key) : tools.tools;
    if (listed.length) {
      const list = h("mat-action-list", { class: "toolbox-drawer-list" },
        listed.filter((tool) => tool.promoted).map((tool) => tools.item(tool, close)));
      const hidden = listed.filter((tool) => !tool.promoted);
      if (hidden.length) {
        const more = h("button", {
          class: "mat-mdc-menu-item more-tools-button",
          type: "button",
          role: "menuitem",
          "aria-expanded": "false",
          "data-test-id": "more-tools-button",
        }, icon("more_horiz"), h("span", { class: "menu-item-label gds-label-l", text: "More tools" }));
        more.addEventListener("click", () => {
          more.replaceWith(...hidden.map((tool) => tools.item(tool, close)));
        });
        list.append(more);
      }
      content.append(h("div", { class: "menu-divider", role: "separator" }), list);
    }
    return h("div", { class: "mat-mdc-menu-panel upload-tools-menu", role: "menu", tabindex: "-1", "data-test-id": "upload-tools-menu" }, content);
  }));
}
