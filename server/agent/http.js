// HTTP: the console's calls to the public livechat API of the origin it came from, and the
// session tokens (kept in memory only).
//
// - the chatbot API key (HTTP Basic) for the agent profile, the queue, the badge count, the
//   settings and session tokens (`/livechat/agents/{id}`, `/livechat/sessions`,
//   `/livechat/sessions/count`, `/livechat/settings`, `/livechat/sessions/{id}/token`);
// - a session token (Bearer, one per session, minted again when refused) for the agent side of
//   one chat (`/livechat/agent/context`, `…/messages`, `…/typing`, `…/close`).

import { API, basicAuth, networkError, readReply, tokenEntry, tokenUsable } from "./api.js";
import { apiKey, epoch } from "./account.js";

const tokens = new Map(); // session id -> {token, expiresAt} or {pending: Promise}
let keyRefused = function () {};

/// What a refused API key does (screens.js signs the agent out; main.js connects it).
export function whenKeyRefused(handler) {
  keyRefused = handler;
}

export function request(method, path, auth, body) {
  var headers = { Accept: "application/json", Authorization: auth };
  var init = { method: method, headers: headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(API + path, init).then(
    function (res) {
      return res.text().then(function (text) {
        return readReply(res.ok, res.status, res.statusText, text);
      });
    },
    function () {
      throw networkError();
    }
  );
}

/// With the chatbot API key. A refused key signs the agent out.
export function keyCall(method, path, body) {
  var at = epoch();
  return request(method, path, basicAuth(apiKey()), body).catch(function (e) {
    if (e.status === 401 && at === epoch() && apiKey()) {
      keyRefused("The API key was refused. Sign in again.");
    }
    throw e;
  });
}

/// A session token for `id`: kept in memory only, minted with the API key when there is none
/// or it is about to expire (one mint at a time per session).
function sessionToken(id, fresh) {
  var t = tokens.get(id);
  if (t && t.pending) return t.pending;
  if (!fresh && tokenUsable(t, Date.now())) return Promise.resolve(t.token);
  var pending = keyCall("POST", "/livechat/sessions/" + encodeURIComponent(id) + "/token").then(
    function (minted) {
      tokens.set(id, tokenEntry(minted, Date.now()));
      return minted.token;
    },
    function (e) {
      tokens.delete(id);
      throw e;
    }
  );
  tokens.set(id, { pending: pending });
  return pending;
}

/// An agent call on session `id` with its session token; a `401` (expired) mints another
/// and tries once more.
export function agentCall(id, method, path, body) {
  return sessionToken(id).then(function (token) {
    return request(method, path, "Bearer " + token, body).catch(function (e) {
      if (e.status !== 401) throw e;
      tokens.delete(id);
      return sessionToken(id, true).then(function (again) {
        return request(method, path, "Bearer " + again, body);
      });
    });
  });
}

/// The token we hold for `id` (none while one is being minted).
export function heldToken(id) {
  var t = tokens.get(id);
  return (t && t.token) || null;
}

export function forgetTokens() {
  tokens.clear();
}
