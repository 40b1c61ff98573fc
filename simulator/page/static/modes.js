// The mode picker of every UI generation (docs/simulator-contract.md "The page").
//
// October 2026 (docs/architecture/evidence.md#c1 to C6, OCT): a `gem-menu` mounted as a popover next to the
// trigger, model rows `gem-menu-item[data-mode-id]`, a separator, then the thinking control. Mid 2026
// (REG, ZHT): the same rows in the CDK overlay container. Both show the committed choice as
// `.selected` on the row and its `gem-menu-item-content` (TOK), and fill every row's `.label` and
// `.sublabel` only `labelFillDelayMs` after the menu opens (C13, MSW). Thinking is a level of the
// chosen model (C8): inline Low/Medium/High rows, a "Thinking level" submenu (Standard/Extended) or an
// "Extended thinking" toggle row. Early 2026: `gds-mode-switch-menu` radio items, Thinking a model.

import { h, icon } from "./dom.js";
import { closeAll, isOpen, openOverlay } from "./overlay.js";

const MODEL_JSLOG = 242569;
const LEVEL_JSLOG = 323336;
const MENU_JSLOG = 306026;
const EXTENDED = 2;
const NORMAL = 1;

// Gemini's BardVeMetadataKey payload: base64 of JSON with the entry in slot 22 (OCT).
function jslogMeta(entry) {
  return btoa(JSON.stringify([...Array(22).fill(null), entry]));
}

// Rows are visible at once; their texts are written only after the delay, as Angular does.
class LateLabels {
  constructor(delayMs) {
    this.delayMs = delayMs;
    this.pending = [];
  }

  add(element, text) {
    if (this.delayMs > 0) this.pending.push([element, text]);
    else element.textContent = text;
  }

  start() {
    if (!(this.delayMs > 0)) return;
    const pending = this.pending;
    setTimeout(() => pending.forEach(([element, text]) => (element.textContent = text)), this.delayMs);
  }
}

export class ModePicker {
  // models: [{key, short, label, description, hex, category, test_id}]; thinking: {control, levels,
  // submenuLabel} from the page configuration.
  constructor({ ui, models, defaultKey, thinking, labelFillDelayMs }) {
    this.ui = ui;
    this.models = models;
    this.current = models.find((model) => model.key === defaultKey) ?? models[0];
    this.control = thinking.control;
    this.levels = thinking.levels;
    this.submenuLabel = thinking.submenuLabel;
    this.level = this.control === "levels" || this.control === "submenu" ? this.levels[0] : null;
    this.extendedOn = false;
    this.fillDelayMs = labelFillDelayMs;
    this.button = document.querySelector("bard-mode-switcher button");
    this.menu = null;
    this.submenu = null;
    this.button.addEventListener("click", () => (isOpen(this.menu) ? closeAll() : this.open()));
    this.refreshButton();
  }

  // What the request carries in header [15] and inner[80] (OCT jslog codes: Low 1, Medium 4, High 2).
  levelCode() {
    if (this.control === "toggle") return this.extendedOn ? EXTENDED : NORMAL;
    return this.level?.code ?? NORMAL;
  }

  // The pill names the model's short name, plus "Extended" (REG; INT "currently Flash Extended").
  pill() {
    return `${this.current.short}${this.levelCode() === EXTENDED ? " Extended" : ""}`;
  }

  refreshButton() {
    if (this.ui === "early2026") {
      this.button.querySelector("[data-test-id='logo-pill-label-container'] span").textContent = this.current.label;
      return;
    }
    const pill = this.pill();
    this.button.setAttribute("aria-label", `Open mode picker, currently ${pill}`);
    const text = this.button.querySelector(".picker-primary-text");
    if (text) text.textContent = pill;
  }

  commit(change) {
    change();
    this.refreshButton();
    closeAll();
  }

  select(model) {
    this.commit(() => (this.current = model));
  }

  open() {
    closeAll();
    if (this.ui === "early2026") {
      this.menu = openOverlay({ anchor: this.button, panel: this.earlyPanel() });
      return;
    }
    const late = new LateLabels(this.fillDelayMs);
    const menu = this.gemMenu(late);
    if (this.ui === "oct2026") {
      const panel = h("div", { class: "container" },
        h("div", { class: "popover-menu", "data-test-id": "bard-mode-desktop-gem-menu" }, menu));
      this.menu = openOverlay({ anchor: this.button, panel, popoverHost: this.button.parentElement });
    } else {
      this.menu = openOverlay({ anchor: this.button, panel: menu });
    }
    late.start();
  }

  earlyPanel() {
    const items = this.models.map((model) => {
      const selected = model.hex === this.current.hex;
      return h("button", {
        class: `mat-mdc-menu-item bard-mode-list-button${selected ? " is-selected" : ""}`,
        type: "button",
        role: "menuitemradio",
        "aria-checked": String(selected),
        "data-test-id": model.test_id,
        "data-mode-id": model.hex,
        onclick: () => this.select(model),
      },
      h("div", { class: "title-and-description" },
        h("span", { class: "mode-title gds-label-l", text: model.label }),
        h("span", { class: "mode-desc gds-body-s", text: model.description })),
      selected ? icon("check_circle") : null);
    });
    return h("div", { class: "mat-mdc-menu-panel gds-mode-switch-menu", role: "menu", tabindex: "-1" },
      h("div", { class: "mat-mdc-menu-content" }, items));
  }

