// The transcript of the open chat: every part type rendered as in the widget, new messages
// appended (by `message_id`) into the `aria-live` log, which stays scrolled to the end unless
// the agent scrolled up to read. Each message's time shows on hover and focus; a transcript
// that spans days (or is not today's) gets a header for each day; an answer the visitor voted
// on shows the vote under it (updated as the visitor changes it).

import { $, el, link, svgIcon } from "./dom.js";
import {
  dayHeading,
  dayKey,
  feedbackIcon,
  feedbackText,
  fieldLabels,
  fullTime,
  priceText,
  sizeText,
  suggestionsText,
  timeOfDay,
  visitorName,
} from "./words.js";
import { safeImageSrc } from "./urls.js";
import { agent } from "./account.js";

let seen = new Set(); // the message ids in the log
let nodes = new Map(); // message id → its node, and the vote it shows
let days = freshDays();

function freshDays() {
  // The first dated message (its time and node), the day of the last, and whether the log has
  // day headers yet.
  return { firstAt: null, firstNode: null, last: null, headed: false };
}

/// An empty log for a chat being opened.
export function clearTranscript() {
  seen = new Set();
  nodes = new Map();
  days = freshDays();
  $("log").textContent = "";
  $("log").setAttribute("aria-busy", "true");
}

function dayHeader(at) {
  var li = el("li", "day");
  li.setAttribute("data-testid", "day-header");
  var t = el("time", null, dayHeading(at));
  t.dateTime = dayKey(at);
  li.appendChild(t);
  return li;
}

/// Append a message's node, after a header when it begins a day the log should name.
function place(li, m) {
  var log = $("log");
  var key = dayKey(m.created_at);
  if (key && key !== days.last) {
    if (days.firstAt === null) {
      days.firstAt = m.created_at;
      days.firstNode = li;
      if (key !== dayKey(new Date().toISOString())) {
        log.appendChild(dayHeader(m.created_at));
        days.headed = true;
      }
    } else {
      if (!days.headed) {
        var before = days.firstNode.parentNode === log ? days.firstNode : log.firstChild;
        log.insertBefore(dayHeader(days.firstAt), before);
        days.headed = true;
      }
      log.appendChild(dayHeader(m.created_at));
    }
    days.last = key;
  }
  log.appendChild(li);
}

function nearBottom() {
  var log = $("log");
  return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
}

export function scrollToEnd(force) {
  var log = $("log");
  if (force || nearBottom()) log.scrollTop = log.scrollHeight;
}

/// The messages of a context read not yet in the log (`loaded`: the chat was read before).
export function renderTranscript(messages, ctx, loaded) {
  var log = $("log");
  var stick = !loaded || nearBottom();
  var added = false;
  var present = new Set();
  messages.forEach(function (m) {
    if (!m || !m.message_id) return;
    present.add(m.message_id);
    if (seen.has(m.message_id)) {
      setFeedback(m); // the visitor may change their vote
      return;
    }
    seen.add(m.message_id);
    place(renderMessage(m, ctx), m);
    added = true;
  });
  // A question and its answer the visitor replaced ("ask again", "edit") are gone from the
  // context: so from the log. (Agent messages are never replaced, and one just sent may not
  // be in a read that started before it.)
  nodes.forEach(function (entry, id) {
    if (!present.has(id) && entry.role !== "agent") {
      entry.node.remove();
      nodes.delete(id);
      seen.delete(id);
    }
  });
  if (added && stick) log.scrollTop = log.scrollHeight;
}

/// A message we just sent, before the next read of the context brings it.
export function appendMessage(m, ctx) {
  if (seen.has(m.message_id)) return;
  seen.add(m.message_id);
  place(renderMessage(m, ctx), m);
  scrollToEnd(true);
}

/// The visitor's vote under an answer: 👍 Helpful, or 👎 Not helpful: the reason, and their
/// comment.
function feedbackNode(f) {
  var p = el("p", "feedback");
  p.setAttribute("data-testid", "answer-feedback");
  p.setAttribute("data-value", f.value);
  var icon = el("span", "feedback-icon", feedbackIcon(f));
  icon.setAttribute("aria-hidden", "true");
  p.appendChild(icon);
  p.appendChild(el("span", "feedback-text", feedbackText(f)));
  if (f.comment) p.appendChild(el("q", "feedback-comment", f.comment));
  return p;
}

