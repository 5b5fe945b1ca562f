// A webhook receiver for the tests: verifies every delivery with seed 002's own
// verifyDialogeWebhook (verify.ts, compiled by TypeScript at start), answers 500 to the first
// FAIL_FIRST deliveries of each event_id and 200 after, and prints one JSON line per delivery.
// FAIL_EVERY=n also answers 500 to every n-th delivery overall (the load benchmark).
// Env: DGBOT_TYPESCRIPT (the typescript package), SECRET, PORT (0: any), FAIL_FIRST, FAIL_EVERY.
"use strict";
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const ts = require(process.env.DGBOT_TYPESCRIPT);

const source = fs.readFileSync(path.join(__dirname, "verify.ts"), "utf8");
const compiled = ts.transpileModule(source, {
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 },
}).outputText;
const mod = { exports: {} };
new Function("require", "module", "exports", compiled)(require, mod, mod.exports);
const { verifyDialogeWebhook } = mod.exports;

const failFirst = Number(process.env.FAIL_FIRST || 0);
const failEvery = Number(process.env.FAIL_EVERY || 0);
const seen = new Map();
let deliveries = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const h = req.headers;
    const verified = verifyDialogeWebhook({
      rawBody,
      timestamp: String(h["x-di-timestamp"] || ""),
      signature: String(h["x-di-signature"] || ""),
      signingSecret: process.env.SECRET,
    });
    let body = null;
    try { body = JSON.parse(rawBody); } catch (e) {}
    const id = body && body.event_id;
    const n = (seen.get(id) || 0) + 1;
    seen.set(id, n);
    deliveries += 1;
    const unlucky = failEvery > 0 && deliveries % failEvery === 0;
    const status = !verified ? 401 : n <= failFirst || unlucky ? 500 : 200;
    const headers = {};
    for (const k of ["x-di-event", "x-di-timestamp", "x-di-signature", "x-di-delivery-id", "x-di-attempt", "x-di-environment"]) {
      headers[k] = h[k] === undefined ? null : String(h[k]);
    }
    console.log(JSON.stringify({ verified, status, headers, body }));
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(status === 200 ? "ok" : "no");
  });
});
server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
