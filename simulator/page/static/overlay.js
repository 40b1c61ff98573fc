// CDK-style overlay: menus render in a `.cdk-overlay-pane`, away from the button that opened them,
// behind a transparent backdrop; Escape or a click outside closes them. Menus usually mount in
// `.cdk-overlay-container`; the October 2026 mode picker mounts as a `div[popover=manual]
// .cdk-overlay-popover` next to its trigger instead (docs/architecture/evidence.md#c6, OCT), shown in the
// top layer, while the backdrop stays in the container.

import { h } from "./dom.js";

let paneCounter = 0;
const open = [];

function container() {
  return document.querySelector(".cdk-overlay-container");
}

// anchor: the opener; panel: the menu element; side: "above" the composer or "right" of an item;
// popoverHost: the element a popover-mounted menu is appended to (next to its trigger).
export function openOverlay({ anchor, panel, side = "above", onClose = () => {}, backdrop = true, popoverHost = null }) {
  const pane = h("div", { id: `cdk-overlay-${paneCounter++}`, class: "cdk-overlay-pane" }, panel);
  const box = popoverHost
    ? h("div", { popover: "manual", class: "cdk-overlay-popover cdk-overlay-connected-position-bounding-box" }, pane)
    : h("div", { class: "cdk-overlay-connected-position-bounding-box" }, pane);
  const entry = { anchor, pane, box, backdrop: null, onClose, closed: false };
  if (backdrop) {
    entry.backdrop = h("div", {
      class: "cdk-overlay-backdrop cdk-overlay-transparent-backdrop cdk-overlay-backdrop-showing",
      onclick: () => closeAll(),
    });
    container().append(entry.backdrop);
  }
  if (popoverHost) {
    popoverHost.append(box);
    box.showPopover();
  } else {
    container().append(box);
  }
  position(pane, anchor, side);
  anchor.setAttribute("aria-expanded", "true");
  open.push(entry);
  entry.close = () => close(entry);
  return entry;
}

function position(pane, anchor, side) {
  const rect = anchor.getBoundingClientRect();
  if (side === "right") {
    pane.style.left = `${Math.round(rect.right + 4)}px`;
    pane.style.top = `${Math.max(8, Math.round(rect.top))}px`;
    pane.style.maxHeight = `${Math.max(120, window.innerHeight - rect.top - 16)}px`;
  } else {
    pane.style.left = `${Math.max(8, Math.round(rect.left))}px`;
    pane.style.bottom = `${Math.round(window.innerHeight - rect.top + 6)}px`;
    pane.style.maxHeight = `${Math.max(120, rect.top - 16)}px`;
  }
}

function close(entry) {
  if (entry.closed) return;
  const index = open.indexOf(entry);
  // Closing a menu closes the sub-menus opened from it.
  if (index >= 0) for (const child of open.splice(index).reverse()) teardown(child);
}

function teardown(entry) {
  entry.closed = true;
  entry.box.remove();
  entry.backdrop?.remove();
  entry.anchor.setAttribute("aria-expanded", "false");
  entry.onClose();
}

export function closeAll() {
  for (const entry of open.splice(0).reverse()) teardown(entry);
}

export function isOpen(entry) {
  return Boolean(entry) && !entry.closed;
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && open.length) {
    event.preventDefault();
    closeAll();
  }
}, true);
