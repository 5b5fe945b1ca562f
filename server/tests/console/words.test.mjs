// Time and words (server/agent/words.js): the texts the console makes from the API's data.
import test from "node:test";
import assert from "node:assert/strict";
import * as w from "../../agent/words.js";

test("durations read as seconds, minutes, hours and minutes, then days", () => {
  assert.equal(w.duration(-5000), "0 s");
  assert.equal(w.duration(44_400), "44 s");
  assert.equal(w.duration(45_000), "1 min");
  assert.equal(w.duration(3 * 60_000 + 20_000), "3 min");
  assert.equal(w.duration(59 * 60_000), "59 min");
  assert.equal(w.duration(60 * 60_000), "1 h 0 min");
  assert.equal(w.duration((2 * 60 + 5) * 60_000), "2 h 5 min");
  assert.equal(w.duration(50 * 3_600_000), "2 d");
});

test("a time today is the time of day; another day also names the date", () => {
  const now = Date.parse("2025-03-14T12:00:00");
  const today = "2025-03-14T09:30:00";
  const earlier = "2025-03-02T09:30:00";
  const month = new Date(earlier).toLocaleString([], { month: "short" });
  assert.ok(!w.clock(today, now).includes(month), w.clock(today, now));
  assert.ok(w.clock(today, now).includes("30"), w.clock(today, now));
  assert.ok(w.clock(earlier, now).includes(month), w.clock(earlier, now));
  assert.equal(w.clock("not a time", now), "");
  assert.equal(w.clock(null, now), "");
  assert.equal(w.parseTime(""), null);
  assert.equal(w.parseTime("2025-03-14T09:30:00Z"), Date.UTC(2025, 2, 14, 9, 30));
});

test("a visitor is their name, else their email, else Visitor and the start of their id", () => {
  assert.equal(w.visitorName({ name: "Ada Jensen", email: "ada@example.com" }), "Ada Jensen");
  assert.equal(w.visitorName({ email: "ada@example.com", id: "v-1" }), "ada@example.com");
  assert.equal(w.visitorName({ id: "0123456789abcdef" }), "Visitor 01234567");
  assert.equal(w.visitorName(null, "abc"), "Visitor abc");
  assert.equal(w.givenName({ id: "x" }), null);
  assert.equal(w.givenName({ email: "a@b.c" }), "a@b.c");
});

test("initials take the first and last word's first letters, across scripts", () => {
  assert.equal(w.initials("Ada Jensen"), "AJ");
  assert.equal(w.initials("ada maria  jensen"), "AJ");
  assert.equal(w.initials("Øyvind"), "Ø");
  assert.equal(w.initials("李 小龙"), "李小");
  assert.equal(w.initials("Ann-Marie (sales)"), "AS");
  assert.equal(w.initials("  -- "), "?");
});

test("a visitor's colour is stable and one of six classes", () => {
  assert.equal(w.hue("visitor-1"), w.hue("visitor-1"));
  const seen = new Set(Array.from({ length: 60 }, (_, i) => w.hue("v" + i)));
  for (const h of seen) assert.match(h, /^hue-[0-5]$/);
  assert.ok(seen.size > 3, [...seen].join());
});

test("a message's preview is one line of its text, pictures and files", () => {
  const m = {
    parts: [
      { type: "rich_text", blocks: [
        { type: "paragraph", spans: [{ type: "text", text: "Hello " }, { type: "bold", text: "there" }] },
        { type: "bullet_list", items: [{ spans: [{ text: "one" }] }, { spans: [{ text: "two" }] }] },
      ] },
      { type: "text", text: "line\n\n  break" },
      { type: "image", alt: "a lamp" },
      { type: "file", filename: "invoice.pdf" },
      { type: "products", products: [{ title: "not in the preview" }] },
    ],
  };
  assert.equal(w.plainText(m), "Hello there • one • two line break 📷 a lamp 📎 invoice.pdf");
  assert.equal(w.plainText({ parts: [{ type: "image" }, { type: "file" }] }), "📷 Picture 📎 File");
  assert.equal(w.plainText({}), "");
});

