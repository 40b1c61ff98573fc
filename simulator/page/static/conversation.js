// The conversation DOM: one `.conversation-container` per turn with `user-query` and
// `model-response`, rendered from cumulative answer snapshots as they stream in.

import { h, icon, snackbar } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { visibleText } from "./snapshot.js";

const VIDEO_RETRY_MS = 1500;
const VIDEO_RETRIES = 120;

export function errorText(code) {
  if (code === 1037) return "You've reached your limit for this model for now. Try again later.";
  if (code === 1060) {
    return "Gemini isn't available in your location right now, or we've noticed unusual traffic from your network. Please try again later.";
  }
  return `Something went wrong (${code})`;
}

function userQuery(prompt, files) {
  const lines = prompt.split("\n").map((line) =>
    h("p", { class: "query-text-line" }, line ? line : h("br")));
  const chips = files.map((file) => h("div", { class: "file-preview-chip user-query-file", "data-test-id": "uploaded-file" },
    file.previewUrl ? h("img", { src: file.previewUrl, alt: file.name }) : icon("description"),
    h("span", { class: "filename-label", "data-test-id": "filename-label", text: file.name })));
  return h("user-query", { class: "user-query" },
    h("h2", { class: "cdk-visually-hidden", text: "You said" }),
    h("user-query-content", { class: "user-query-container" },
      files.length ? h("div", { class: "file-preview-container" }, chips) : null,
      h("div", { class: "query-content" }, h("div", { class: "query-text", dir: "ltr" }, lines))));
}

function messageActions(getText) {
  const button = (host, label, name, testId, onclick) => h(host, {},
    h("button", { class: "mdc-icon-button", type: "button", "aria-label": label, "data-test-id": testId, onclick }, icon(name)));
  const toggle = (event) => event.currentTarget.setAttribute("aria-pressed", "true");
  return h("message-actions", { class: "message-actions" },
    h("div", { class: "actions-container-v2" }, h("div", { class: "buttons-wrapper" },
      button("thumb-up-button", "Good response", "thumb_up", "thumb-up-button", toggle),
      button("thumb-down-button", "Bad response", "thumb_down", "thumb-down-button", toggle),
      button("copy-button", "Copy response", "content_copy", "copy-button", async () => {
        try {
          await navigator.clipboard.writeText(getText());
          snackbar("Copied to clipboard");
        } catch {
          snackbar("Couldn't copy");
        }
      }),
      button("div", "Show more options", "more_vert", "more-menu-button", () => {}))));
}

export class TurnView {
  // onConfirmResearch: called when the plan card's "Start research" is clicked; onDownload({cid, rid,
  // rcid}, image, index): the full-size download button of a generated image; onRetry: the error
  // surface's "Try again" / "Retry response".
  constructor(history, { prompt, files = [], onConfirmResearch = () => {}, onDownload = () => {}, onRetry = () => {} }) {
    this.onConfirmResearch = onConfirmResearch;
    this.onDownload = onDownload;
    this.onRetry = onRetry;
    this.renderedText = null;
    this.imageKey = "";
    this.finished = false;
    this.answer = null;
    this.markdown = h("div", { class: "markdown markdown-main-panel", "aria-live": "polite", "aria-busy": "true", dir: "ltr" });
    this.message = h("message-content", { class: "model-response-text", "data-test-id": "message-content" }, this.markdown);
    this.structured = h("structured-content-container", { class: "model-response-text" }, this.message);
    this.body = h("div", { class: "response-container" },
      h("h2", { class: "cdk-visually-hidden", text: "Gemini said" }), this.structured);
    this.response = h("model-response", { class: "model-response" },
      h("response-container", { class: "response-container-wrapper" }, this.body));
    this.root = h("div", { class: "conversation-container" }, userQuery(prompt, files), this.response);
    history.append(this.root);
    this.root.scrollIntoView({ block: "end" });
  }

  render(answer) {
    this.answer = answer;
    if (answer.rid && !this.root.id) {
      this.root.id = answer.rid;
      this.message.id = `message-content-id-${answer.rid}`;
    }
    if (answer.thoughts) this.renderThoughts(answer.thoughts);
    const text = visibleText(answer.text);
    if (text !== this.renderedText) {
      this.renderedText = text;
      for (const child of [...this.markdown.children]) if (!child.classList.contains("attachment-container")) child.remove();
      const template = document.createElement("template");
      template.innerHTML = renderMarkdown(text);
      this.markdown.prepend(template.content);
    }
    this.renderImages(answer.images);
    this.renderWebImages(answer.webImages ?? []);
    this.renderVideo(answer);
    if (answer.plan) this.renderPlan(answer.plan);
    if (answer.modelLabel) this.response.dataset.servedModel = answer.modelLabel;
  }

