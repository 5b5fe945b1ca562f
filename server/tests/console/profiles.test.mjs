// Agent profiles (server/agent/profiles.js): the id rule and the recent list.
import test from "node:test";
import assert from "node:assert/strict";
import { parseRecent, validAgentId, withRecent } from "../../agent/profiles.js";

test("agent ids: letters, digits, dots, dashes, underscores and @, up to 128", () => {
  for (const id of ["agent-alice", "a", "ada.j_2@shop", "x".repeat(128)]) assert.ok(validAgentId(id), id);
  for (const id of ["", "agent alice", "ågent", "a/b", "x".repeat(129), "a\n"]) assert.ok(!validAgentId(id), JSON.stringify(id));
});

test("the stored list keeps only profiles and survives garbage", () => {
  const stored = JSON.stringify([{ agent_id: "a", display_name: "A" }, { agent_id: 1, display_name: "B" }, null, { agent_id: "c" }]);
  assert.deepEqual(parseRecent(stored), [{ agent_id: "a", display_name: "A" }]);
  assert.deepEqual(parseRecent("{not json"), []);
  assert.deepEqual(parseRecent('{"agent_id":"a"}'), []);
  assert.deepEqual(parseRecent(null), []);
});

test("a used profile goes first, once, and the list keeps six", () => {
  const list = ["a", "b", "c", "d", "e", "f"].map((id) => ({ agent_id: id, display_name: id.toUpperCase() }));
  const next = withRecent(list, { agent_id: "c", display_name: "Cee", avatar_url: null });
  assert.deepEqual(next.map((p) => p.agent_id), ["c", "a", "b", "d", "e", "f"]);
  assert.equal(next[0].display_name, "Cee");
  assert.ok(!("avatar_url" in JSON.parse(JSON.stringify(next[0]))), "no empty avatar stored");
  const longer = withRecent(list, { agent_id: "g", display_name: "G", avatar_url: "https://x.example/g.png" });
  assert.deepEqual(longer.map((p) => p.agent_id), ["g", "a", "b", "c", "d", "e"]);
  assert.equal(longer[0].avatar_url, "https://x.example/g.png");
  assert.equal(list.length, 6, "the old list is not changed");
});
