// Temporary chat (page.md §1.13): the side nav's "Temporary chat" button (W2A: `temp-chat-button
// button`; CWC: `button[data-test-id="temp-chat-button"]`, reached after opening the side nav) turns
// the next chat into one kept out of the history. While on, the button carries `temp-chat-on` and
// `aria-pressed="true"` (a public script reads the class), and the chat window shows the
// `.temporary-chat-card` (a public userscript's indicator) with the page's "Just passing through"
// (a public extension's EN fixture); every StreamGenerate of the chat sends inner[45] = 1
// (protocol.md inner[45]: GA 2026-03, W2A). The card's other words are our choice.
//
// Clicking the button while a chat has turns starts a new chat in the other mode, as the real
// button opens a new chat (our choice: the history view is cleared in place, no reload).

import { h } from "./dom.js";

const CARD_TITLE = "Just passing through";
const CARD_TEXT = "Temporary chats won't appear in your recent chats, and Gemini won't use them to " +
  "personalize your experience. They are kept for up to 72 hours to respond to you.";

export class TemporaryChat {
  // busy(): an answer is running (the button does nothing then); hasTurns(): the chat has begun;
  // startNewChat(): clear the chat on the page (state, history view, URL).
  constructor({ busy, hasTurns, startNewChat }) {
    this.active = false;
    this.button = document.querySelector("button[data-test-id='temp-chat-button']");
    this.card = null;
    this.busy = busy;
    this.hasTurns = hasTurns;
    this.startNewChat = startNewChat;
    this.button?.addEventListener("click", () => this.toggle());
  }

  // inner[45] of this chat's requests: 1 while temporary, else left null like the ordinary page.
  flag() {
    return this.active ? 1 : null;
  }

  toggle() {
    if (this.busy()) return;
    if (this.hasTurns()) this.startNewChat();
    this.active = !this.active;
    this.button.classList.toggle("temp-chat-on", this.active);
    this.button.setAttribute("aria-pressed", String(this.active));
    this.showCard();
  }

  showCard() {
    this.card?.remove();
    this.card = null;
    if (!this.active) return;
    this.card = h("div", { class: "temporary-chat-card", "data-test-id": "temporary-chat-card", role: "status" },
      h("h2", { class: "temporary-chat-title", text: CARD_TITLE }),
      h("p", { class: "temporary-chat-text", text: CARD_TEXT }));
    document.getElementById("chat-history").before(this.card);
  }
}