/// Show message `m`'s current vote (nothing when it has none), redrawn only when it changed.
function setFeedback(m) {
  var entry = nodes.get(m.message_id);
  if (!entry) return;
  var f = m.feedback && feedbackText(m.feedback) ? m.feedback : null;
  var key = f ? [f.value, f.reason || "", f.comment || ""].join("\u0000") : "";
  if (entry.feedback === key) return;
  entry.feedback = key;
  var old = entry.node.querySelector(".feedback");
  if (old) old.remove();
  if (f) entry.node.appendChild(feedbackNode(f));
}

function renderMessage(m, ctx) {
  var li = el("li", "msg " + m.role);
  li.setAttribute("data-testid", "message");
  li.setAttribute("data-role", m.role);
  li.setAttribute("data-message-id", m.message_id);
  var meta = el("p", "msg-meta");
  var who;
  var me = agent();
  if (m.role === "user") who = visitorName(ctx && ctx.visitor);
  else if (m.role === "assistant") who = "Assistant";
  else if (m.role === "agent") who = m.author ? m.author.display_name + (me && m.author.agent_id === me.agent_id ? " (you)" : "") : "Agent";
  else who = "System";
  meta.appendChild(el("span", "msg-author", who));
  var t = timeOfDay(m.created_at);
  if (t) {
    // Shown on hover and focus (console.css); always there for a screen reader.
    var time = el("time", "msg-time", t);
    time.dateTime = m.created_at;
    time.title = fullTime(m.created_at);
    meta.appendChild(time);
  }
  li.appendChild(meta);
  var bubble = el("div", "bubble");
  (m.parts || []).forEach(function (p) {
    var node = renderPart(p);
    if (node) bubble.appendChild(node);
  });
  if (!bubble.childNodes.length) bubble.appendChild(el("p", "muted", "(empty message)"));
  li.appendChild(bubble);
  nodes.set(m.message_id, { node: li, role: m.role, feedback: "" });
  setFeedback(m);
  return li;
}

function renderSpans(parent, spans) {
  (spans || []).forEach(function (s) {
    var text = s.text || "";
    var node;
    if (s.type === "bold") node = el("strong", null, text);
    else if (s.type === "strike") node = el("s", null, text);
    else if (s.type === "link") node = link(text || s.url || "", s.url);
    else node = document.createTextNode(text);
    parent.appendChild(node);
  });
  return parent;
}

function renderBlocks(parent, blocks) {
  (blocks || []).forEach(function (b) {
    if (b.type === "paragraph") parent.appendChild(renderSpans(el("p"), b.spans));
    else if (b.type === "bullet_list") {
      var ul = el("ul");
      (b.items || []).forEach(function (i) {
        ul.appendChild(renderSpans(el("li"), i.spans));
      });
      parent.appendChild(ul);
    }
  });
  return parent;
}

function marker(kind, title, detail) {
  var box = el("div", "marker " + kind);
  box.setAttribute("data-testid", "marker");
  box.setAttribute("data-marker", kind);
  var head = el("p", "marker-title");
  head.appendChild(svgIcon(kind === "handover" ? ["M16 11a4 4 0 1 0-8 0", "M4 21a8 8 0 0 1 16 0", "M12 3v4"] : ["M4 5h16v14H4z", "M8 9h8M8 13h5"]));
  head.appendChild(el("span", null, title));
  box.appendChild(head);
  if (detail) box.appendChild(el("p", "marker-detail", detail));
  return box;
}

