// Tiny DOM builders shared by the page's modules.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

// Icons carry their name in attributes only, so they never leak ligature text into innerText.
export function icon(name) {
  return h("mat-icon", {
    class: "mat-icon notranslate",
    fonticon: name,
    "data-mat-icon-name": name,
    "aria-hidden": "true",
  });
}

export function snackbar(message) {
  const host = h("div", { class: "mat-mdc-snack-bar-container" },
    h("simple-snack-bar", {}, h("div", { class: "mat-mdc-snack-bar-label", role: "status", text: message })));
  document.body.append(host);
  setTimeout(() => host.remove(), 4000);
}
