// Builds the StreamGenerate request exactly as docs/simulator-contract.md describes it.

const ENDPOINT = "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate";
const INNER_SLOTS = 97;

let requestCounter = 10000 + Math.floor(Math.random() * 90000);

export function newUuid() {
  return crypto.randomUUID().toUpperCase();
}

// chat: {cid, rid, rcid, contextToken}; files: [{ref, kind, mime, name}]; mode: the picker's model
// ({hex, category}); level: the thinking level code (1, 4 medium, 2 extended; protocol.md §2.1, OCT).
// temporary: inner[45], 1 for a temporary chat (protocol.md inner[45]; static/temporary.js).
export function buildStreamGenerate({ wiz, lang, prompt, files, chat, turnIndex, gem, toolCode, mode, level, capacity, clientUuid, temporary = null }) {
  requestCounter += 100000;
  const uuid = newUuid();
  const query = new URLSearchParams({
    bl: wiz.cfb2h ?? "",
    "f.sid": wiz.FdrFJe ?? "",
    hl: lang,
    _reqid: String(requestCounter),
    rt: "c",
  });
  const inner = new Array(INNER_SLOTS).fill(null);
  const fileRefs = files.length ? files.map((f) => [[f.ref, f.kind, null, f.mime], f.name]) : null;
  inner[0] = [prompt, 0, null, fileRefs, null, null, 0];
  inner[1] = [lang];
  inner[2] = [chat.cid ?? "", chat.rid ?? "", chat.rcid ?? "", null, null, null, null, null, null, chat.contextToken ?? ""];
  inner[6] = [1];
  inner[7] = 1;
  inner[10] = 1;
  inner[11] = 0;
  inner[17] = [[turnIndex]];
  inner[18] = 0;
  inner[19] = gem ?? null;
  inner[27] = 1;
  inner[30] = [4];
  inner[41] = [1]; // ZX: the browser always sends [1] (W2A's [2]/[1] persistent/temporary is not the page's)
  inner[45] = temporary;
  inner[49] = toolCode ?? null;
  inner[53] = 0;
  inner[59] = uuid;
  inner[61] = [];
  inner[67] = 0;
  inner[68] = 1;
  inner[79] = mode.category;
  inner[80] = level;
  inner[91] = 0;
  inner[96] = level === 2 ? 1 : 0;

  const body = new URLSearchParams();
  body.set("f.req", JSON.stringify([null, JSON.stringify(inner)]));
  if (wiz.SNlM0e) body.set("at", wiz.SNlM0e);

  const modeHeader = [1, null, null, null, mode.hex, null, null, 0, [4, 5, 6, 8], null, null, capacity,
    null, null, mode.category, level, clientUuid];
  return {
    url: `${ENDPOINT}?${query}`,
    body: body.toString(),
    headers: {
      "content-type": "application/x-www-form-urlencoded;charset=UTF-8",
      "x-same-domain": "1",
      "x-goog-ext-525001261-jspb": JSON.stringify(modeHeader),
      "x-goog-ext-525005358-jspb": JSON.stringify([uuid, 1]),
      "x-goog-ext-73010989-jspb": "[0]",
      "x-goog-ext-73010990-jspb": "[0,0,0]",
    },
  };
}