function renderPart(p) {
  switch (p.type) {
    case "text": {
      return el("p", "plain", p.text || "");
    }
    case "rich_text": {
      return renderBlocks(el("div", "rich"), p.blocks);
    }
    case "image": {
      var fig = el("figure", "image");
      var src = safeImageSrc(p.url, p.data, p.mime);
      if (src) {
        var a = el("a");
        a.href = src.indexOf("data:") === 0 ? "#" : src;
        if (src.indexOf("data:") !== 0) {
          a.target = "_blank";
          a.rel = "noopener noreferrer";
        }
        var img = el("img");
        img.src = src;
        img.alt = p.alt || p.filename || "Picture";
        img.loading = "lazy";
        a.appendChild(img);
        fig.appendChild(src.indexOf("data:") === 0 ? img : a);
      } else {
        fig.appendChild(el("p", "muted", "Picture not available" + (p.filename ? ": " + p.filename : "")));
      }
      var cap = p.caption || (p.filename ? p.filename + (p.size_bytes ? " · " + sizeText(p.size_bytes) : "") : "");
      if (cap) fig.appendChild(el("figcaption", null, cap));
      return fig;
    }
    case "file": {
      var box = el("div", "file");
      box.appendChild(svgIcon(["M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z", "M14 3v5h5"]));
      var info = el("span", "file-info");
      var name = p.filename || "File";
      info.appendChild(p.url ? link(name, p.url, "file-name") : el("span", "file-name", name));
      var bits = [p.mime_type || p.mime, sizeText(p.size_bytes)].filter(Boolean).join(" · ");
      if (bits) info.appendChild(el("span", "file-meta", bits));
      box.appendChild(info);
      return box;
    }
    case "table": {
      var wrap = el("div", "table-wrap");
      wrap.tabIndex = 0;
      var table = el("table");
      if (p.caption) table.appendChild(el("caption", null, p.caption));
      if (p.columns && p.columns.length) {
        var thead = el("thead");
        var hr = el("tr");
        p.columns.forEach(function (c) {
          var th = el("th");
          th.scope = "col";
          hr.appendChild(renderBlocks(th, c.blocks));
        });
        thead.appendChild(hr);
        table.appendChild(thead);
      }
      var tbody = el("tbody");
      (p.rows || []).forEach(function (row) {
        var tr = el("tr");
        row.forEach(function (c) {
          tr.appendChild(renderBlocks(el("td"), c.blocks));
        });
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      wrap.appendChild(table);
      return wrap;
    }
    case "products": {
      var ul = el("ul", "products");
      ul.setAttribute("aria-label", "Products shown");
      (p.products || []).forEach(function (prod) {
        var li = el("li", "product");
        var src = prod.image_url && safeImageSrc(prod.image_url);
        if (src) {
          var img = el("img");
          img.src = src;
          img.alt = "";
          img.loading = "lazy";
          li.appendChild(img);
        }
        var body = el("span", "product-body");
        body.appendChild(link(prod.title || "Product", prod.url, "product-title"));
        var price = priceText(prod.price, prod.currency);
        if (price) body.appendChild(el("span", "product-price", price));
        if (prod.description) body.appendChild(el("span", "product-desc", prod.description));
        li.appendChild(body);
        ul.appendChild(li);
      });
      return ul;
    }
    case "sources": {
      // Where a grounded answer comes from (issue 26): the pages and products it cites.
      var cited = el("p", "sources muted", "Sources: ");
      (p.sources || []).forEach(function (src, i) {
        if (i > 0) cited.appendChild(document.createTextNode(" · "));
        cited.appendChild(src.url ? link(src.title || src.url, src.url) : el("span", null, src.title || ""));
      });
      return cited;
    }
    case "suggestions": {
      // The follow-up questions the answer offered the visitor as chips.
      return (p.suggestions || []).length ? el("p", "suggestions muted", suggestionsText(p.suggestions)) : null;
    }
    case "show_contact_form":
      return marker("form", "Contact form shown", p.fields && p.fields.length ? "Asked for: " + fieldLabels(p.fields) : null);
    case "show_support_ticket":
      return marker("form", "Support ticket form shown", p.fields && p.fields.length ? "Asked for: " + fieldLabels(p.fields) : null);
    case "request_image_upload":
      return marker("upload", "Asked the visitor for a picture", p.prompt || null);
    case "request_human_agent":
      return marker("handover", "Offered a hand-over to a person", p.reason || null);
    case "custom":
      return marker("custom", "Custom action “" + (p.key || "") + "” sent to the page", null);
    default:
      return el("p", "muted", "(" + (p.type || "unknown") + " content not shown here)");
  }
}
