// Time and words: how the console writes times, durations, names, sizes, prices, one-line
// previews of messages and the other texts it makes from what the API says. Pure: no DOM, no
// network, nothing imported, so Node's test runner loads it (server/tests/console/).

export const TITLE = "dgbot console";

// ---------------------------------------------------------------- time

export function parseTime(s) {
  var t = Date.parse(s || "");
  return isNaN(t) ? null : t;
}

export function duration(ms) {
  var s = Math.max(0, Math.round(ms / 1000));
  if (s < 45) return s + " s";
  var m = Math.round(s / 60);
  if (m < 60) return m + " min";
  var h = Math.floor(m / 60);
  if (h < 24) return h + " h " + (m % 60) + " min";
  return Math.floor(h / 24) + " d";
}

/// The time of day for today, else the date and the time (in the browser's locale). `now` is
/// for tests; the console always means the current time.
export function clock(s, now) {
  var t = parseTime(s);
  if (t === null) return "";
  var d = new Date(t);
  var sameDay = (now === undefined ? new Date() : new Date(now)).toDateString() === d.toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/// The local day of a time as `YYYY-MM-DD` (for grouping a transcript by day), or null.
export function dayKey(s) {
  var t = parseTime(s);
  if (t === null) return null;
  var d = new Date(t);
  var two = function (n) {
    return (n < 10 ? "0" : "") + n;
  };
  return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate());
}

/// Where a transcript's day headers go: the indexes of the messages that begin a day, when the
/// messages span more than one day or their one day is not today (none for a chat of today
/// alone). Messages without a time belong to the day before them. `now` is for tests.
export function dayStarts(messages, now) {
  var starts = [];
  var last = null;
  (messages || []).forEach(function (m, i) {
    var key = dayKey(m && m.created_at);
    if (key && key !== last) {
      starts.push(i);
      last = key;
    }
  });
  var today = dayKey(new Date(now === undefined ? Date.now() : now).toISOString());
  return starts.length > 1 || (starts.length === 1 && last !== today) ? starts : [];
}

/// A day header in the agent's language (`locale`: theirs when undefined): "Today",
/// "Yesterday", else the weekday and date (with the year when it is not this year's). `now`
/// is for tests.
export function dayHeading(s, locale, now) {
  var t = parseTime(s);
  if (t === null) return "";
  var d = new Date(t);
  var today = now === undefined ? new Date() : new Date(now);
  var midnight = function (x) {
    return new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  };
  var days = Math.round((midnight(today) - midnight(d)) / 86400000);
  if (days === 0 || days === 1) {
    var word = new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(-days, "day");
    return word.charAt(0).toLocaleUpperCase(locale) + word.slice(1);
  }
  var options = { weekday: "long", day: "numeric", month: "long" };
  if (d.getFullYear() !== today.getFullYear()) options.year = "numeric";
  return new Intl.DateTimeFormat(locale, options).format(d);
}

/// A message's time of day in the agent's language, as its transcript shows it beside the
/// author on hover and focus.
export function timeOfDay(s, locale) {
  var t = parseTime(s);
  if (t === null) return "";
  return new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" }).format(new Date(t));
}

/// A message's full date and time in the agent's language (its tooltip).
export function fullTime(s, locale) {
  var t = parseTime(s);
  if (t === null) return "";
  return new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "short" }).format(new Date(t));
}

// ---------------------------------------------------------------- people

export function shortId(id) {
  var s = String(id || "");
  return s.length > 8 ? s.slice(0, 8) : s;
}

export function visitorName(v, fallbackId) {
  if (v && v.name) return v.name;
  if (v && v.email) return v.email;
  return "Visitor " + shortId((v && v.id) || fallbackId);
}

/// The name to show for a visitor, or null when they gave none.
export function givenName(v) {
  return (v && (v.name || v.email)) || null;
}

export function initials(name) {
  var words = String(name || "").replace(/[^\p{L}\p{N} ]/gu, " ").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  var first = Array.from(words[0])[0] || "";
  var last = words.length > 1 ? Array.from(words[words.length - 1])[0] || "" : "";
  return (first + last).toUpperCase();
}

