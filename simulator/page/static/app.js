// Boots the simulated app page: reads the tokens and configuration the server embedded, wires the
// editor, menus and send button, sends StreamGenerate with XMLHttpRequest, renders the streamed
// snapshots, and keeps the session's cookies rotating while signed in.

import { h, icon } from "./dom.js";
import { Editor } from "./editor.js";
import { FrameReader } from "./framing.js";
import { wireComposerMenus } from "./menus.js";
import { ModePicker } from "./modes.js";
import { buildStreamGenerate, newUuid } from "./request.js";
import { applyFrame, emptyAnswer } from "./snapshot.js";
import { ImmersivePanels, TurnView, errorText } from "./conversation.js";
import { Tools } from "./tools.js";
import { Uploads } from "./uploads.js";

const ROTATION_TIMEOUT_MS = 15000;
const DEFAULT_PLACEHOLDER = "Ask Gemini";
const DROPPED = 13;

const wiz = window.WIZ_global_data ?? {};
const config = JSON.parse(document.getElementById("sim-page-config").textContent);
const lang = new URLSearchParams(location.search).get("hl") ?? wiz.TuX5cc ?? "en";
const clientUuid = newUuid();

const state = {
  chat: { cid: "", rid: "", rcid: "", contextToken: "" },
  turnIndex: 0,
  request: null,
  view: null,
  sendKey: "",
};

const chatHistory = document.getElementById("chat-history");
const panels = new ImmersivePanels(document.querySelector(".content-wrapper"));
const sendHost = document.querySelector(".send-button-container");

const editor = new Editor(document.querySelector("rich-textarea > .ql-editor"), {
  onChange: () => refreshSendButton(),
  onSubmit: () => send(),
});
const modes = new ModePicker({ ui: config.ui, modes: config.modes, defaultKey: config.defaultMode, onChange: () => {} });
const tools = new Tools({
  tools: config.tools,
  onChange: (tool) => editor.setPlaceholder(tool?.placeholder ?? DEFAULT_PLACEHOLDER),
});
const uploads = new Uploads({ wiz, onChange: () => refreshSendButton() });
wireComposerMenus({ ui: config.ui, tier: config.tier, tools, uploads });

// The send button exists only with something to send; while answering it becomes "Stop response".
function refreshSendButton() {
  const busy = state.request !== null;
  const empty = editor.isEmpty();
  const disabled = !busy && uploads.pending();
  const key = busy ? "stop" : empty ? "none" : disabled ? "disabled" : "send";
  if (key === state.sendKey) return;
  state.sendKey = key;
  sendHost.replaceChildren();
  if (key === "none") return;
  const early = config.ui === "early2026";
  const iconName = busy ? "stop" : early ? "send" : "arrow_upward";
  const classes = ["mdc-icon-button", early ? "send-button" : "trailing-submit-button", busy ? "stop" : "submit"];
  const button = h("button", {
    class: classes.join(" "),
    type: "button",
    "aria-label": busy ? "Stop response" : "Send message",
    "aria-disabled": String(disabled),
    tabindex: "0",
    onclick: () => (state.request ? stop() : send()),
  }, icon(iconName));
  sendHost.append(early ? h("gem-icon-button", { class: `send-button ${busy ? "stop" : "submit"}` }, button) : button);
}

function send(promptOverride = null) {
  if (state.request) return;
  const prompt = promptOverride ?? editor.getText();
  if (!prompt.trim() || (promptOverride === null && uploads.pending())) return;
  const files = promptOverride === null ? uploads.take() : [];
  if (promptOverride === null) editor.clear();
  const tool = tools.selected;
  const view = new TurnView(chatHistory, { prompt, files, onConfirmResearch: () => send("Start research") });
  const request = buildStreamGenerate({
    wiz, lang, prompt, files,
    chat: state.chat,
    turnIndex: state.turnIndex,
    gem: config.gem,
    toolCode: tool?.code ?? null,
    mode: modes.current,
    capacity: config.capacity,
    clientUuid,
  });
  stream(request, view, tool);
}

