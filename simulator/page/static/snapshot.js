// Folds decoded frames into one cumulative view of the answer being streamed (protocol.md §5-6).

import { at, findKey, strings } from "./jspb.js";

export function emptyAnswer() {
  return {
    cid: null, rid: null, rcid: null, contextToken: null,
    text: "", thoughts: "", images: [], webImages: [], video: null, videoPending: false, videoJob: null,
    plan: null, researchState: null, researchId: null, canvas: null,
    hasContent: false, done: false, ended: false,
    errorCode: null, modelHex: null, modelLabel: null,
  };
}

export function applyFrame(answer, frame) {
  if (!Array.isArray(frame)) return;
  for (const item of frame) {
    if (!Array.isArray(item)) continue;
    if (item[0] === "wrb.fr") applyEnvelope(answer, item);
    else if (item[0] === "e") answer.ended = true;
  }
}

function applyEnvelope(answer, envelope) {
  if (typeof envelope[2] !== "string") {
    const code = at(envelope, 5, 2, 0, 1, 0);
    if (typeof code === "number") answer.errorCode = code;
    else if (Array.isArray(envelope[5])) answer.errorCode = envelope[5][0];
    return;
  }
  const inner = JSON.parse(envelope[2]);
  const ids = at(inner, 1);
  if (Array.isArray(ids)) {
    if (typeof ids[0] === "string" && ids[0]) answer.cid = ids[0];
    if (typeof ids[1] === "string" && ids[1]) answer.rid = ids[1];
  }
  const token = at(inner, 25);
  if (typeof token === "string" && token) answer.contextToken = token;
  const hex = at(inner, 39);
  if (typeof hex === "string") answer.modelHex = hex;
  const label = at(inner, 42);
  if (typeof label === "string") answer.modelLabel = label;
  // inner[60]: where the "format_drift" test behaviour moves the candidate (a layout we don't decode).
  const candidate = at(inner, 4, 0) ?? at(inner, 60, 0);
  if (Array.isArray(candidate)) applyCandidate(answer, candidate);
}

function applyCandidate(answer, candidate) {
  answer.hasContent = true;
  const rcid = at(candidate, 0);
  if (typeof rcid === "string") answer.rcid = rcid;
  let text = at(candidate, 1, 0);
  if (typeof text === "string" && text.startsWith("http://googleusercontent.com/card_content/")) {
    const card = at(candidate, 22, 0);
    if (typeof card === "string") text = card;
  }
  if (typeof text === "string") answer.text = text;
  const thoughts = at(candidate, 37, 0, 0);
  if (typeof thoughts === "string") answer.thoughts = thoughts;
  if (at(candidate, 8, 0) === 2) answer.done = true;

  const rich = at(candidate, 12);
  const images = [...imageEntries(at(rich, 7, 0)), ...imageEntries(at(rich, 0, "8", 0))];
  if (images.length) answer.images = images;
  const web = webImageEntries(at(rich, 1));
  if (web.length) answer.webImages = web;
  const url = videoUrl(rich);
  if (url) answer.video = url;
  const job = at(rich, 0, "65", 1);
  if (typeof job === "string") answer.videoJob = job;
  answer.videoPending = !answer.video &&
    (at(rich, 0, "65") !== undefined || answer.text.includes("googleusercontent.com/video_gen_chip/"));

  const canvas = at(candidate, 30);
  if (canvas !== undefined && canvas !== null) answer.canvas = readCanvas(canvas);
  const plan = findKey(candidate, "56") ?? findKey(candidate, "57");
  if (Array.isArray(plan)) answer.plan = readPlan(plan);
  const state = findKey(candidate, "70");
  if (typeof state === "number") answer.researchState = state;
  const researchId = findKey(candidate, "71");
  if (typeof researchId === "string") answer.researchId = researchId;
}

// Field 60 of c[12] (dense c[12][59] or a trailing {"60": ...}): [[[[info]]]] with info[7] = [thumbnail, url].
export function videoUrl(rich) {
  const video = at(rich, 59);
  if (video === undefined || video === null) return null;
  return strings(video).find((s) => /\/download\?|video\.mp4/.test(s)) ?? null;
}

// c[12][1]: web images, URL at [0][0][0], alt at [0][4] (GA).
function webImageEntries(list) {
  if (!Array.isArray(list)) return [];
  return list.map((entry) => ({ url: at(entry, 0, 0, 0), alt: at(entry, 0, 4) }))
    .filter((image) => typeof image.url === "string")
    .map((image) => ({ url: image.url, alt: typeof image.alt === "string" ? image.alt : "" }));
}

// c[30] = [[id, title, document]]; other shapes: the longest string is the document.
function readCanvas(canvas) {
  const entry = at(canvas, 0);
  if (Array.isArray(entry) && typeof entry[2] === "string") {
    return { title: typeof entry[1] === "string" ? entry[1] : "", text: entry[2] };
  }
  const longest = strings(canvas).reduce((best, s) => (s.length > best.length ? s : best), "");
  return longest ? { title: "", text: longest } : null;
}

function imageEntries(list) {
  if (!Array.isArray(list)) return [];
  const out = [];
  for (const entry of list) {
    const url = at(entry, 0, 3, 3);
    if (typeof url !== "string") continue;
    const alt = at(entry, 0, 3, 2);
    const id = at(entry, 1, 0);
    out.push({ url, alt: typeof alt === "string" ? alt : "", id: typeof id === "string" ? id : "" });
  }
  return out;
}

function readPlan(plan) {
  const steps = Array.isArray(plan[1]) ? plan[1] : [];
  return {
    title: typeof plan[0] === "string" ? plan[0] : "Research plan",
    steps: steps.map((step) => {
      const texts = strings(step);
      return { title: texts[0] ?? "", description: texts[1] ?? "" };
    }),
    eta: typeof plan[2] === "string" ? plan[2] : "",
  };
}

// Rich blocks render from the structured fields; their placeholders are dropped from the text.
export function visibleText(text) {
  // Kinds may have two segments (`image_collection/image_retrieval/<n>`, F20).
  return text.replace(/http:\/\/googleusercontent\.com\/[\w/]+?\/\d+(?:_\d+)?\n*/g, "").replace(/\n+$/, "");
}
