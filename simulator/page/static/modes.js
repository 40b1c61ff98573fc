// The mode picker of both UI generations: early-2026 `gds-mode-switch-menu` with radio items,
// mid-2026 `gem-mode-menu` with `gem-menu-item`s and a thinking-level sub-menu.

import { h, icon } from "./dom.js";
import { closeAll, isOpen, openOverlay } from "./overlay.js";

export class ModePicker {
  constructor({ ui, modes, defaultKey, onChange }) {
    this.ui = ui;
    this.modes = modes;
    this.current = modes.find((mode) => mode.key === defaultKey) ?? modes[0];
    this.onChange = onChange;
    this.button = document.querySelector("bard-mode-switcher button");
    this.menu = null;
    this.submenu = null;
    this.button.addEventListener("click", () => (isOpen(this.menu) ? closeAll() : this.open()));
    this.refreshButton();
  }

  // What the switcher calls the current choice (mid-2026 names the thinking level, not "Standard").
  currentLabel() {
    if (this.current.key === "thinking" && this.current.parent) return "Thinking";
    return this.current.label;
  }

  refreshButton() {
    if (this.ui === "early2026") {
      this.button.querySelector("[data-test-id='logo-pill-label-container'] span").textContent = this.current.label;
    } else {
      this.button.setAttribute("aria-label", `Open mode picker, currently ${this.currentLabel()}`);
    }
  }

  select(mode) {
    this.current = mode;
    this.refreshButton();
    closeAll();
    this.onChange(mode);
  }

  open() {
    closeAll();
    const panel = this.ui === "early2026" ? this.earlyPanel() : this.midPanel();
    this.menu = openOverlay({ anchor: this.button, panel });
  }

  earlyPanel() {
    const items = this.modes.map((mode) => {
      const selected = mode.key === this.current.key;
      return h("button", {
        class: `mat-mdc-menu-item bard-mode-list-button${selected ? " is-selected" : ""}`,
        type: "button",
        role: "menuitemradio",
        "aria-checked": String(selected),
        "data-test-id": mode.test_id,
        "data-mode-id": mode.hex,
        onclick: () => this.select(mode),
      },
      h("div", { class: "title-and-description" },
        h("span", { class: "mode-title gds-label-l", text: mode.label }),
        h("span", { class: "mode-desc gds-body-s", text: mode.sublabel })),
      selected ? icon("check_circle") : null);
    });
    return h("div", { class: "mat-mdc-menu-panel gds-mode-switch-menu", role: "menu", tabindex: "-1" },
      h("div", { class: "mat-mdc-menu-content" }, items));
  }

  midPanel() {
    const items = [];
    const groups = new Map();
    for (const mode of this.modes) {
      if (!mode.parent) {
        items.push(this.gemItem(mode.label, mode.sublabel, mode.hex, mode.key === this.current.key, {
          onclick: () => this.select(mode),
          onmouseenter: () => this.closeSubmenu(),
        }));
      } else if (!groups.has(mode.parent)) {
        groups.set(mode.parent, []);
        items.push(mode.parent);
      }
      if (mode.parent) groups.get(mode.parent).push(mode);
    }
    const built = items.map((item) => (typeof item === "string" ? this.parentItem(item, groups.get(item)) : item));
    return h("gem-menu", { class: "gem-menu-host" },
      h("div", { "data-test-id": "gem-mode-menu", role: "menu", class: "gem-menu mode-menu", tabindex: "-1" }, built));
  }

  gemItem(label, sublabel, hex, active, handlers, extra = {}) {
    return h("gem-menu-item", {
      class: "gem-menu-item",
      role: "menuitem",
      tabindex: "0",
      "data-mode-id": hex,
      "data-active": String(active),
      ...extra,
      ...handlers,
    },
    h("div", { class: "label gds-label-l", text: label }),
    h("div", { class: "sublabel gds-body-s", text: sublabel }),
    active ? icon("check") : null);
  }

  parentItem(label, children) {
    const active = children.some((mode) => mode.key === this.current.key);
    const level = active ? (this.current.thinking === 2 ? "Extended" : "Standard") : children[0].sublabel;
    const item = this.gemItem(label, level, children[0].hex, active, {}, {
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "data-test-id": "thinking-submenu-trigger",
    });
    item.append(icon("chevron_right"));
    const show = () => this.openSubmenu(item, children);
    item.addEventListener("click", show);
    item.addEventListener("mouseenter", show);
    return item;
  }

  openSubmenu(anchor, children) {
    if (isOpen(this.submenu)) return;
    const items = children.map((mode) => this.gemItem(mode.label, mode.sublabel, mode.hex, mode.key === this.current.key, {
      onclick: () => this.select(mode),
    }, { "data-thinking-level": String(mode.thinking) }));
    const panel = h("div", { role: "menu", class: "gem-menu thinking-level-menu", "data-test-id": "thinking-level-menu" }, items);
    this.submenu = openOverlay({ anchor, panel, side: "right", backdrop: false });
  }

  closeSubmenu() {
    if (isOpen(this.submenu)) this.submenu.close();
  }
}
