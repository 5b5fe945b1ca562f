// The livechat API's replies as the console reads them: the error envelope, Basic auth, session
// tokens' lifetimes, what a refused write says. Pure (nothing imported, no DOM, no network);
// http.js does the fetching.

export const API = "/api/v1/chat";

export function ApiError(status, code, message, params) {
  this.status = status;
  this.code = code;
  this.message = message;
  this.params = params || [];
}

export function base64Text(text) {
  var bytes = new TextEncoder().encode(text);
  var bin = "";
  for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}

/// HTTP Basic with the chatbot API key as the user name and an empty password.
export function basicAuth(key) {
  return "Basic " + base64Text(key + ":");
}

/// A reply's body (`text`) as data, or the ApiError it carries (thrown) when `!ok`.
export function readReply(ok, status, statusText, text) {
  var data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (!ok) {
    var err = (data && data.error) || {};
    throw new ApiError(status, err.code || "http_" + status, err.message || statusText || "Request failed", err.params);
  }
  return data;
}

export function networkError() {
  return new ApiError(0, "network", "The server cannot be reached. Retrying…");
}

/// A minted session token as kept in memory; ten minutes when the expiry cannot be read.
export function tokenEntry(minted, now) {
  var expiresAt = Date.parse(minted.expires_at);
  return { token: minted.token, expiresAt: isNaN(expiresAt) ? now + 10 * 60000 : expiresAt };
}

/// A kept token is used until a minute before it expires.
export function tokenUsable(t, now) {
  return !!(t && t.expiresAt - now > 60000);
}

/// The agent a refused write (`409`) names.
export function agentNamedIn(message) {
  // "Another agent (agent-alice) is assigned…": the id, until the context gives the name.
  var named = /\(([^)]+)\)/.exec(message || "");
  return named ? named[1] : "Another agent";
}

/// A refused request as one line: its message and the messages of its invalid fields.
export function refusalText(e) {
  var detail = e.params && e.params.length ? e.params.map(function (p) {
    return p.message;
  }).join(" ") : "";
  return (e.message || "That did not work.") + (detail ? " " + detail : "");
}

/// A refused profile: the first invalid field and why, else the message.
export function profileRefusalText(e) {
  var field = e.params && e.params[0];
  return field ? field.field + ": " + field.message : e.message;
}
