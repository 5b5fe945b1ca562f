// The queue: waiting chats first (longest waiting on top), then active ones (those needing a
// reply first, then the latest), then the last few closed; the badge and the tab's title count
// the chats whose next move is the agent's. Polled every 2 s; polls never overlap.

import { $, el, setAvatar, setText, show } from "./dom.js";
import { titleFor, turnCountText } from "./words.js";
import { groupsOf, newlyWaiting, rowLabel, rowName, rowPreview, rowTags, rowTime, summariesToRead, summaryOf } from "./queue-rows.js";
import { agentCall, keyCall } from "./http.js";
import { epoch, myId } from "./account.js";
import { alertNewWaiting } from "./alerts.js";
import { openId, openSession } from "./conversation.js";

const QUEUE_EVERY_MS = 2000;

const rows = new Map(); // session id -> row element
let listed = new Map(); // session id -> its row of the last GET /livechat/sessions
const summaries = new Map(); // session id -> {version, name, given, preview, agentName}
let seenWaiting = null; // Set of waiting ids already seen (null before the first poll)
let count = 0;
let queueTimer = null;
let queueBusy = false;
let queueKicked = false;
let queueTick = null;

/// Every 2 s, one poll at a time; `kickQueue()` brings the next one forward (after a write
/// of ours changed a session), never running two at once.
export function queueLoop(at) {
  var tick = function () {
    queueTimer = null;
    if (at !== epoch()) return;
    queueBusy = true;
    refreshQueue(at)
      .catch(function (e) {
        if (at === epoch()) $("queue-sync").textContent = e.message || "Cannot reach the server. Retrying…";
      })
      .then(function () {
        queueBusy = false;
        if (at !== epoch()) return;
        if (queueKicked) {
          queueKicked = false;
          tick();
        } else {
          queueTimer = setTimeout(tick, QUEUE_EVERY_MS);
        }
      });
  };
  queueTick = tick;
  tick();
}

export function kickQueue() {
  if (queueBusy) {
    queueKicked = true;
  } else if (queueTimer) {
    clearTimeout(queueTimer);
    queueTick();
  }
}

/// Sign-out: the polls stop, the rows and what was learnt about them go.
export function resetQueue() {
  clearTimeout(queueTimer);
  queueTimer = null;
  queueBusy = false;
  queueKicked = false;
  summaries.clear();
  rows.forEach(function (row) {
    row.remove();
  });
  rows.clear();
  seenWaiting = null;
}

/// How the rows follow the open chat (conversation.js `follow`): the open one is marked
/// `aria-current`, and each read of its context refreshes its row.
export const queueFollower = {
  opened: function (id) {
    rows.forEach(function (row, rid) {
      if (rid === id) row.firstChild.setAttribute("aria-current", "true");
      else row.firstChild.removeAttribute("aria-current");
    });
  },
  read: function (ctx) {
    noteSummary(ctx);
    var id = openId();
    var s = listed.get(id);
    if (s && rows.has(id)) updateRow(s);
  },
};

function refreshQueue(at) {
  return Promise.all([keyCall("GET", "/livechat/sessions"), keyCall("GET", "/livechat/sessions/count?turn=agent")]).then(function (r) {
    if (at !== epoch()) return;
    $("queue-sync").textContent = "";
    var sessions = r[0].sessions || [];
    count = r[1].count || 0;
    renderQueue(sessions);
    return summarise(sessions, at);
  });
}

