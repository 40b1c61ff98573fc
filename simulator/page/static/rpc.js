// The page's side RPCs (batchexecute), sent like its StreamGenerate: XMLHttpRequest with the page's
// own tokens (SNlM0e as `at`, cfb2h as `bl`, FdrFJe as `f.sid`), answers read with the same framing.

import { FrameReader } from "./framing.js";

const ENDPOINT = "/_/BardChatUi/data/batchexecute";
const DEFAULT_TIMEOUT_MS = 10000;

let requestCounter = 1000 + Math.floor(Math.random() * 9000);

// calls: [[rpcId, payload], ...]. Resolves to Map rpcId -> {payload, error}; rejects on HTTP or
// transport failure (callers fall back to what the server rendered).
export function callRpcs(wiz, lang, calls, { sourcePath = location.pathname, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  requestCounter += 100000;
  const ids = [...new Set(calls.map(([id]) => id))].join(",");
  const query = new URLSearchParams({
    rpcids: ids,
    "source-path": sourcePath,
    bl: wiz.cfb2h ?? "",
    "f.sid": wiz.FdrFJe ?? "",
    hl: lang,
    _reqid: String(requestCounter),
    rt: "c",
  });
  const body = new URLSearchParams();
  body.set("f.req", JSON.stringify([calls.map(([id, payload]) => [id, JSON.stringify(payload), null, "generic"])]));
  if (wiz.SNlM0e) body.set("at", wiz.SNlM0e);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${ENDPOINT}?${query}`);
    xhr.timeout = timeoutMs;
    xhr.setRequestHeader("content-type", "application/x-www-form-urlencoded;charset=UTF-8");
    xhr.setRequestHeader("x-same-domain", "1");
    xhr.setRequestHeader("x-goog-ext-525001261-jspb", "[1,null,null,null,null,null,null,null,[4]]");
    xhr.setRequestHeader("x-goog-ext-73010989-jspb", "[0]");
    xhr.onload = () => {
      if (xhr.status !== 200) {
        reject(new Error(`batchexecute answered HTTP ${xhr.status}`));
        return;
      }
      try {
        resolve(readAnswers(xhr.responseText));
      } catch (error) {
        reject(error);
      }
    };
    xhr.onerror = () => reject(new Error("batchexecute failed"));
    xhr.ontimeout = () => reject(new Error("batchexecute timed out"));
    xhr.send(body.toString());
  });
}

function readAnswers(text) {
  const answers = new Map();
  for (const frame of new FrameReader().read(text)) {
    for (const item of frame) {
      if (!Array.isArray(item) || item[0] !== "wrb.fr") continue;
      if (typeof item[2] === "string") answers.set(item[1], { payload: JSON.parse(item[2]), error: null });
      else answers.set(item[1], { payload: null, error: Array.isArray(item[5]) ? item[5][0] : null });
    }
  }
  return answers;
}

// One RPC; resolves to its payload, or null when it was rejected or the call failed.
export async function callRpc(wiz, lang, rpcId, payload, options = {}) {
  try {
    const answer = (await callRpcs(wiz, lang, [[rpcId, payload]], options)).get(rpcId);
    return answer && answer.error === null ? answer.payload : null;
  } catch {
    return null;
  }
}