test("sizes and prices", () => {
  assert.equal(w.sizeText(undefined), "");
  assert.equal(w.sizeText(1023), "1023 B");
  assert.equal(w.sizeText(1536), "1.5 KB");
  assert.equal(w.sizeText(20 * 1024), "20 KB");
  assert.equal(w.sizeText(3.5 * 1024 * 1024), "3.5 MB");
  assert.equal(w.priceText("12", "EUR"), "");
  assert.equal(w.priceText(12.5), "12.5");
  assert.equal(w.priceText(12.5, "EUR"), new Intl.NumberFormat(undefined, { style: "currency", currency: "EUR" }).format(12.5));
  assert.equal(w.priceText(12.5, "not a currency"), "12.5 not a currency");
});

test("how a chat ended, from the signed-in agent's point of view", () => {
  const byAlice = { closed_by: "agent", closed_by_agent_id: "agent-alice" };
  assert.equal(w.closedByText(byAlice, "agent-alice"), "Ended by you");
  assert.equal(w.closedByText(byAlice, "agent-bob"), "Ended by agent-alice");
  assert.equal(w.closedByText({ closed_by: "agent" }, null), "Ended by an agent");
  assert.equal(w.closedByText({ closed_by: "visitor" }, "x"), "Ended by the visitor");
  assert.equal(w.closedByText({ closed_by: "system" }, "x"), "Ended by the system");
  assert.equal(w.closedByText({}, "x"), "Closed");
  const sess = { closed_by: "visitor", close_reason: "Resolved" };
  assert.equal(w.closedText(sess, "x"), "This chat has ended. Ended by the visitor: “Resolved”");
  const at = "2025-03-14T09:30:00Z";
  assert.equal(w.closedText({ closed_by: "system", closed_at: at }, "x"), "This chat has ended. Ended by the system · " + w.clock(at));
});

test("the title, the badge and the announcement count chats", () => {
  assert.equal(w.titleFor(0), "dgbot console");
  assert.equal(w.titleFor(2), "(2) dgbot console");
  assert.equal(w.turnCountText(1), "1 chat needs a reply");
  assert.equal(w.turnCountText(0), "0 chats need a reply");
  assert.equal(w.newWaitingText(["Ada"]), "New chat waiting: Ada");
  assert.equal(w.newWaitingText(["Ada", "Bo"]), "2 new chats waiting");
});

test("the chat's header line says how long, who, or how it ended", () => {
  const now = Date.parse("2025-03-14T12:00:00Z");
  assert.equal(
    w.chatSubText({ status: "waiting", requested_at: "2025-03-14T11:57:00Z" }, null, "me", now),
    "Waiting 3 min · typing or replying takes this chat"
  );
  const alice = { agent_id: "agent-alice", display_name: "Alice from Nordlys" };
  assert.equal(w.chatSubText({ status: "active" }, alice, "agent-alice", now), "You are handling this chat");
  assert.equal(w.chatSubText({ status: "active" }, alice, "agent-bob", now), "With Alice from Nordlys");
  assert.equal(w.chatSubText({ status: "active" }, null, "agent-bob", now), "With another agent");
  assert.equal(w.chatSubText({ status: "closed", closed_by: "visitor", close_reason: "Done" }, null, "me", now), "Ended by the visitor: Done");
  assert.equal(w.statusText("waiting"), "Waiting");
  assert.equal(w.statusText("paused"), "paused");
  assert.equal(w.conflictText("Alice"), "Alice is handling this chat. You can read along, but not write.");
});

test("the side panel: the page and the session values worth a line", () => {
  assert.equal(w.pageOf({ page_url: "https://shop.example/lamps" }), "https://shop.example/lamps");
  assert.equal(w.pageOf({ page: "", url: "https://a.example/" }), "https://a.example/");
  assert.equal(w.pageOf({ page: 42 }), null);
  assert.equal(w.pageOf({}), null);
  assert.deepEqual(
    w.valueLines({ order_number: "A-1", empty: "", none: null, count: 3, ok: false, tags: ["a", "b"], nested: { x: 1 } }),
    [["order number", "A-1"], ["count", "3"], ["ok", "false"], ["tags", "a, b"], ["nested", '{"x":1}']]
  );
  assert.equal(w.fieldLabels([{ key: "email", label: "Email" }, { key: "phone" }]), "Email, phone");
});