function stream(request, view, tool) {
  const xhr = new XMLHttpRequest();
  const reader = new FrameReader();
  const answer = emptyAnswer();
  let failure = null;
  state.request = xhr;
  state.view = view;
  refreshSendButton();

  const consume = () => {
    if (failure !== null) return;
    try {
      for (const frame of reader.read(xhr.responseText)) applyFrame(answer, frame);
    } catch (error) {
      failure = xhr.status && xhr.status !== 200 ? xhr.status : DROPPED;
    }
    if (answer.hasContent) {
      view.render(answer);
      if (answer.canvas) view.renderDocument(tool?.key === "deep_research" ? "research" : "canvas", answer.canvas, panels);
    }
  };

  xhr.open("POST", request.url);
  for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
  xhr.onprogress = consume;
  xhr.onload = () => {
    consume();
    if (xhr.status !== 200) failure = xhr.status;
    else if (!answer.ended && !answer.done && answer.errorCode === null) failure = failure ?? DROPPED;
    settle(view, answer, failure);
  };
  xhr.onerror = () => {
    consume();
    settle(view, answer, failure ?? DROPPED);
  };
  xhr.onabort = () => settle(view, answer, null, true);
  xhr.send(request.body);
}

// The turn is over (finished, failed or stopped): show the outcome and hand the composer back.
function settle(view, answer, failure, stopped = false) {
  if (state.view !== view) return;
  state.request = null;
  state.view = null;
  if (stopped) {
    view.showStopped();
  } else if (!answer.hasContent && answer.errorCode !== null) {
    view.showError(errorText(answer.errorCode), answer.errorCode);
  } else if (!answer.hasContent || (failure !== null && !answer.done)) {
    const code = failure ?? answer.errorCode ?? DROPPED;
    view.showError(errorText(code), code);
  }
  if (answer.hasContent && answer.cid) rememberChat(answer);
  view.finish();
  refreshSendButton();
}

function rememberChat(answer) {
  const isNew = !state.chat.cid;
  state.chat = {
    cid: answer.cid,
    rid: answer.rid ?? state.chat.rid,
    rcid: answer.rcid ?? state.chat.rcid,
    contextToken: answer.contextToken ?? state.chat.contextToken,
  };
  state.turnIndex += 1;
  if (isNew && answer.cid.startsWith("c_")) window.history.replaceState(null, "", `/app/${answer.cid.slice(2)}`);
}

// /app/<cid>: render the earlier turns and continue the same chat.
function restoreChat(chat) {
  const turns = Array.isArray(chat.turns) ? chat.turns : [];
  for (const turn of turns) {
    const view = new TurnView(chatHistory, { prompt: String(turn.prompt ?? ""), onConfirmResearch: () => send("Start research") });
    const answer = emptyAnswer();
    answer.hasContent = true;
    answer.done = true;
    answer.text = String(turn.text ?? "");
    answer.thoughts = String(turn.thoughts ?? "");
    answer.images = (Array.isArray(turn.images) ? turn.images : []).map((url) => ({ url: String(url), alt: "" }));
    view.render(answer);
    view.finish();
  }
  state.chat = {
    cid: String(chat.cid ?? ""),
    rid: String(chat.rid ?? ""),
    rcid: String(chat.rcid ?? ""),
    contextToken: String(chat.context_token ?? ""),
  };
  state.turnIndex = turns.length;
}

function stop() {
  state.request?.abort();
}

function startCookieRotation() {
  const seconds = Number(wiz.simRotationInterval ?? 0);
  if (!wiz.SNlM0e || !(seconds > 0)) return;
  setInterval(() => {
    fetch("/RotateCookies", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '[000,"-0000000000000000000"]',
      signal: AbortSignal.timeout(ROTATION_TIMEOUT_MS),
    }).catch(() => {});
  }, seconds * 1000);
}

// Sim-only (signin_marker_delay): the signed-out markers the server held back appear late.
function revealLateSignIn() {
  const templates = document.querySelectorAll("template[data-late-signin]");
  if (!templates.length) return;
  setTimeout(() => templates.forEach((held) => held.replaceWith(held.content)), config.signinMarkerDelay * 1000);
}

function wireSideNav() {
  const toggle = document.querySelector("[data-test-id='side-nav-menu-button']");
  const nav = document.querySelector("bard-sidenav");
  toggle.addEventListener("click", () => {
    const expanded = nav.classList.toggle("collapsed") === false;
    toggle.setAttribute("aria-expanded", String(expanded));
    toggle.setAttribute("aria-label", expanded ? "Close sidebar" : "Open sidebar");
  });
}

if (config.chat && !config.chatMissing) restoreChat(config.chat);
wireSideNav();
revealLateSignIn();
startCookieRotation();
refreshSendButton();
document.body.dataset.ready = "true";