function renderQueue(sessions) {
  listed = new Map();
  sessions.forEach(function (s) {
    listed.set(s.livechat_session_id, s);
  });
  var groups = groupsOf(sessions);
  var keep = new Set();
  ["waiting", "active", "closed"].forEach(function (g) {
    var list = $("list-" + g);
    var shown = groups[g];
    shown.forEach(function (s) {
      keep.add(s.livechat_session_id);
      updateRow(s);
    });
    // Reorder only when the order changed, so keyboard focus on a row stays put.
    var want = shown.map(function (s) {
      return rows.get(s.livechat_session_id);
    });
    var have = Array.prototype.slice.call(list.children);
    var same = want.length === have.length && want.every(function (row, i) {
      return row === have[i];
    });
    if (!same) want.forEach(function (row) {
      list.appendChild(row);
    });
    show($("empty-" + g), shown.length === 0);
    $("g-" + g + "-count").textContent = shown.length ? String(shown.length) : "";
  });
  rows.forEach(function (row, id) {
    if (!keep.has(id)) {
      row.remove();
      rows.delete(id);
    }
  });

  // The badge: chats where the agent should act next (the API's `turn=agent` count).
  var badge = $("turn-count");
  badge.textContent = String(count);
  badge.setAttribute("data-count", String(count));
  $("turn-count-label").textContent = turnCountText(count);
  document.title = titleFor(count);

  // New waiting sessions since the last poll alert the agent (not those there at sign-in).
  var waiting = newlyWaiting(groups.waiting, seenWaiting);
  seenWaiting = waiting.seen;
  if (waiting.fresh.length) {
    alertNewWaiting(waiting.fresh.map(function (s) {
      var id = s.livechat_session_id;
      return { id: id, name: rowName(s, summaries.get(id)), row: rows.get(id) };
    }));
  }
}

function updateRow(s) {
  var id = s.livechat_session_id;
  var li = rows.get(id);
  if (!li) {
    li = el("li", "session-item");
    var b = el("button", "session");
    b.type = "button";
    b.setAttribute("data-testid", "session");
    b.setAttribute("data-session-id", id);
    var av = el("span", "avatar");
    av.setAttribute("aria-hidden", "true");
    var main = el("span", "row-main");
    var top = el("span", "row-top");
    top.appendChild(el("span", "row-name"));
    top.appendChild(el("span", "row-time"));
    main.appendChild(top);
    main.appendChild(el("span", "row-preview"));
    var meta = el("span", "row-meta");
    main.appendChild(meta);
    b.appendChild(av);
    b.appendChild(main);
    b.addEventListener("click", function () {
      openSession(id);
    });
    li.appendChild(b);
    rows.set(id, li);
  }
  var button = li.firstChild;
  var sum = summaries.get(id);
  var name = rowName(s, sum);
  button.setAttribute("data-status", s.status);
  button.setAttribute("data-turn", s.turn || "");
  if (openId() === id) button.setAttribute("aria-current", "true");
  else button.removeAttribute("aria-current");
  setText(button.querySelector(".row-name"), name);
  var av = button.querySelector(".avatar");
  var given = sum && sum.given;
  if (av.getAttribute("data-name") !== (given || "")) {
    av.setAttribute("data-name", given || "");
    setAvatar(av, given, s.visitor_id);
  }
  if (!av.childNodes.length) setAvatar(av, given, s.visitor_id);

  var time = button.querySelector(".row-time");
  var timeText = rowTime(s, Date.now());
  setText(time, timeText);
  time.setAttribute("data-testid", "waited");

  var preview = button.querySelector(".row-preview");
  var previewText = rowPreview(sum);
  setText(preview, previewText);
  preview.setAttribute("data-testid", "preview");

  var meta = button.querySelector(".row-meta");
  var tags = rowTags(s, sum, myId());
  var key = JSON.stringify(tags);
  if (meta.getAttribute("data-key") !== key) {
    meta.setAttribute("data-key", key);
    meta.textContent = "";
    tags.forEach(function (t) {
      meta.appendChild(el("span", "tag " + t[0], t[1]));
    });
  }
  // What a screen reader says for the whole row.
  button.setAttribute("aria-label", rowLabel(name, timeText, previewText, tags));
}

/// The visitor's name and last message for each row (queue-rows.js `summariesToRead`).
function summarise(sessions, at) {
  var chain = Promise.resolve();
  summariesToRead(sessions, summaries, openId()).forEach(function (s) {
    chain = chain.then(function () {
      if (at !== epoch()) return;
      return agentCall(s.livechat_session_id, "GET", "/livechat/agent/context")
        .then(function (ctx) {
          if (at !== epoch()) return;
          noteSummary(ctx);
          updateRow(s);
        })
        .catch(function (e) {
          if (e.status === 404 || e.status === 403) summaries.set(s.livechat_session_id, { version: s.state_version, name: null, preview: "" });
        });
    });
  });
  return chain;
}

function noteSummary(ctx) {
  summaries.set(ctx.livechat_session.livechat_session_id, summaryOf(ctx));
}
