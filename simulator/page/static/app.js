// Boots the simulated app page: reads the tokens and configuration the server embedded, asks the
// account status RPC (otAQ7b) which modes and tools this account may use, wires the editor, menus
// and send button, sends StreamGenerate with XMLHttpRequest, renders the streamed snapshots, and
// keeps the session's cookies rotating while signed in. Side RPCs go through rpc.js.

import { h, icon, snackbar } from "./dom.js";
import { Editor } from "./editor.js";
import { FrameReader } from "./framing.js";
import { wireComposerMenus } from "./menus.js";
import { ModePicker } from "./modes.js";
import { buildStreamGenerate, newUuid } from "./request.js";
import { applyFrame, emptyAnswer, videoUrl } from "./snapshot.js";
import { ImmersivePanels, TurnView, errorText } from "./conversation.js";
import { loadDeviceKey, rotateBound } from "./devicekey.js";
import { callRpc } from "./rpc.js";
import { listPayload, renderConversations } from "./sidenav.js";
import { TemporaryChat } from "./temporary.js";
import { Tools } from "./tools.js";
import { Uploads } from "./uploads.js";

const ROTATION_TIMEOUT_MS = 15000;
const DEFAULT_PLACEHOLDER = "Ask Gemini";
const DROPPED = 13;
const STATUS_TIMEOUT_MS = 10000;
const SETTINGS_TIMEOUT_MS = 5000;
const SETTINGS_PAYLOAD = [[["bard_activity_enabled"]]];
const MAX_MEDIA_HOPS = 4;
// A video job is polled with kwDCne, then read from the chat's history with hNvQHb (VID, J1); the
// interval is our choice (VID's worker waits 6 s; the page is not recorded).
const VIDEO_POLL_MS = 1000;
const VIDEO_POLL_LIMIT = 900;
const HISTORY_PAYLOAD_SIZE = 10;

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
const temporary = new TemporaryChat({
  busy: () => state.request !== null,
  hasTurns: () => state.turnIndex > 0 || chatHistory.childElementCount > 0,
  startNewChat,
});
const panels = new ImmersivePanels(document.querySelector(".content-wrapper"));
const sendHost = document.querySelector(".send-button-container");

const editor = new Editor(document.querySelector("rich-textarea > .ql-editor"), {
  onChange: () => refreshSendButton(),
  onSubmit: () => send(),
});
const uploads = new Uploads({
  wiz,
  origin: config.uploadOrigin,
  session: config.uploadSession,
  onChange: () => refreshSendButton(),
});
// Built once the account status answer (otAQ7b) says which modes and tools this account may use.
let modes = null;
let tools = null;
let composerBuilt;
const composerReady = new Promise((resolve) => (composerBuilt = resolve));

// A driver may act as soon as the editor shows: a send or a menu click that comes before the
// composer is built is carried out once it is, instead of being lost.
const EARLY_CLICK_TARGETS = "bard-mode-switcher button, uploader button, toolbox-drawer button";
let earlyClick = null;
function holdEarlyClick(event) {
  const target = event.target instanceof Element ? event.target.closest(EARLY_CLICK_TARGETS) : null;
  if (!target || modes) return;
  event.stopImmediatePropagation();
  earlyClick = target;
}
document.addEventListener("click", holdEarlyClick, true);

