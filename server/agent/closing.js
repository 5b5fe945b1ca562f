// Closing: "End chat" opens a panel asking for a reason (the visitor sees it), then closes the
// chat through the agent API.

import { $, announce, show } from "./dom.js";
import { agentCall } from "./http.js";
import { agent } from "./account.js";
import { canWrite, openChat, refreshChat, writeRefused } from "./conversation.js";
import { stopTypingNow } from "./composer.js";
import { kickQueue } from "./queue.js";

/// How the panel follows the open chat (conversation.js `follow`): it closes for a new chat,
/// once the chat has ended, and when another agent has it.
export const closePanelFollower = {
  opened: function () {
    hideClosePanel();
  },
  read: function (ctx) {
    if (ctx.livechat_session.status === "closed") hideClosePanel();
  },
  conflicted: function () {
    hideClosePanel();
  },
};

export function showClosePanel() {
  if (!canWrite()) return;
  show($("close-panel"), true);
  $("close-open").setAttribute("aria-expanded", "true");
  $("close-reason").focus();
  $("close-reason").select();
}

export function hideClosePanel() {
  show($("close-panel"), false);
  $("close-open").setAttribute("aria-expanded", "false");
}

export function closeChat(event) {
  event.preventDefault();
  var chat = openChat();
  if (!chat) return;
  var reason = $("close-reason").value.trim();
  var body = { agent_id: agent().agent_id };
  if (reason) body.reason = reason;
  stopTypingNow(true);
  agentCall(chat.id, "POST", "/livechat/agent/close", body)
    .then(function () {
      if (openChat() !== chat) return;
      hideClosePanel();
      announce("The chat has ended.");
      kickQueue();
      return refreshChat();
    })
    .catch(function (e) {
      if (openChat() === chat) writeRefused(e);
    });
}
