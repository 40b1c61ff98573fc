// The side nav's conversation list, built from the chat list RPC (MaZiqc) as the real page does:
// `conversations-list[data-test-id="all-conversations"]` with one `gem-nav-list-item` per chat.

import { h } from "./dom.js";

const LIST_PAYLOAD = [13, null, [0, null, 1]];

export function listPayload() {
  return LIST_PAYLOAD;
}

// answer: MaZiqc payload, [null, token, [[cid, title, pinned, null, null, [secs, nanos], ...], ...]].
export function renderConversations(answer, currentCid) {
  const entries = Array.isArray(answer?.[2]) ? answer[2] : [];
  const rows = entries.filter((entry) => typeof entry?.[0] === "string").map((entry) => {
    const id = entry[0].replace(/^c_/, "");
    const current = entry[0] === currentCid;
    return h("gem-nav-list-item", { class: "conversation-item", "data-test-id": "conversation" },
      h("a", { class: "conversation", href: `/app/${id}`, "aria-current": current ? "page" : null },
        h("span", { class: "title-text gds-label-l", text: String(entry[1] ?? "") })));
  });
  const list = h("conversations-list", { class: "conversations-list", "data-test-id": "all-conversations" },
    h("div", { class: "title gds-label-l", text: "Recent" }), rows);
  const host = document.querySelector("side-navigation-content");
  host.querySelector("conversations-list")?.remove();
  host.append(list);
}