// otAQ7b [15]: the picker's rows in order, [hex, short, description, caps, 2, …, short, label,
// description, …, category, icon] (docs/architecture/evidence.md#g4). Rows are built from the answer; the
// catalogue only adds the key and test id of rows it knows. Tools never come from otAQ7b (G6): they
// are the ones the server rendered into the configuration. Without a usable answer (rejected,
// failed, or no models listed) the page keeps the models it was rendered with.
function modelsFromStatus(status) {
  const entries = Array.isArray(status?.[15]) ? status[15].filter((entry) => typeof entry?.[0] === "string") : [];
  if (!entries.length) return config.models;
  const known = new Map(config.catalogue.map((model) => [model.hex, model]));
  const text = (value, fallback) => (typeof value === "string" && value ? value : fallback);
  return entries.map((entry) => {
    const hex = entry[0];
    const model = known.get(hex);
    const short = text(entry[10], text(entry[1], model?.short ?? hex));
    return {
      key: model?.key ?? "other",
      hex,
      short,
      label: text(entry[11], model?.label ?? short),
      description: text(entry[12], text(entry[2], model?.description ?? "")),
      category: Number.isInteger(entry[17]) ? entry[17] : model?.category ?? 1,
      test_id: model?.test_id ?? `bard-mode-option-${hex}`,
    };
  });
}

function buildComposer(status) {
  modes = new ModePicker({
    ui: config.ui,
    models: modelsFromStatus(status),
    defaultKey: config.defaultModel,
    thinking: config.thinking,
    labelFillDelayMs: config.labelFillDelay * 1000,
  });
  tools = new Tools({
    ui: config.ui,
    tools: config.tools,
    onChange: (tool) => editor.setPlaceholder(tool?.placeholder ?? DEFAULT_PLACEHOLDER),
  });
  wireComposerMenus({ ui: config.ui, plan: config.plan, tools, uploads, exclusive: config.toolsExclusive });
  document.removeEventListener("click", holdEarlyClick, true);
  composerBuilt();
  earlyClick?.click();
}

const rpc = (rpcId, payload, options) => callRpc(wiz, lang, rpcId, payload, options);

async function refreshConversations() {
  if (!wiz.SNlM0e) return;
  const answer = await rpc("MaZiqc", listPayload());
  if (answer) renderConversations(answer, state.chat.cid);
}

// The send button exists only with something to send; while answering it becomes "Stop response".
// October and mid 2026 (B6, B10; PWA, INT): `[data-test-id=send-button-container] > gem-icon-button
// .send-button.submit|.stop > button`, the classes on the wrapper only; October 2026 names no icon
// on it. Early 2026 keeps its classed button.
function refreshSendButton() {
  const busy = state.request !== null;
  const empty = editor.isEmpty();
  const disabled = !busy && uploads.pending();
  const key = busy ? "stop" : empty ? "none" : disabled ? "disabled" : "send";
  if (key === state.sendKey) return;
  state.sendKey = key;
  sendHost.replaceChildren();
  if (key === "none") return;
  const kind = busy ? "stop" : "submit";
  const attrs = {
    type: "button",
    "aria-label": busy ? "Stop response" : "Send message",
    "aria-disabled": String(disabled),
    tabindex: "0",
    onclick: () => (state.request ? stop() : send()),
  };
  if (config.ui === "early2026") {
    const button = h("button", { ...attrs, class: `mdc-icon-button send-button ${kind}` }, icon(busy ? "stop" : "send"));
    sendHost.append(h("gem-icon-button", { class: `send-button ${kind}` }, button));
    return;
  }
  const glyph = busy ? icon("stop") : config.ui === "oct2026" ? h("span", { class: "send-glyph", "aria-hidden": "true" }) : icon("arrow_upward");
  sendHost.append(h("gem-icon-button", { class: `send-button ${kind}` }, h("button", { ...attrs, class: "mdc-icon-button" }, glyph)));
}

