// What the queue shows (server/agent/queue-rows.js): groups and their order, summaries, new
// waiting chats, each row's texts and tags.
import test from "node:test";
import assert from "node:assert/strict";
import * as q from "../../agent/queue-rows.js";

const at = (m) => "2025-03-14T12:" + String(m).padStart(2, "0") + ":00Z";
const ids = (list) => list.map((s) => s.livechat_session_id);

test("waiting chats: the longest waiting first; equal times keep the list's age order", () => {
  // The API lists newest first.
  const sessions = [
    { livechat_session_id: "w-new", status: "waiting", requested_at: at(9) },
    { livechat_session_id: "w-tie-newer", status: "waiting", requested_at: at(5) },
    { livechat_session_id: "w-tie-older", status: "waiting", requested_at: at(5) },
    { livechat_session_id: "w-old", status: "waiting", requested_at: at(1) },
  ];
  assert.deepEqual(ids(q.groupsOf(sessions).waiting), ["w-old", "w-tie-older", "w-tie-newer", "w-new"]);
});

test("active chats: those needing a reply first, then the latest", () => {
  const sessions = [
    { livechat_session_id: "a-latest", status: "active", turn: "visitor", updated_at: at(9) },
    { livechat_session_id: "a-older", status: "active", turn: "visitor", updated_at: at(2) },
    { livechat_session_id: "a-reply-old", status: "active", turn: "agent", updated_at: at(1) },
    { livechat_session_id: "a-reply-new", status: "active", turn: "agent", updated_at: at(4) },
  ];
  assert.deepEqual(ids(q.groupsOf(sessions).active), ["a-reply-new", "a-reply-old", "a-latest", "a-older"]);
});

test("closed chats: newest first, the last eight only; other statuses nowhere", () => {
  const sessions = Array.from({ length: 10 }, (_, i) => ({ livechat_session_id: "c" + i, status: "closed", closed_at: at(i) }));
  sessions.push({ livechat_session_id: "odd", status: "paused" });
  const groups = q.groupsOf(sessions);
  assert.equal(q.CLOSED_SHOWN, 8);
  assert.deepEqual(ids(groups.closed), ["c9", "c8", "c7", "c6", "c5", "c4", "c3", "c2"]);
  assert.deepEqual(groups.waiting, []);
  assert.deepEqual(groups.active, []);
});

test("a summary is the visitor's name and their last message", () => {
  const ctx = {
    state_version: 7,
    livechat_session: { livechat_session_id: "s1" },
    visitor: { id: "v-123456789", email: "ada@example.com" },
    agent: { agent_id: "agent-alice", display_name: "Alice" },
    transcript: [
      { role: "user", parts: [{ type: "text", text: "first" }] },
      { role: "user", parts: [{ type: "text", text: "  last\nquestion " }] },
      { role: "agent", parts: [{ type: "text", text: "an answer" }] },
    ],
  };
  assert.deepEqual(q.summaryOf(ctx), { version: 7, name: "ada@example.com", given: "ada@example.com", preview: "last question", agentName: "Alice" });
  const quiet = q.summaryOf({ state_version: 1, visitor: { id: "v-123456789" } });
  assert.deepEqual(quiet, { version: 1, name: "Visitor v-123456", given: null, preview: "", agentName: null });
});

test("summaries are read for new or changed rows in the queue's order, a few per poll, not the open chat's", () => {
  const sessions = [
    { livechat_session_id: "closed", status: "closed", state_version: 1, closed_at: at(1) },
    { livechat_session_id: "active-same", status: "active", state_version: 3, updated_at: at(1) },
    { livechat_session_id: "active-moved", status: "active", state_version: 4, updated_at: at(2) },
    { livechat_session_id: "open-moved", status: "active", state_version: 9, updated_at: at(3) },
    { livechat_session_id: "waiting", status: "waiting", state_version: 1, requested_at: at(1) },
  ];
  const summaries = new Map([
    ["active-same", { version: 3 }],
    ["active-moved", { version: 2 }],
    ["open-moved", { version: 8 }],
  ]);
  assert.deepEqual(ids(q.summariesToRead(sessions, summaries, "open-moved")), ["waiting", "active-moved", "closed"]);
  assert.deepEqual(ids(q.summariesToRead(sessions, summaries, null)), ["waiting", "open-moved", "active-moved", "closed"]);
  const many = Array.from({ length: 9 }, (_, i) => ({ livechat_session_id: "w" + i, status: "waiting", requested_at: at(i) }));
  assert.deepEqual(ids(q.summariesToRead(many, new Map(), null)), ["w0", "w1", "w2", "w3", "w4", "w5"]);
});

test("waiting chats alert once, and not those there at sign-in", () => {
  const w = (id) => ({ livechat_session_id: id, status: "waiting" });
  const first = q.newlyWaiting([w("a"), w("b")], null);
  assert.deepEqual(first.fresh, []);
  const second = q.newlyWaiting([w("a"), w("b"), w("c")], first.seen);
  assert.deepEqual(ids(second.fresh), ["c"]);
  assert.ok(!first.seen.has("c"), "the earlier set is not changed");
  // A chat taken and then waiting again does not alert twice.
  const third = q.newlyWaiting([w("c")], second.seen);
  const fourth = q.newlyWaiting([w("a"), w("c")], third.seen);
  assert.deepEqual(fourth.fresh, []);
});

test("a row's name, time and preview", () => {
  const now = Date.parse(at(10));
  const s = { livechat_session_id: "s", status: "waiting", requested_at: at(7), visitor_id: "0123456789" };
  assert.equal(q.rowName(s, undefined), "Visitor 01234567");
  assert.equal(q.rowName(s, { name: "Ada" }), "Ada");
  assert.equal(q.rowTime(s, now), "waiting 3 min");
  assert.equal(q.rowTime({ ...s, requested_at: null }, now), "waiting 0 s");
  assert.equal(q.rowTime({ status: "closed", closed_at: "bad" }, now), "");
  assert.equal(q.rowPreview(undefined), "…");
  assert.equal(q.rowPreview({ preview: "" }), "No messages yet");
  assert.equal(q.rowPreview({ preview: "Hi" }), "Hi");
});

test("a row's tags say whose move it is, who has it and how it ended", () => {
  const me = "agent-alice";
  assert.deepEqual(q.rowTags({ status: "waiting", turn: "agent" }, null, me), [["turn", "Needs an agent"]]);
  assert.deepEqual(q.rowTags({ status: "active", turn: "agent", agent_id: me }, null, me), [["turn", "Needs a reply"], ["mine", "You"]]);
  assert.deepEqual(q.rowTags({ status: "active", turn: "visitor", agent_id: "agent-bob" }, { agentName: "Bob" }, me), [["other", "Bob"]]);
  assert.deepEqual(q.rowTags({ status: "active", agent_id: "agent-bob" }, undefined, me), [["other", "agent-bob"]]);
  assert.deepEqual(q.rowTags({ status: "closed", turn: "agent", closed_by: "agent", closed_by_agent_id: me }, null, me), [["ended", "Ended by you"]]);
  const tags = q.rowTags({ status: "active", turn: "agent", agent_id: me }, null, me);
  assert.equal(q.rowLabel("Ada", "12:03", "Hello", tags), "Ada, 12:03. Hello. Needs a reply, You");
  assert.equal(q.rowLabel("Ada", "waiting 1 min", "…", []), "Ada, waiting 1 min. …");
});