test("a transcript gets day headers only when it spans days or is not today's", () => {
  const now = Date.parse("2025-03-14T12:00:00");
  const m = (at) => ({ created_at: at });
  const today = [m("2025-03-14T09:00:00"), m("2025-03-14T09:05:00")];
  assert.deepEqual(w.dayStarts(today, now), [], "a chat of today alone has none");
  const spanning = [m("2025-03-13T23:50:00"), m("2025-03-13T23:55:00"), m(null), m("2025-03-14T00:10:00"), m("2025-03-14T09:00:00")];
  assert.deepEqual(w.dayStarts(spanning, now), [0, 3], "a header before each day's first message");
  assert.deepEqual(w.dayStarts([m("2025-03-10T10:00:00")], now), [0], "one day, not today");
  assert.deepEqual(w.dayStarts([], now), []);
  assert.equal(w.dayKey("2025-03-14T00:10:00"), "2025-03-14");
  assert.equal(w.dayKey("nonsense"), null);
});

test("day headers and times are in the agent's language", () => {
  const now = Date.parse("2025-03-14T12:00:00");
  assert.equal(w.dayHeading("2025-03-14T08:00:00", "en-GB", now), "Today");
  assert.equal(w.dayHeading("2025-03-13T22:00:00", "en-GB", now), "Yesterday");
  assert.equal(w.dayHeading("2025-03-13T22:00:00", "da-DK", now), "I går");
  assert.equal(w.dayHeading("2025-03-14T08:00:00", "de-DE", now), "Heute");
  // Other days: the weekday and the date as Intl writes them (ICU versions differ in details).
  const monday = w.dayHeading("2025-03-10T10:00:00", "en-GB", now);
  assert.ok(monday.includes("Monday") && monday.includes("10 March") && !monday.includes("2025"), monday);
  const mandag = w.dayHeading("2025-03-10T10:00:00", "da-DK", now);
  assert.ok(mandag.includes("mandag") && mandag.includes("marts"), mandag);
  const eve = w.dayHeading("2024-12-24T10:00:00", "en-US", now);
  assert.ok(eve.includes("Tuesday") && eve.includes("December 24") && eve.includes("2024"), "another year names it: " + eve);
  assert.equal(w.dayHeading("", "en-GB", now), "");
  assert.equal(w.timeOfDay("2025-03-14T09:05:00", "en-GB"), "09:05");
  assert.match(w.timeOfDay("2025-03-14T21:05:00", "da-DK"), /^21[.:]05$/);
  assert.match(w.timeOfDay("2025-03-14T21:05:00", "en-US"), /^09:05\sPM$/);
  assert.equal(w.timeOfDay(undefined, "en-GB"), "");
  assert.match(w.fullTime("2025-03-14T09:05:00", "en-GB"), /Friday.*14 March 2025.*09:05/);
});

test("an answer's feedback reads as a thumb and a line", () => {
  assert.equal(w.feedbackText({ value: "up", updated_at: "x" }), "Helpful");
  assert.equal(w.feedbackIcon({ value: "up" }), "👍");
  assert.equal(w.feedbackText({ value: "down", reason: "not_what_i_asked", comment: "Hm" }), "Not helpful: Not what I asked");
  assert.equal(w.feedbackText({ value: "down" }), "Not helpful");
  assert.equal(w.feedbackText({ value: "down", reason: "new_reason" }), "Not helpful: new_reason");
  assert.equal(w.feedbackIcon({ value: "down" }), "👎");
  assert.equal(w.feedbackText(null), "");
  assert.equal(w.feedbackText({ value: "meh" }), "");
  assert.equal(w.suggestionsText(["Warranty", "Payment"]), "Suggested follow-ups: Warranty · Payment");
});