function send(promptOverride = null) {
  if (!modes) {
    composerReady.then(() => send(promptOverride));
    return;
  }
  if (state.request) return;
  const prompt = promptOverride ?? editor.getText();
  if (!prompt.trim() || (promptOverride === null && uploads.pending())) return;
  const files = promptOverride === null ? uploads.take() : [];
  if (promptOverride === null) editor.clear();
  const tool = tools.selected;
  const view = new TurnView(chatHistory, {
    prompt, files, onConfirmResearch, onDownload: downloadFullSize, onRetry: () => send(prompt),
  });
  const request = buildStreamGenerate({
    wiz, lang, prompt, files,
    chat: state.chat,
    turnIndex: state.turnIndex,
    gem: config.gem,
    toolCode: tool?.code ?? null,
    mode: modes.current,
    level: modes.levelCode(),
    capacity: config.capacity,
    clientUuid,
    temporary: temporary.flag(),
  });
  if (!wiz.SNlM0e) {
    stream(request, view, tool);
    return;
  }
  // The real page reads the account's settings (ESY5D) before every generate.
  let cancelled = false;
  state.request = { abort: () => { cancelled = true; settle(view, emptyAnswer(), null, true); } };
  state.view = view;
  refreshSendButton();
  rpc("ESY5D", SETTINGS_PAYLOAD, { timeoutMs: SETTINGS_TIMEOUT_MS }).then(() => {
    if (cancelled) return;
    state.request = null;
    stream(request, view, tool);
  });
}

function onConfirmResearch() {
  send("Start research");
}

// The research plan awaits confirmation, or its report arrived: the page asks its status (kwDCne).
function trackResearch(answer, tool) {
  if (answer.plan && answer.researchId) {
    state.pendingResearch = answer.researchId;
    rpc("kwDCne", [answer.researchId]);
  } else if (state.pendingResearch && tool?.key === "deep_research") {
    const id = state.pendingResearch;
    state.pendingResearch = null;
    rpc("kwDCne", [id]);
  }
}

// A Create-video answer carries only the job chip (J1): poll the job (kwDCne [uuid]) until it
// reports done (a trailing 1, VID poll_done), then read the video from the chat's history (hNvQHb,
// field 60 of the turn's c[12]) and show it in the turn.
async function followVideo(view, answer) {
  const ids = { cid: answer.cid, rid: answer.rid };
  for (let attempt = 0; attempt < VIDEO_POLL_LIMIT && view.root.isConnected; attempt++) {
    const status = await rpc("kwDCne", [answer.videoJob]);
    if (Array.isArray(status) && status[status.length - 1] === 1) {
      const history = await rpc("hNvQHb", [ids.cid, HISTORY_PAYLOAD_SIZE, null, 1, [0], [4], null, 1]);
      const turns = Array.isArray(history?.[0]) ? history[0] : [];
      const turn = turns.find((entry) => entry?.[0]?.[1] === ids.rid);
      const url = videoUrl(turn?.[3]?.[0]?.[0]?.[12]);
      if (url) view.renderVideo({ video: url });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, VIDEO_POLL_MS));
  }
}

