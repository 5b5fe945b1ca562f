// The side panel of the open chat: the visitor (name, email, user id, whether the identity is
// verified, visitor id), the page, the session values (fields of forms the visitor submitted)
// and the session's time, language, platform and id.

import { $, el, link } from "./dom.js";
import { clock, pageOf, valueLines } from "./words.js";

export function renderDetails(ctx) {
  var v = ctx.visitor || {};
  var facts = $("visitor-facts");
  var key = JSON.stringify([v, ctx.session_values, ctx.livechat_session]);
  if (facts.getAttribute("data-key") === key) return;
  facts.setAttribute("data-key", key);
  facts.textContent = "";
  var add = function (dl, term, value, node) {
    dl.appendChild(el("dt", null, term));
    var dd = el("dd");
    if (node) dd.appendChild(node);
    else dd.textContent = value;
    dl.appendChild(dd);
    return dd;
  };
  add(facts, "Name", v.name || "Not given");
  if (v.email) add(facts, "Email", null, link(v.email, "mailto:" + v.email));
  else add(facts, "Email", "Not given");
  if (v.user_id) add(facts, "User id", v.user_id);
  var ver = el("span", "verified " + (v.verified ? "yes" : "no"), v.verified ? "Verified" : "Not verified");
  ver.setAttribute("data-testid", "visitor-verified");
  ver.title = v.verified ? "The site vouched for this identity (signed)" : "Given by the page, not signed: don't trust it for account changes";
  add(facts, "Identity", null, ver);
  var idNode = el("code", "mono", v.id || "");
  add(facts, "Visitor id", null, idNode);

  var values = ctx.session_values || {};
  var page = pageOf(values);
  var pageLine = $("visitor-page");
  pageLine.textContent = "";
  if (page) pageLine.appendChild(link(page, page, "page-link"));
  else pageLine.appendChild(el("span", "muted", "Not known"));

  var sv = $("session-values");
  sv.textContent = "";
  var lines = valueLines(values);
  if (!lines.length) {
    sv.appendChild(el("dt", "visually-hidden", "Values"));
    sv.appendChild(el("dd", "muted", "None yet (forms the visitor fills in show here)"));
  }
  lines.forEach(function (line) {
    add(sv, line[0], line[1]);
  });

  var s = ctx.livechat_session;
  var sf = $("session-facts");
  sf.textContent = "";
  add(sf, "Requested", clock(s.requested_at));
  add(sf, "Language", s.language || "");
  add(sf, "Platform", s.platform || "");
  add(sf, "Session", null, el("code", "mono", s.livechat_session_id));
}
