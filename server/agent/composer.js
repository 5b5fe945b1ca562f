// Writing: the composer of the open chat. The first keystroke sends `is_typing: true` (and
// again every 8 s while the agent keeps typing); a 3 s pause or leaving the composer sends
// `false`. Enter sends, Shift+Enter adds a line; the paperclip attaches one file.

import { $, setText, show } from "./dom.js";
import { API } from "./api.js";
import { attachmentLimit, attachmentPart, composerNote, messageParts, pendingText, replyRows, sendDisabled, tooLargeText, typingDue, TYPING_IDLE_MS } from "./reply.js";
import { agentCall, heldToken } from "./http.js";
import { agent, settings } from "./account.js";
import { canWrite, hasConflict, openChat, openContext, openId, openStatus, refreshChat, showChatError, writeRefused } from "./conversation.js";
import { appendMessage } from "./transcript.js";
import { kickQueue } from "./queue.js";

// The draft of the open chat: our typing state, the attachment waiting to be sent, a send in
// flight. A new one for each chat opened (`chat`: conversation.js's handle of that chat).
let draft = null;

/// The open chat's draft, or null when no chat is open.
function current() {
  var chat = openChat();
  return chat && draft && draft.chat === chat ? draft : null;
}

/// How the composer follows the open chat (conversation.js `follow`).
export const composerFollower = {
  leaving: function () {
    stopTypingNow();
  },
  opened: function () {
    draft = { chat: openChat(), typingOn: false, typingTimer: null, lastTypingAt: 0, pending: null, sending: false };
    $("reply").value = "";
    clearPending();
    updateComposer();
  },
  read: function () {
    updateComposer();
  },
  conflicted: function () {
    stopTypingNow(true);
    updateComposer();
  },
};

export function updateComposer() {
  var d = current();
  var ok = canWrite();
  var reply = $("reply");
  reply.disabled = !ok;
  $("attach").disabled = !ok;
  var s = settings();
  var attachOn = !!(s && s.attachments_enabled);
  show($("attach-label"), attachOn);
  $("attach-label").classList.toggle("disabled", !ok);
  $("send").disabled = sendDisabled(ok, d && d.sending, reply.value, d && d.pending);
  var note = composerNote(openStatus(), hasConflict());
  setText($("composer-note"), note);
  show($("composer-note"), !!note);
  $("composer-form").classList.toggle("locked", !ok);
}

function sendTyping(isTyping) {
  var chat = openChat();
  if (!chat) return;
  var id = chat.id;
  var waiting = openStatus() === "waiting";
  agentCall(id, "POST", "/livechat/agent/typing", { agent_id: agent().agent_id, is_typing: isTyping }).then(
    function () {
      // The first keystroke took a waiting chat: show it as ours at once.
      if (waiting && isTyping) {
        kickQueue();
        if (openId() === id) refreshChat();
      }
    },
    function (e) {
      if (openId() === id) writeRefused(e);
    }
  );
}

export function onInput() {
  var d = current();
  updateComposer();
  autosize();
  if (!d || !canWrite()) return;
  var now = Date.now();
  if (typingDue(d.typingOn, d.lastTypingAt, now)) {
    d.typingOn = true;
    d.lastTypingAt = now;
    sendTyping(true);
  }
  clearTimeout(d.typingTimer);
  d.typingTimer = setTimeout(function () {
    if (current() === d) stopTypingNow();
  }, TYPING_IDLE_MS);
}

/// Tell the visitor we stopped typing (unless `quiet`: e.g. the chat is someone else's).
export function stopTypingNow(quiet) {
  var d = current();
  if (!d) return;
  clearTimeout(d.typingTimer);
  if (d.typingOn) {
    d.typingOn = false;
    if (!quiet) sendTyping(false);
  }
}

function autosize() {
  var r = $("reply");
  r.rows = replyRows(r.value);
}

export function send(event) {
  if (event) event.preventDefault();
  var d = current();
  if (!d || !canWrite() || d.sending) return;
  var chat = d.chat;
  var parts = messageParts($("reply").value.trim(), d.pending);
  if (!parts.length) return;
  d.sending = true;
  // The message itself ends our typing on the server (docs/protocol.md, "Typing").
  clearTimeout(d.typingTimer);
  d.typingOn = false;
  updateComposer();
  showChatError("");
  agentCall(chat.id, "POST", "/livechat/agent/messages", { agent_id: agent().agent_id, message: { parts: parts } })
    .then(function (res) {
      if (openChat() !== chat) return;
      $("reply").value = "";
      autosize();
      clearPending();
      appendMessage(res.message, openContext());
      refreshChat();
      kickQueue();
    })
    .catch(function (e) {
      if (openChat() === chat) writeRefused(e);
    })
    .finally(function () {
      d.sending = false;
      if (openChat() === chat) {
        updateComposer();
        if (canWrite()) $("reply").focus();
      }
    });
}

export function clearPending() {
  var d = current();
  if (d) d.pending = null;
  $("attach").value = "";
  show($("pending"), false);
  updateComposer();
}

export function attachChosen() {
  var d = current();
  var file = $("attach").files && $("attach").files[0];
  if (!d || !file) return;
  var chat = d.chat;
  var max = attachmentLimit(settings());
  if (file.size > max) {
    showChatError(tooLargeText(file, max));
    $("attach").value = "";
    return;
  }
  var reader = new FileReader();
  reader.onload = function () {
    if (openChat() !== chat) return;
    d.pending = { part: attachmentPart(reader.result, file) };
    setText($("pending-name"), pendingText(file));
    show($("pending"), true);
    showChatError("");
    updateComposer();
    $("reply").focus();
  };
  reader.onerror = function () {
    showChatError("That file cannot be read.");
  };
  reader.readAsDataURL(file);
}

/// Leaving the page while typing: one last `is_typing: false` that outlives the page.
export function leavePage() {
  var d = current();
  if (d && d.typingOn) {
    var token = heldToken(d.chat.id);
    if (token) {
      fetch(API + "/livechat/agent/typing", {
        method: "POST",
        keepalive: true,
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
        body: JSON.stringify({ agent_id: agent().agent_id, is_typing: false }),
      }).catch(function () {});
    }
  }
}
