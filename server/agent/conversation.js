// A conversation: the chat that is open, read again every 1.5 s while it is open (never two
// reads at once): its header (name, status, who has it), the conflict banner when another agent
// has it, the error line, the closed banner, the side panel and the transcript.
//
// The views that follow the open chat sit above this module (the queue's rows, the composer,
// the close panel) and are told through `follow()` (main.js connects them), so that nothing here
// imports them: `leaving()` before the open chat changes or closes, `opened(id)` for a new one,
// `read(ctx)` after each context is shown, `conflicted()` when another agent turns out to have it.

import { $, setAvatar, setText, show } from "./dom.js";
import { chatSubText, closedText, conflictText, givenName, statusText, visitorName } from "./words.js";
import { agentNamedIn, refusalText } from "./api.js";
import { agentCall } from "./http.js";
import { agent, epoch } from "./account.js";
import { clearTranscript, renderTranscript, scrollToEnd } from "./transcript.js";
import { renderDetails } from "./details.js";

const CHAT_EVERY_MS = 1500;

// The open chat: {chat, id, context, conflict, loaded, inflight}; `chat` is the handle others
// hold to tell whether the chat they worked for is still the open one.
let open = null;
let errorKind = null; // what the error line shows: "network", "error" or nothing (null)
const followers = [];

export function follow(follower) {
  followers.push(follower);
}

function tell(what, arg) {
  followers.forEach(function (f) {
    if (f[what]) f[what](arg);
  });
}

/// The open chat's handle (`{id}`, new each time a chat is opened), or null.
export function openChat() {
  return open ? open.chat : null;
}

export function openId() {
  return open ? open.id : null;
}

/// The open chat's status as last read (null before the first read).
export function openStatus() {
  return open && open.context ? open.context.livechat_session.status : null;
}

/// The open chat's last context read (null before the first read).
export function openContext() {
  return open ? open.context : null;
}

export function hasConflict() {
  return !!(open && open.conflict);
}

export function canWrite() {
  var o = open;
  return !!(o && o.context && o.context.livechat_session.status !== "closed" && !o.conflict);
}

export function openSession(id) {
  if (open && open.id === id) {
    $("reply").focus();
    return;
  }
  tell("leaving");
  open = {
    chat: Object.freeze({ id: id }),
    id: id,
    context: null,
    conflict: null,
    loaded: false,
    inflight: null,
  };
  show($("placeholder"), false);
  show($("chat"), true);
  clearTranscript();
  $("visitor-title").textContent = "Loading…";
  $("visitor-avatar").textContent = "";
  show($("conflict"), false);
  show($("closed-banner"), false);
  show($("composer-form"), true);
  showChatError("");
  tell("opened", id);
  refreshChat().then(function () {
    if (open && open.id === id) $("reply").focus();
  });
}

export function closeConversationView() {
  tell("leaving");
  open = null;
  show($("chat"), false);
  show($("placeholder"), true);
}

/// Sign-out: no chat is open any more (the page goes back to the sign-in screen as it is).
export function forgetChat() {
  open = null;
}

export function chatLoop(at) {
  var tick = function () {
    if (at !== epoch()) return;
    var p = open ? refreshChat() : Promise.resolve();
    p.then(function () {
      if (at === epoch()) setTimeout(tick, CHAT_EVERY_MS);
    });
  };
  setTimeout(tick, CHAT_EVERY_MS);
}

/// Read the open session's context and show what changed (never two reads at once).
export function refreshChat() {
  var o = open;
  if (!o) return Promise.resolve();
  if (o.inflight) return o.inflight;
  o.inflight = agentCall(o.id, "GET", "/livechat/agent/context")
    .then(function (ctx) {
      if (open !== o) return;
      if (!o.loaded || errorKind === "network") showChatError("");
      applyContext(ctx);
    })
    .catch(function (e) {
      if (open !== o) return;
      if (e.status === 0) showChatError(e.message, "network");
      else if (!o.loaded) showChatError("This chat cannot be opened: " + e.message);
    })
    .finally(function () {
      o.inflight = null;
    });
  return o.inflight;
}

function applyContext(ctx) {
  var o = open;
  o.context = ctx;
  var sess = ctx.livechat_session;
  var v = ctx.visitor || {};
  var name = visitorName(v);

  // Header.
  setText($("visitor-title"), name);
  var head = $("visitor-avatar");
  if (head.getAttribute("data-name") !== (givenName(v) || "") || !head.childNodes.length) {
    head.setAttribute("data-name", givenName(v) || "");
    setAvatar(head, givenName(v), v.id);
  }
  var pill = $("status-pill");
  pill.setAttribute("data-status", sess.status);
  setText(pill, statusText(sess.status));
  var me = agent().agent_id;
  setText($("chat-sub-text"), chatSubText(sess, ctx.agent, me, Date.now()));

  // Who has it.
  if (ctx.agent && ctx.agent.agent_id !== me) showConflict(ctx.agent.display_name);
  else if (o.conflict) {
    o.conflict = null;
    show($("conflict"), false);
  }

  // Closed.
  var closed = sess.status === "closed";
  show($("closed-banner"), closed);
  show($("composer-form"), !closed);
  if (closed) setText($("closed-text"), closedText(sess, me));
  show($("close-open"), !closed && !o.conflict);

  renderDetails(ctx);
  renderTranscript(ctx.transcript || [], ctx, o.loaded);
  var typing = !!ctx.visitor_typing && !closed;
  setText($("visitor-typing-text"), name + " is typing…");
  if ($("visitor-typing").hidden === typing) {
    show($("visitor-typing"), typing);
    if (typing) scrollToEnd(false);
  }
  o.loaded = true;
  $("log").setAttribute("aria-busy", "false");
  tell("read", ctx);
}

function showConflict(name) {
  var o = open;
  if (!o) return;
  o.conflict = name;
  setText($("conflict-text"), conflictText(name));
  show($("conflict"), true);
  show($("close-open"), false);
  tell("conflicted");
}

export function showChatError(text, kind) {
  errorKind = text ? kind || "error" : null;
  setText($("chat-error"), text);
  show($("chat-error"), !!text);
}

/// A refused write: `409` means someone else has the chat (or it closed): read the context
/// to say who; anything else is shown as it is.
export function writeRefused(e) {
  var o = open;
  if (e.status === 409) {
    var who = agentNamedIn(e.message);
    agentCall(o.id, "GET", "/livechat/agent/context").then(
      function (ctx) {
        if (open !== o) return;
        applyContext(ctx);
        if (!o.conflict && ctx.livechat_session.status !== "closed") showConflict(who);
      },
      function () {
        if (open === o) showConflict(who);
      }
    );
    return;
  }
  showChatError(refusalText(e));
}
