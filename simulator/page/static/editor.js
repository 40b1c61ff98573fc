// A Quill-like prompt editor: one <p> per line, `ql-blank` when empty, placeholder in
// data-placeholder. Inserts are applied to a text model and re-rendered so that what the user (or
// CDP Input.insertText) put in comes back out exactly; anything the browser edits natively is
// normalised back to that canonical shape on the following `input` event.

const BLOCKS = new Set(["P", "DIV", "LI", "H1", "H2", "H3", "H4", "H5", "H6", "PRE", "BLOCKQUOTE", "UL", "OL"]);
const INSERTS = new Set([
  "insertText", "insertReplacementText", "insertFromPaste", "insertFromDrop",
  "insertParagraph", "insertLineBreak", "insertFromYank",
]);

// DOM -> text: blocks and <br> are line breaks, a trailing <br> in a block is only a placeholder,
// NBSP is a space, no trailing newline is invented.
export function domToText(root) {
  const lines = [];
  let current = null;
  const pushText = (value) => {
    const parts = value.replace(/\u00a0/g, " ").split("\n");
    parts.forEach((part, index) => {
      if (index > 0) {
        lines.push(current ?? "");
        current = "";
      }
      current = (current ?? "") + part;
    });
  };
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        pushText(child.data);
      } else if (child.nodeName === "BR") {
        lines.push(current ?? "");
        current = null;
      } else if (BLOCKS.has(child.nodeName)) {
        if (current !== null) lines.push(current);
        current = null;
        const before = lines.length;
        walk(child);
        if (current !== null) lines.push(current);
        else if (lines.length === before) lines.push("");
        current = null;
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        walk(child);
      }
    }
  };
  walk(root);
  if (current !== null) lines.push(current);
  return lines.join("\n");
}

export class Editor {
  constructor(element, { onChange, onSubmit }) {
    this.el = element;
    this.onChange = onChange;
    this.onSubmit = onSubmit;
    this.placeholder = element.dataset.placeholder ?? "";
    element.addEventListener("keydown", (event) => this.keydown(event));
    element.addEventListener("beforeinput", (event) => this.beforeinput(event));
    element.addEventListener("input", () => this.afterInput());
    element.addEventListener("paste", (event) => this.paste(event));
    this.setText(domToText(element), 0, false);
  }

  getText() {
    return domToText(this.el);
  }

  isEmpty() {
    return this.getText().trim() === "";
  }

  clear() {
    this.setText("", 0);
    this.onChange();
  }

  setPlaceholder(text) {
    this.el.dataset.placeholder = text;
  }

  keydown(event) {
    if (event.key !== "Enter" || event.isComposing || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    if (event.shiftKey) this.insert("\n");
    else this.onSubmit();
  }

  beforeinput(event) {
    if (!INSERTS.has(event.inputType) || !event.cancelable) return;
    let data = event.data;
    if (event.inputType === "insertParagraph" || event.inputType === "insertLineBreak") data = "\n";
    if (data === null || data === undefined) data = event.dataTransfer?.getData("text/plain") ?? "";
    event.preventDefault();
    this.insert(data);
  }

  // Like Quill's clipboard module: any paste event (trusted or dispatched by script) is cancelled and
  // its text/plain inserted by the editor itself, newlines becoming lines; nothing is submitted.
  paste(event) {
    if (event.defaultPrevented) return;
    event.preventDefault();
    this.insert(event.clipboardData?.getData("text/plain") ?? "");
  }

  afterInput() {
    if (!this.isCanonical()) {
      const [start] = this.selectionOffsets();
      this.setText(this.getText(), start);
    } else {
      this.el.classList.toggle("ql-blank", this.getText() === "");
    }
    this.onChange();
  }

  insert(data) {
    const text = this.getText();
    const [start, end] = this.selectionOffsets();
    const clean = data.replace(/\r\n?/g, "\n");
    this.setText(text.slice(0, start) + clean + text.slice(end), start + clean.length);
    this.onChange();
  }

  isCanonical() {
    for (const child of this.el.childNodes) {
      if (child.nodeName !== "P" || child.childNodes.length !== 1) return false;
      const only = child.firstChild;
      if (only.nodeName === "BR") continue;
      if (only.nodeType !== Node.TEXT_NODE || only.data === "" || /[\n\u00a0]/.test(only.data)) return false;
    }
    return this.el.childNodes.length > 0;
  }

  setText(text, caret, moveCaret = true) {
    const lines = text.split("\n");
    const paragraphs = lines.map((line) => {
      const p = document.createElement("p");
      if (line) p.textContent = line;
      else p.append(document.createElement("br"));
      return p;
    });
    this.el.replaceChildren(...paragraphs);
    this.el.classList.toggle("ql-blank", text === "");
    if (moveCaret) this.placeCaret(paragraphs, lines, caret);
  }

  placeCaret(paragraphs, lines, caret) {
    const selection = window.getSelection();
    if (!selection || (document.activeElement !== this.el && !this.el.contains(document.activeElement))) return;
    let remaining = caret;
    let index = 0;
    while (index < lines.length - 1 && remaining > lines[index].length) {
      remaining -= lines[index].length + 1;
      index++;
    }
    const p = paragraphs[index];
    const range = document.createRange();
    if (p.firstChild && p.firstChild.nodeType === Node.TEXT_NODE) {
      range.setStart(p.firstChild, Math.min(remaining, p.firstChild.data.length));
    } else {
      range.setStart(p, 0);
    }
    range.collapse(true);
    selection.removeAllRanges();
    selection.addRange(range);
  }

  selectionOffsets() {
    const selection = window.getSelection();
    const length = this.getText().length;
    if (!selection || selection.rangeCount === 0) return [length, length];
    const range = selection.getRangeAt(0);
    if (!this.el.contains(range.startContainer) || !this.el.contains(range.endContainer)) return [length, length];
    const start = this.offsetOf(range.startContainer, range.startOffset);
    const end = range.collapsed ? start : this.offsetOf(range.endContainer, range.endOffset);
    return [Math.min(start, end), Math.max(start, end)];
  }

  offsetOf(node, offset) {
    const range = document.createRange();
    range.setStart(this.el, 0);
    range.setEnd(node, offset);
    let value = domToText(range.cloneContents()).length;
    // A position between two top-level blocks sits at the start of the next line.
    if (node === this.el && offset > 0 && offset < this.el.childNodes.length &&
        BLOCKS.has(this.el.childNodes[offset - 1].nodeName)) value += 1;
    return value;
  }
}
