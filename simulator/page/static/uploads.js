// File uploads: the uploader menu item with its transient hidden <input type=file>, the preview
// chips under the editor, and the content-push style POST /upload of each file.

import { h, icon, snackbar } from "./dom.js";

const UPLOAD_TIMEOUT_MS = 120000;

export class Uploads {
  constructor({ wiz, onChange }) {
    this.wiz = wiz;
    this.onChange = onChange;
    this.files = [];
    this.host = document.querySelector(".file-preview-container");
  }

  // The menu part: `images-files-uploader` holding the item and the input, built each time the
  // menu opens so the input exists only while it is open.
  uploader(ui, closeMenu) {
    const input = h("input", { type: "file", name: "Filedata", class: "hidden-file-input", multiple: true, tabindex: "-1" });
    input.addEventListener("change", () => {
      const chosen = [...(input.files ?? [])];
      if (chosen.length) this.add(chosen);
      closeMenu();
    });
    const item = h("button", {
      class: "mat-mdc-menu-item upload-files-button",
      type: "button",
      role: "menuitem",
      "aria-label": "Upload files. Documents, data, code files",
      "data-test-id": ui === "early2026" ? "local-images-files-uploader-button" : null,
      onclick: () => input.click(),
    }, icon("attach_file"), h("span", { class: "menu-item-label gds-label-l", text: "Upload files" }));
    if (ui === "early2026") return h("images-files-uploader", { class: "images-files-uploader" }, item, input);
    const decoy = h("button", {
      class: "hidden-local-file-image-selector-button",
      type: "button",
      hidden: true,
      tabindex: "-1",
      "aria-hidden": "true",
    });
    return h("images-files-uploader", {
      class: "images-files-uploader",
      "data-test-id": "uploader-images-files-button-advanced",
    }, decoy, item, input);
  }

  pending() {
    return this.files.some((file) => !file.done);
  }

  // References of the finished uploads for the request; the chips leave the composer.
  take() {
    const ready = this.files.filter((file) => file.ref);
    for (const file of this.files) {
      file.controller?.abort();
      file.chip.remove();
    }
    this.files = [];
    this.onChange();
    return ready.map(({ ref, kind, mime, name, previewUrl }) => ({ ref, kind, mime, name, previewUrl }));
  }

  add(chosen) {
    for (const blob of chosen) this.start(blob);
    this.onChange();
  }

  start(blob) {
    const mime = blob.type || "application/octet-stream";
    const isImage = mime.startsWith("image/");
    const file = {
      name: blob.name, mime, kind: isImage ? 1 : 3, ref: null, done: false,
      previewUrl: isImage ? URL.createObjectURL(blob) : null, controller: new AbortController(),
    };
    file.chip = this.chip(file);
    this.files.push(file);
    this.host.append(file.chip);
    this.upload(file, blob);
  }

  chip(file) {
    const extension = file.name.includes(".") ? file.name.split(".").pop().toUpperCase() : "FILE";
    const preview = file.previewUrl
      ? h("gem-media-attachment", { class: "gem-media-attachment" },
        h("img", { class: "gem-attachment-style-img", src: file.previewUrl, alt: `Image preview ${file.name}` }))
      : h("div", { class: "file-icon" }, icon("description"), h("span", { class: "file-type", text: extension }));
    return h("uploader-file-preview", { class: "file-preview-chip", "data-test-id": "uploaded-file", "aria-busy": "true" },
      preview,
      h("span", { class: "filename-label", "data-test-id": "filename-label", text: file.name }),
      h("mat-progress-spinner", { class: "upload-spinner", role: "progressbar", "aria-label": "Uploading", mode: "indeterminate" }),
      h("button", {
        class: "cancel-button",
        type: "button",
        "aria-label": `Remove file ${file.name}`,
        onclick: () => this.remove(file),
      }, icon("close")));
  }

  async upload(file, blob) {
    const form = new FormData();
    form.append("file", blob, file.name);
    const timeout = setTimeout(() => file.controller.abort(), UPLOAD_TIMEOUT_MS);
    try {
      const response = await fetch("/upload", {
        method: "POST",
        headers: { "Push-ID": this.wiz.qKIAYe ?? "", "X-Tenant-Id": "bard-storage" },
        body: form,
        signal: file.controller.signal,
      });
      if (!response.ok) throw new Error(`upload answered ${response.status}`);
      file.ref = (await response.text()).trim();
    } catch (error) {
      if (!this.files.includes(file)) return;
      file.chip.classList.add("upload-error");
      snackbar(`Couldn't upload ${file.name}`);
    } finally {
      clearTimeout(timeout);
      file.done = true;
      file.chip.setAttribute("aria-busy", "false");
      file.chip.querySelector("[role=progressbar]")?.remove();
      this.onChange();
    }
  }

  remove(file) {
    file.controller.abort();
    file.chip.remove();
    this.files = this.files.filter((other) => other !== file);
    this.onChange();
  }
}