  renderThoughts(thoughts) {
    if (!this.thoughts) {
      this.thoughtsBody = h("div", { class: "thoughts-content markdown", "data-test-id": "thoughts-content" });
      const header = h("button", {
        class: "thoughts-header-button",
        type: "button",
        "data-test-id": "thoughts-header-button",
        "aria-expanded": "true",
        onclick: () => {
          const expanded = header.getAttribute("aria-expanded") === "true";
          header.setAttribute("aria-expanded", String(!expanded));
          this.thoughtsBody.classList.toggle("collapsed", expanded);
        },
      }, h("span", { class: "thoughts-header-label", text: "Show thinking" }), icon("expand_more"));
      this.thoughts = h("model-thoughts", { class: "thoughts-container", "data-test-id": "model-thoughts" }, header, this.thoughtsBody);
      this.structured.before(this.thoughts);
    }
    this.thoughtsBody.innerHTML = renderMarkdown(thoughts);
  }

  renderImages(images) {
    const key = images.map((image) => image.url).join("\n");
    if (key === this.imageKey) return;
    this.imageKey = key;
    this.markdown.querySelector(".generated-images")?.remove();
    if (!images.length) return;
    const items = images.map((image, index) => {
      const src = /=s\d+(-rj)?$|=d-I/.test(image.url) ? image.url : `${image.url}=s1024-rj`;
      const base = (image.alt || `Generated image ${index + 1}`).replace(/, AI generated$/, "");
      return h("generated-image", { class: "generated-image-host" },
        h("single-image", { class: "generated-image large" },
          h("div", { class: "image-container" },
            h("img", { class: "image loaded", src, alt: `${base}, AI generated`, loading: "eager" }),
            h("div", { class: "generated-image-controls" },
              h("download-generated-image-button", {},
                h("button", {
                  class: "on-hover-button mdc-icon-button",
                  type: "button",
                  "data-test-id": "download-generated-image-button",
                  "aria-label": "Download full size image",
                  onclick: () => {
                    const ids = { cid: this.answer?.cid ?? "", rid: this.answer?.rid ?? "", rcid: this.answer?.rcid ?? "" };
                    this.onDownload(ids, image, index);
                  },
                }, icon("download")))))));
    });
    this.markdown.append(h("div", { class: "attachment-container generated-images" }, items));
  }

  renderWebImages(images) {
    const key = images.map((image) => image.url).join("\n");
    if (key === (this.webKey ?? "")) return;
    this.webKey = key;
    this.markdown.querySelector(".web-images")?.remove();
    if (!images.length) return;
    this.markdown.append(h("div", { class: "attachment-container web-images" },
      images.map((image) => h("web-image", { class: "web-image" }, h("img", { src: image.url, alt: image.alt, loading: "eager" })))));
  }

  renderVideo(answer) {
    const pendingChip = this.markdown.querySelector(".video-gen-chip");
    if (answer.video) {
      pendingChip?.remove();
      if (this.videoUrl === answer.video) return;
      this.videoUrl = answer.video;
      const video = h("video", { class: "video-player", src: answer.video, controls: true, preload: "metadata", playsinline: true });
      let retries = 0;
      // The download URL answers 206 while the video is still rendering; retry until it plays.
      video.addEventListener("error", () => {
        if (retries++ >= VIDEO_RETRIES || !video.isConnected) return;
        setTimeout(() => {
          video.src = `${answer.video}`;
          video.load();
        }, VIDEO_RETRY_MS);
      });
      this.markdown.querySelector(".generated-video")?.remove();
      this.markdown.append(h("div", { class: "attachment-container generated-video" },
        h("generated-video", {}, h("video-player", {}, video))));
    } else if (answer.videoPending && !pendingChip) {
      this.markdown.append(h("div", { class: "attachment-container video-gen-chip" },
        h("span", { class: "video-gen-chip-label", text: "Generating your video…" })));
    }
  }

  renderPlan(plan) {
    const key = JSON.stringify(plan);
    if (key === this.planKey) return;
    this.planKey = key;
    this.plan?.remove();
    const confirm = h("button", {
      class: "confirm-button mdc-button",
      type: "button",
      "data-test-id": "confirm-button",
      onclick: () => {
        confirm.disabled = true;
        this.onConfirmResearch();
      },
    }, h("span", { class: "mdc-button__label", text: "Start research" }));
    this.plan = h("deep-research-confirmation-widget", { class: "deep-research-confirmation-widget" },
      h("div", { class: "plan-container" },
        h("div", { class: "plan-header" }, icon("travel_explore"), h("span", { class: "title", "data-test-id": "title", text: plan.title })),
        h("div", { class: "research-steps", "data-test-id": "research-steps" }, plan.steps.map((step) =>
          h("div", { class: "research-step" },
            h("div", { class: "research-step-title", text: step.title }),
            h("div", { class: "research-step-description", text: step.description })))),
        plan.eta ? h("div", { class: "plan-eta", text: plan.eta }) : null,
        h("div", { class: "plan-actions" },
          h("button", { class: "mdc-button", type: "button", "data-test-id": "edit-plan-button", text: "Edit plan" }), confirm)));
    this.structured.after(this.plan);
  }

