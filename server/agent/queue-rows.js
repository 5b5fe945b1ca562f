// What the queue shows, decided without the DOM: its three groups and their order, each row's
// name, time, preview, tags and spoken label, which rows need their summary read, and which
// waiting chats are new. Pure; queue.js puts it on the page.

import { clock, closedByText, duration, givenName, parseTime, plainText, shortId, visitorName } from "./words.js";

export const CLOSED_SHOWN = 8;
// A few per poll, so a long queue fills in without a burst.
export const SUMMARIES_PER_POLL = 6;

export function groupsOf(sessions) {
  // The list is newest first: its position breaks ties between times to the second.
  var order = new Map();
  sessions.forEach(function (s, i) {
    order.set(s.livechat_session_id, i);
  });
  var older = function (a, b) {
    return order.get(b.livechat_session_id) - order.get(a.livechat_session_id);
  };
  var waiting = sessions.filter(function (s) {
    return s.status === "waiting";
  });
  var active = sessions.filter(function (s) {
    return s.status === "active";
  });
  var closed = sessions.filter(function (s) {
    return s.status === "closed";
  });
  // Longest-waiting first; active chats needing a reply first, then the latest; closed
  // newest first, the last few only.
  waiting.sort(function (a, b) {
    return (parseTime(a.requested_at) || 0) - (parseTime(b.requested_at) || 0) || older(a, b);
  });
  active.sort(function (a, b) {
    var mine = function (s) {
      return s.turn === "agent" ? 0 : 1;
    };
    return mine(a) - mine(b) || (parseTime(b.updated_at) || 0) - (parseTime(a.updated_at) || 0) || older(b, a);
  });
  closed.sort(function (a, b) {
    return (parseTime(b.closed_at) || 0) - (parseTime(a.closed_at) || 0) || older(b, a);
  });
  return { waiting: waiting, active: active, closed: closed.slice(0, CLOSED_SHOWN) };
}

/// The summary of a session read from its agent context: the visitor's name, the last thing
/// they wrote, who has the chat (`version` is the context's `state_version`).
export function summaryOf(ctx) {
  var last = null;
  (ctx.transcript || []).forEach(function (m) {
    if (m.role === "user") last = m;
  });
  return {
    version: ctx.state_version,
    name: visitorName(ctx.visitor),
    given: givenName(ctx.visitor),
    preview: last ? plainText(last) : "",
    agentName: ctx.agent ? ctx.agent.display_name : null,
  };
}

/// The visitor's name and last message for each row: read from the session's agent context
/// (the list has neither), again only when the session's `state_version` moved (the open chat's
/// own reads keep its summary). The first few, in the queue's order.
export function summariesToRead(sessions, summaries, openId) {
  var groups = groupsOf(sessions);
  return groups.waiting.concat(groups.active, groups.closed).filter(function (s) {
    var sum = summaries.get(s.livechat_session_id);
    return !sum || (sum.version !== s.state_version && openId !== s.livechat_session_id);
  }).slice(0, SUMMARIES_PER_POLL);
}

/// The waiting chats not seen at the previous poll (none at the first: those were there at
/// sign-in), and the ids seen so far (`seen` is null before the first poll).
export function newlyWaiting(waiting, seen) {
  var fresh = waiting.filter(function (s) {
    return seen && !seen.has(s.livechat_session_id);
  });
  var now = new Set(seen || []);
  waiting.forEach(function (s) {
    now.add(s.livechat_session_id);
  });
  return { fresh: fresh, seen: now };
}

export function rowName(s, sum) {
  return sum && sum.name ? sum.name : "Visitor " + shortId(s.visitor_id);
}

export function rowTime(s, now) {
  if (s.status === "waiting") return "waiting " + duration(now - (parseTime(s.requested_at) || now));
  if (s.status === "active") return clock(s.updated_at, now);
  return clock(s.closed_at, now);
}

export function rowPreview(sum) {
  return sum ? sum.preview || "No messages yet" : "…";
}

/// The row's tags as [class, text]: whose move it is, who has the chat, how it ended. `me` is
/// the signed-in agent's id (or null).
export function rowTags(s, sum, me) {
  var tags = [];
  if (s.turn === "agent" && s.status !== "closed") tags.push(["turn", s.status === "waiting" ? "Needs an agent" : "Needs a reply"]);
  if (s.status === "active" && s.agent_id) {
    tags.push(s.agent_id === me ? ["mine", "You"] : ["other", (sum && sum.agentName) || s.agent_id]);
  }
  if (s.status === "closed") tags.push(["ended", closedByText(s, me)]);
  return tags;
}

/// What a screen reader says for the whole row.
export function rowLabel(name, timeText, previewText, tags) {
  return name + ", " + timeText + ". " + previewText + (tags.length ? ". " + tags.map(function (t) {
    return t[1];
  }).join(", ") : "");
}
