// The reply the agent writes (server/agent/reply.js): typing refreshes, parts, attachments,
// the Send button and the composer's note.
import test from "node:test";
import assert from "node:assert/strict";
import * as r from "../../agent/reply.js";

test("typing is sent at the first keystroke and refreshed after 8 s, before the server's 15 s", () => {
  assert.equal(r.typingDue(false, 0, 1000), true);
  assert.equal(r.typingDue(true, 1000, 1000 + r.TYPING_REFRESH_MS), false);
  assert.equal(r.typingDue(true, 1000, 1001 + r.TYPING_REFRESH_MS), true);
  assert.ok(r.TYPING_REFRESH_MS < 15_000);
  assert.equal(r.TYPING_IDLE_MS, 3000);
});

test("the reply box grows with its lines, one to eight", () => {
  assert.equal(r.replyRows(""), 1);
  assert.equal(r.replyRows("a\nb\nc"), 3);
  assert.equal(r.replyRows("\n".repeat(20)), 8);
});

test("a message is its text then its attachment", () => {
  const pending = { part: { type: "file", data: "AA==", mime: "application/pdf", filename: "a.pdf" } };
  assert.deepEqual(r.messageParts("Hi", null), [{ type: "text", text: "Hi" }]);
  assert.deepEqual(r.messageParts("Hi", pending), [{ type: "text", text: "Hi" }, pending.part]);
  assert.deepEqual(r.messageParts("", pending), [pending.part]);
  assert.deepEqual(r.messageParts("", null), []);
});

test("Send is on for a writable chat with text or an attachment, not while sending", () => {
  assert.equal(r.sendDisabled(true, false, "Hi", null), false);
  assert.equal(r.sendDisabled(true, false, "  \n ", null), true);
  assert.equal(r.sendDisabled(true, false, "", { part: {} }), false);
  assert.equal(r.sendDisabled(true, true, "Hi", null), true);
  assert.equal(r.sendDisabled(false, false, "Hi", null), true);
});

test("the note tells that the first keystroke takes a waiting chat", () => {
  assert.match(r.composerNote("waiting", null), /first keystroke or message takes the chat/);
  assert.equal(r.composerNote("waiting", "Alice"), "");
  assert.equal(r.composerNote("active", null), "");
  assert.equal(r.composerNote(null, null), "");
});

test("attachments: the chatbot's limit, pictures as images, everything else as files", () => {
  assert.equal(r.attachmentLimit(null), 10 * 1024 * 1024);
  assert.equal(r.attachmentLimit({ max_attachment_size_bytes: 2048 }), 2048);
  assert.equal(r.tooLargeText({ name: "big.zip", size: 3 * 1024 * 1024 }, 2 * 1024 * 1024), "big.zip is 3.0 MB; the limit is 2.0 MB.");
  assert.deepEqual(r.attachmentPart("data:image/png;base64,iVBORw0KGgo=", { name: "p.png", type: "image/png" }), {
    type: "image", data: "iVBORw0KGgo=", mime: "image/png", filename: "p.png",
  });
  assert.deepEqual(r.attachmentPart("data:image/svg+xml;base64,PHN2Zz4=", { name: "p.svg", type: "image/svg+xml" }).type, "file");
  assert.deepEqual(r.attachmentPart("data:application/octet-stream;base64,AA==", { name: "x", type: "" }), {
    type: "file", data: "AA==", mime: "application/octet-stream", filename: "x",
  });
  assert.equal(r.pendingText({ name: "a.pdf", size: 1536 }), "a.pdf · 1.5 KB");
});
