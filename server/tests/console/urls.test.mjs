// Safe links and pictures (server/agent/urls.js): nothing but http(s), mailto and tel
// becomes a link, nothing but http(s) or base64 pictures of known types becomes an image.
import test from "node:test";
import assert from "node:assert/strict";
import { safeHref, safeImageSrc } from "../../agent/urls.js";

const base = "https://console.example/agent/";

test("links: http(s), mailto and tel only", () => {
  assert.equal(safeHref("https://shop.example/a b", base), null, "whitespace is refused");
  assert.equal(safeHref("https://shop.example/lamp", base), "https://shop.example/lamp");
  assert.equal(safeHref("mailto:ada@example.com", base), "mailto:ada@example.com");
  assert.equal(safeHref("tel:+4512345678", base), "tel:+4512345678");
  assert.equal(safeHref("javascript:alert(1)", base), null);
  assert.equal(safeHref("JavaScript:alert(1)", base), null);
  assert.equal(safeHref("data:text/html,<b>x</b>", base), null);
  assert.equal(safeHref("java\tscript:alert(1)", base), null);
  assert.equal(safeHref("https://a.example/\u0000", base), null);
  assert.equal(safeHref(42, base), null);
});

test("links: relative ones resolve against the page", () => {
  assert.equal(safeHref("/api/v1/chat/livechat/attachments/1?token=t", base), "https://console.example/api/v1/chat/livechat/attachments/1?token=t");
  assert.equal(safeHref("/relative"), null, "no page to resolve against");
});

test("pictures: http(s) URLs or base64 data of the picture types", () => {
  assert.equal(safeImageSrc("https://cdn.example/p.png", null, null, base), "https://cdn.example/p.png");
  assert.equal(safeImageSrc("mailto:a@b.c", null, null, base), null);
  assert.equal(safeImageSrc(null, "iVBORw0KGgo=", "image/png"), "data:image/png;base64,iVBORw0KGgo=");
  assert.equal(safeImageSrc(null, "PHN2Zz4=", "image/svg+xml"), null, "no SVG");
  assert.equal(safeImageSrc(null, "abc\";x=", "image/png"), null, "only base64");
  assert.equal(safeImageSrc(null, null, "image/png"), null);
});