  // An immersive document (canvas) or research report: a chip in the turn, the text in the panel.
  renderDocument(kind, doc, panels) {
    const title = doc.title || documentTitle(doc.text);
    if (!this.chip) {
      this.chip = h("immersive-entry-chip", { class: "immersive-entry-chip" },
        h("button", { class: "container", type: "button", "data-test-id": "immersive-entry-chip", onclick: () => panels.show() },
          icon(kind === "research" ? "travel_explore" : "note_stack"),
          h("span", { class: "title-text", text: title })));
      (this.plan ?? this.structured).after(this.chip);
    } else {
      this.chip.querySelector(".title-text").textContent = title;
    }
    panels.render(kind, title, doc.text);
  }

  // INT (late 2026): a failed turn shows `response-error` outside `message-content`, with "Try again"
  // and "Retry response" buttons. `data-error-code` is our choice (no source shows the code).
  showError(message, code) {
    this.body.append(h("response-error", { class: "response-error", role: "alert", "data-error-code": String(code) },
      h("div", { class: "error-text gds-body-m", text: message }),
      h("div", { class: "error-actions" },
        h("button", { class: "mdc-button try-again-button", type: "button", text: "Try again", onclick: () => this.onRetry() }),
        h("button", { class: "mdc-icon-button retry-button", type: "button", "aria-label": "Retry response", onclick: () => this.onRetry() },
          icon("refresh")))));
  }

  showStopped() {
    this.structured.after(h("div", { class: "stopped-response", text: "You stopped this response" }));
  }

  finish() {
    if (this.finished) return;
    this.finished = true;
    this.markdown.setAttribute("aria-busy", "false");
    this.body.append(messageActions(() => this.answer?.text ?? ""));
  }
}

export function documentTitle(text) {
  const heading = text.split("\n").find((line) => /^#{1,6}\s+\S/.test(line));
  if (heading) return heading.replace(/^#+\s+/, "").trim();
  const first = text.split("\n").find((line) => line.trim() && !line.startsWith("```"));
  return (first ?? "Document").trim().slice(0, 60);
}

function markdownBody(text) {
  const body = h("div", { id: "extended-response-markdown-content", class: "markdown ProseMirror", "aria-busy": "false" });
  body.innerHTML = renderMarkdown(text);
  return body;
}

// The single immersive panel beside the chat history (canvas documents, research reports).
export class ImmersivePanels {
  constructor(host) {
    this.host = host;
    this.panel = null;
  }

  render(kind, title, text) {
    const contentKey = `${kind}\n${title}\n${text}`;
    if (this.key === contentKey) return;
    this.key = contentKey;
    const toolbar = h("toolbar", { class: "immersive-toolbar" },
      h("h2", { class: "title-text", text: title }),
      h("button", { class: "mdc-button", type: "button", "data-test-id": "export-menu-button", "aria-label": "Share and export" }, icon("share")),
      h("button", { class: "mdc-icon-button", type: "button", "data-test-id": "close-button", "aria-label": "Close", onclick: () => this.hide() }, icon("close")));
    const code = text.match(/^```([\w+#.-]*)[^\n]*\n([\s\S]*?)\n?```\s*$/);
    let inner;
    if (kind === "research") {
      inner = h("deep-research-immersive-panel", { class: "deep-research-immersive-panel" }, toolbar, h("toc-menu", {}), markdownBody(text));
    } else if (code) {
      // Code canvases hold every line in the DOM (the real Monaco view only renders visible ones).
      const lines = code[2].split("\n").map((line) => h("div", { class: "view-line", text: line }));
      inner = h("code-immersive-panel", { class: "code-immersive-panel", "data-language": code[1] }, toolbar,
        h("xap-code-editor", { "data-test-id": "code-editor" }, h("div", { class: "view-lines" }, lines)),
        h("button", { class: "mdc-icon-button", type: "button", "data-test-id": "download-preview-button", "aria-label": "Download" }, icon("download")));
    } else {
      inner = h("extended-response-panel", { class: "extended-response-panel" }, toolbar,
        h("immersive-editor", { class: "immersive-editor" }, markdownBody(text)), h("canvas-create-button", {}));
    }
    this.panel?.remove();
    this.panel = h("immersive-panel", { class: "immersive-panel" }, inner);
    this.host.append(this.panel);
  }

  show() {
    if (this.panel) this.panel.hidden = false;
  }

  hide() {
    if (this.panel) this.panel.hidden = true;
  }
}
