// File uploads: the uploader menu item with its transient hidden <input type=file>, the preview
// chips under the editor, and the resumable cross-origin upload of each file (docs/architecture/evidence.md#e7,
// VID HAR 2026-08-03): `start` on the push origin answers `x-goog-upload-url`, then `upload,
// finalize` sends the bytes there and answers the `/contrib_service/...` reference.

import { h, icon, snackbar } from "./dom.js";

const UPLOAD_TIMEOUT_MS = 120000;

export class Uploads {
  // origin: the push stand-in (the simulator under its other loopback name); session: the sim-only
  // token that names the account there, where this page's cookies are not sent.
  constructor({ wiz, origin, session, onChange }) {
    this.wiz = wiz;
    this.origin = origin || location.origin;
    this.session = session;
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
    const timeout = setTimeout(() => file.controller.abort(), UPLOAD_TIMEOUT_MS);
    const common = { "push-id": this.wiz.qKIAYe ?? "", "x-tenant-id": "bard-storage" };
    try {
      const query = new URLSearchParams({ upload_protocol: "resumable" });
      if (this.session) query.set("sim_session", this.session);
      const start = await fetch(`${this.origin}/upload/?${query}`, {
        method: "POST",
        credentials: "include",
        headers: {
          ...common,
          "content-type": "application/x-www-form-urlencoded;charset=UTF-8",
          "x-goog-upload-command": "start",
          "x-goog-upload-protocol": "resumable",
          "x-goog-upload-header-content-length": String(blob.size),
          "x-goog-upload-header-content-type": file.mime,
        },
        body: `File name: ${file.name}`,
        signal: file.controller.signal,
      });
      const target = start.headers.get("x-goog-upload-url");
      if (!start.ok || !target) throw new Error(`upload start answered ${start.status}`);
      const response = await fetch(target, {
        method: "POST",
        credentials: "include",
        headers: { ...common, "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
        body: blob,
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