/// A stable soft colour per visitor (one of a few classes; no inline style).
export function hue(id) {
  var h = 0;
  for (var i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return "hue-" + (h % 6);
}

/// How a closed session ended; `me` is the signed-in agent's id (or null).
export function closedByText(s, me) {
  switch (s.closed_by) {
    case "visitor":
      return "Ended by the visitor";
    case "agent":
      return "Ended by " + (s.closed_by_agent_id === me ? "you" : s.closed_by_agent_id || "an agent");
    case "system":
      return "Ended by the system";
    default:
      return "Closed";
  }
}

// ---------------------------------------------------------------- messages

export function spansText(spans) {
  return (spans || []).map(function (s) {
    return s.text || "";
  }).join("");
}

export function blocksText(blocks) {
  var out = [];
  (blocks || []).forEach(function (b) {
    if (b.type === "paragraph") out.push(spansText(b.spans));
    else if (b.type === "bullet_list") (b.items || []).forEach(function (i) {
      out.push("• " + spansText(i.spans));
    });
  });
  return out.join(" ");
}

/// One line of a message, for the queue's preview.
export function plainText(m) {
  var out = [];
  (m.parts || []).forEach(function (p) {
    if (p.type === "text") out.push(p.text || "");
    else if (p.type === "rich_text") out.push(blocksText(p.blocks));
    else if (p.type === "image") out.push("📷 " + (p.filename || p.alt || "Picture"));
    else if (p.type === "file") out.push("📎 " + (p.filename || "File"));
  });
  return out.join(" ").replace(/\s+/g, " ").trim();
}

// ---------------------------------------------------------------- an answer's feedback

/// Why a visitor found an answer unhelpful, as the widget offers the reasons.
export const FEEDBACK_REASONS = {
  incorrect: "Incorrect",
  not_what_i_asked: "Not what I asked",
  incomplete: "Incomplete",
  other: "Other",
};

/// The visitor's vote on an answer as one line: "Helpful", or "Not helpful: Incorrect".
export function feedbackText(f) {
  if (!f || (f.value !== "up" && f.value !== "down")) return "";
  if (f.value === "up") return "Helpful";
  var reason = f.reason ? FEEDBACK_REASONS[f.reason] || f.reason : "";
  return "Not helpful" + (reason ? ": " + reason : "");
}

/// The thumb for a vote (decoration: the words say it).
export function feedbackIcon(f) {
  return f && f.value === "up" ? "👍" : "👎";
}

/// The follow-up questions an answer offered, as one line.
export function suggestionsText(suggestions) {
  return "Suggested follow-ups: " + (suggestions || []).join(" · ");
}

export function sizeText(n) {
  if (typeof n !== "number") return "";
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + " KB";
  return (n / 1024 / 1024).toFixed(1) + " MB";
}

export function priceText(price, currency) {
  if (typeof price !== "number") return "";
  if (currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency }).format(price);
    } catch (e) {
      return price + " " + currency;
    }
  }
  return String(price);
}

export function fieldLabels(fields) {
  return (fields || []).map(function (f) {
    return f.label || f.key;
  }).join(", ");
}

// ---------------------------------------------------------------- the queue's counts

/// The tab's title: the number of chats whose next move is the agent's, first.
export function titleFor(count) {
  return count > 0 ? "(" + count + ") " + TITLE : TITLE;
}

/// What a screen reader says for the badge.
export function turnCountText(count) {
  return count + (count === 1 ? " chat needs" : " chats need") + " a reply";
}

/// The announcement for chats that started waiting since the last poll.
export function newWaitingText(names) {
  return names.length === 1 ? "New chat waiting: " + names[0] : names.length + " new chats waiting";
}

// ---------------------------------------------------------------- a chat's header

export function statusText(status) {
  return { waiting: "Waiting", active: "Active", closed: "Closed" }[status] || status;
}

/// The line under the visitor's name: how long they have waited, who has the chat, how it ended.
export function chatSubText(sess, agent, me, now) {
  if (sess.status === "waiting") return "Waiting " + duration(now - (parseTime(sess.requested_at) || now)) + " · typing or replying takes this chat";
  if (sess.status === "active") return agent && agent.agent_id === me ? "You are handling this chat" : "With " + (agent ? agent.display_name : "another agent");
  return closedByText(sess, me) + (sess.close_reason ? ": " + sess.close_reason : "");
}

/// The banner under a closed chat's transcript.
export function closedText(sess, me) {
  return "This chat has ended. " + closedByText(sess, me) + (sess.close_reason ? ": “" + sess.close_reason + "”" : "") + (sess.closed_at ? " · " + clock(sess.closed_at) : "");
}

export function conflictText(name) {
  return name + " is handling this chat. You can read along, but not write.";
}

// ---------------------------------------------------------------- the side panel

/// The page the visitor is on, when the session values name one.
export function pageOf(values) {
  var page = values.page || values.page_url || values.url;
  return typeof page === "string" && page ? page : null;
}

/// The session values worth a line (not null, not empty), as [label, text] pairs.
export function valueLines(values) {
  return Object.keys(values).filter(function (k) {
    return values[k] !== null && values[k] !== "";
  }).map(function (k) {
    var val = values[k];
    var text = typeof val === "string" ? val : typeof val === "number" || typeof val === "boolean" ? String(val) : Array.isArray(val) ? val.join(", ") : JSON.stringify(val);
    return [k.replace(/_/g, " "), text];
  });
}
