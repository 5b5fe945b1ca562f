// The API's replies (server/agent/api.js): the error envelope, Basic auth, token lifetimes and
// what a refused write says.
import test from "node:test";
import assert from "node:assert/strict";
import * as api from "../../agent/api.js";

test("a good reply is its JSON, or null when empty or not JSON", () => {
  assert.deepEqual(api.readReply(true, 200, "OK", '{"count":2}'), { count: 2 });
  assert.equal(api.readReply(true, 204, "No Content", ""), null);
  assert.equal(api.readReply(true, 200, "OK", "<html>"), null);
});

test("a refused reply throws the API's error envelope", () => {
  const body = JSON.stringify({ error: { code: "conflict", message: "Another agent (agent-alice) is assigned", params: [{ field: "x", message: "y" }] } });
  assert.throws(() => api.readReply(false, 409, "Conflict", body), (e) => {
    assert.ok(e instanceof api.ApiError);
    assert.equal(e.status, 409);
    assert.equal(e.code, "conflict");
    assert.equal(e.message, "Another agent (agent-alice) is assigned");
    assert.deepEqual(e.params, [{ field: "x", message: "y" }]);
    return true;
  });
  assert.throws(() => api.readReply(false, 502, "Bad Gateway", "<html>"), { status: 502, code: "http_502", message: "Bad Gateway", params: [] });
  assert.throws(() => api.readReply(false, 500, "", ""), { code: "http_500", message: "Request failed" });
  assert.equal(api.networkError().status, 0);
});

test("Basic auth is the key as the user name, empty password, UTF-8", () => {
  assert.equal(api.basicAuth("demo-secret-key"), "Basic " + Buffer.from("demo-secret-key:").toString("base64"));
  assert.equal(api.base64Text("nøgle€"), Buffer.from("nøgle€", "utf8").toString("base64"));
});

test("a session token is kept until a minute before it expires", () => {
  const now = Date.parse("2025-03-14T12:00:00Z");
  const t = api.tokenEntry({ token: "t1", expires_at: "2025-03-14T12:05:00Z" }, now);
  assert.deepEqual(t, { token: "t1", expiresAt: Date.parse("2025-03-14T12:05:00Z") });
  assert.equal(api.tokenUsable(t, now), true);
  assert.equal(api.tokenUsable(t, t.expiresAt - 60_000), false);
  assert.equal(api.tokenUsable(t, t.expiresAt - 61_000), true);
  assert.equal(api.tokenUsable(undefined, now), false);
  assert.equal(api.tokenUsable({ pending: Promise.resolve() }, now), false);
  assert.equal(api.tokenEntry({ token: "t2", expires_at: "soon" }, now).expiresAt, now + 10 * 60_000);
});

test("a refused write names the other agent, or says what was wrong", () => {
  assert.equal(api.agentNamedIn("Another agent (agent-alice) is assigned to this session"), "agent-alice");
  assert.equal(api.agentNamedIn("The session is closed"), "Another agent");
  assert.equal(api.agentNamedIn(undefined), "Another agent");
  assert.equal(api.refusalText({ message: "Invalid message.", params: [{ message: "Too long." }, { message: "Bad type." }] }), "Invalid message. Too long. Bad type.");
  assert.equal(api.refusalText({ params: [] }), "That did not work.");
  assert.equal(api.profileRefusalText({ message: "Invalid", params: [{ field: "avatar_url", message: "must be https" }] }), "avatar_url: must be https");
  assert.equal(api.profileRefusalText({ message: "Invalid", params: [] }), "Invalid");
});