// The full-size download: ask c8o8Fe for the original's URL, follow Google's text hops
// (`=d-I?alr=yes` answers the next URL as text/plain), then save the bytes.
async function downloadFullSize(ids, image, index) {
  snackbar("Downloading full size…");
  const imageId = image.id || `http://googleusercontent.com/image_generation_content/${index}`;
  const payload = [[[null, null, null, [null, null, null, null, null, ""]], [imageId, 0], null, [19, ""],
    null, null, null, null, null, ""], [ids.rid, ids.rcid, ids.cid, null, ""], 1, 0, 1];
  const answer = await rpc("c8o8Fe", payload);
  const original = Array.isArray(answer) && typeof answer[0] === "string" ? answer[0] : null;
  try {
    if (!original) throw new Error("no full-size URL");
    let response = await fetch(`${original}=d-I?alr=yes`, { credentials: "include" });
    for (let hop = 0; hop < MAX_MEDIA_HOPS && (response.headers.get("content-type") ?? "").startsWith("text/plain"); hop++) {
      response = await fetch((await response.text()).trim(), { credentials: "include" });
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const url = URL.createObjectURL(await response.blob());
    const name = `Gemini_Generated_Image_${original.split("/").pop().slice(-12)}.png`;
    const link = h("a", { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch {
    snackbar("Couldn't download the image");
  }
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
    settle(view, answer, failure, false, tool);
  };
  xhr.onerror = () => {
    consume();
    settle(view, answer, failure ?? DROPPED, false, tool);
  };
  xhr.onabort = () => settle(view, answer, null, true, tool);
  xhr.send(request.body);
}

// The turn is over (finished, failed or stopped): show the outcome and hand the composer back.
function settle(view, answer, failure, stopped = false, tool = null) {
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
  if (answer.hasContent && !stopped) trackResearch(answer, tool);
  if (answer.hasContent && !stopped && answer.videoJob && !answer.video && answer.cid && answer.rid) followVideo(view, answer);
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
  if (isNew && answer.cid.startsWith("c_")) {
    // A Gem's chat keeps the Gem in its address (our reading: the chat continues on the Gem).
    const base = config.gem ? `/gem/${config.gem}` : "/app";
    window.history.replaceState(null, "", `${base}/${answer.cid.slice(2)}`);
    refreshConversations();
  }
}

// A new chat in place (the temporary-chat button's way): no turns, no ids, the URL back at /app.
function startNewChat() {
  state.chat = { cid: "", rid: "", rcid: "", contextToken: "" };
  state.turnIndex = 0;
  chatHistory.replaceChildren();
  window.history.replaceState(null, "", "/app");
}

// /app/<cid>: render the earlier turns and continue the same chat.
function restoreChat(chat) {
  const turns = Array.isArray(chat.turns) ? chat.turns : [];
  for (const turn of turns) {
    const prompt = String(turn.prompt ?? "");
    const view = new TurnView(chatHistory, {
      prompt, onConfirmResearch, onDownload: downloadFullSize, onRetry: () => send(prompt),
    });
    const answer = emptyAnswer();
    answer.cid = String(chat.cid ?? "");
    answer.rid = String(turn.rid ?? "");
    answer.rcid = String(turn.rcid ?? "");
    answer.hasContent = true;
    answer.done = true;
    answer.text = String(turn.text ?? "");
    answer.thoughts = String(turn.thoughts ?? "");
    answer.images = (Array.isArray(turn.images) ? turn.images : []).map((url, index) => ({
      url: String(url),
      alt: "",
      id: `http://googleusercontent.com/image_generation_content/${index}`,
    }));
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

// Keeps the session's ticket fresh every rotation interval (protocol.md §1.4). A browser that signed
// in holds a device key: it refreshes through RotateBoundCookies, and once before the first RPC (Chrome
// defers requests of a bound session until its expired cookie is refreshed). Without a key, the old
// RotateCookies, which a bound session answers with SIDCC only.
async function startCookieRotation() {
  const seconds = Number(wiz.simRotationInterval ?? 0);
  if (!wiz.SNlM0e) return;
  const deviceKey = await loadDeviceKey();
  if (deviceKey) await rotateBound(deviceKey, ROTATION_TIMEOUT_MS).catch(() => false);
  if (!(seconds > 0)) return;
  const rotate = deviceKey
    ? () => rotateBound(deviceKey, ROTATION_TIMEOUT_MS).catch(() => false)
    : () =>
        fetch("/RotateCookies", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '[000,"-0000000000000000000"]',
          signal: AbortSignal.timeout(ROTATION_TIMEOUT_MS),
        }).catch(() => {});
  // Each rotation waits for the previous one: at a high time_scale the interval is shorter than a
  // round trip on a busy machine, and overlapping refreshes would only pile up.
  const loop = async () => {
    await rotate();
    setTimeout(loop, seconds * 1000);
  };
  setTimeout(loop, seconds * 1000);
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

async function boot() {
  if (config.chat && !config.chatMissing) restoreChat(config.chat);
  wireSideNav();
  revealLateSignIn();
  await startCookieRotation();
  refreshSendButton();
  // otAQ7b alone, on every load, before the picker and tools exist (the real page's order).
  const status = await rpc("otAQ7b", [], { timeoutMs: STATUS_TIMEOUT_MS });
  buildComposer(status);
  document.body.dataset.ready = "true";
  refreshConversations();
}

boot();