  gemMenu(late) {
    const rows = this.models.map((model) => this.row(late, {
      label: model.label,
      sublabel: model.description,
      selected: model.hex === this.current.hex,
      attrs: {
        "data-mode-id": model.hex,
        "data-test-id": model.test_id,
        jslog: `${MODEL_JSLOG};track:generic_click,impression;BardVeMetadataKey:${jslogMeta([model.hex])}`,
      },
      onclick: () => this.select(model),
    }));
    const thinking = this.thinkingRows(late);
    // Moving to another row of the main menu closes the thinking-level submenu.
    for (const row of [...rows, ...thinking]) {
      if (row.getAttribute("value") !== "thinking_level") row.addEventListener("mouseenter", () => this.closeSubmenu());
    }
    return h("gem-menu", {
      id: this.button.getAttribute("aria-controls"),
      class: "gem-menu mode-menu",
      role: "menu",
      tabindex: "-1",
      "data-test-id": "gem-mode-menu",
      jslog: `${MENU_JSLOG};track:impression`,
    }, rows, thinking.length ? h("mat-divider", { class: "mat-divider", role: "separator" }) : null, thinking);
  }

  // One `gem-menu-item` in OCT's markup; its texts go through `late`.
  row(late, { label, sublabel, selected, attrs = {}, onclick = null }) {
    const labelText = h("span", { class: "label gds-label-l" });
    const sublabelText = h("div", { class: "sublabel gds-body-s" });
    late.add(labelText, label);
    late.add(sublabelText, sublabel);
    const content = h("gem-menu-item-content", { class: `checkmark-only${selected ? " selected" : ""}` },
      h("div", { class: "leading-container" }, selected ? h("gem-icon", { "aria-label": "Selected", fonticonname: "check" }) : null),
      h("div", { class: "label-container" }, labelText, sublabelText),
      h("div", { class: "trailing-container" }));
    const item = h("gem-menu-item", {
      class: `gem-menu-item${selected ? " selected" : ""}`,
      role: "menuitem",
      tabindex: "-1",
      "aria-disabled": "false",
      ...(this.ui === "oct2026" ? { "aria-haspopup": "false" } : {}),
      ...attrs,
    }, content);
    if (onclick) item.addEventListener("click", onclick);
    return item;
  }

  thinkingRows(late) {
    if (this.control === "levels") {
      // OCT: no data-mode-id on these rows; their jslog names the model and the level code.
      return this.levels.map((level) => this.row(late, {
        label: level.label,
        sublabel: level.sublabel,
        selected: level.key === this.level.key,
        attrs: {
          jslog: `${LEVEL_JSLOG};track:generic_click,impression;BardVeMetadataKey:${jslogMeta([this.current.hex, level.code, 1])}`,
        },
        onclick: () => this.commit(() => (this.level = level)),
      }));
    }
    if (this.control === "toggle") {
      const [toggle] = this.levels;
      return [this.row(late, {
        label: toggle.label,
        sublabel: toggle.sublabel,
        selected: this.extendedOn,
        onclick: () => this.commit(() => (this.extendedOn = !this.extendedOn)),
      })];
    }
    if (this.control !== "submenu") return [];
    // ZHT: the item reads "Thinking level <current value>"; C9: aria-haspopup unverified, so
    // October 2026 carries "false" like its other rows and mid 2026 "menu".
    const item = this.row(late, {
      label: this.submenuLabel,
      sublabel: this.level.label,
      selected: false,
      attrs: { value: "thinking_level", "aria-haspopup": this.ui === "oct2026" ? "false" : "menu", "aria-expanded": "false" },
    });
    item.querySelector(".trailing-container").append(icon("chevron_right"));
    const show = () => this.openSubmenu(item);
    item.addEventListener("click", show);
    item.addEventListener("mouseenter", show);
    return [item];
  }

  openSubmenu(anchor) {
    if (isOpen(this.submenu)) return;
    const late = new LateLabels(this.fillDelayMs);
    const rows = this.levels.map((level) => this.row(late, {
      label: level.label,
      sublabel: level.sublabel,
      selected: level.key === this.level.key,
      onclick: () => this.commit(() => (this.level = level)),
    }));
    const menu = h("gem-menu", { class: "gem-menu thinking-level-menu", role: "menu", tabindex: "-1" }, rows);
    const oct = this.ui === "oct2026";
    this.submenu = openOverlay({
      anchor,
      panel: oct ? h("div", { class: "container" }, h("div", { class: "popover-menu" }, menu)) : menu,
      side: "right",
      backdrop: false,
      popoverHost: oct ? this.button.parentElement : null,
    });
    late.start();
  }

  closeSubmenu() {
    if (isOpen(this.submenu)) this.submenu.close();
  }
}
