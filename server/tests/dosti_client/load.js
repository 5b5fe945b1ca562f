// N Dosti visitors on socket.io-client 4.x for server/tests/load_dosti.rs.
// Usage: node load.js <url> <apiKey> <n> [transport: websocket|polling]
// 1. Opens n connections (each its own visitor, 50 connecting at a time) and prints
//    {"event":"connected", ...}; then waits for a line on stdin (the test measures the idle
//    server meanwhile).
// 2. Every visitor sends one question at once and waits for the streamed answer: the
//    assistant's typing (partner_typing), then the answer (receive_message).
// 3. Prints {"event":"done", ...}: answers received, dropped connections, latencies.
"use strict";

const { io } = require("socket.io-client");
const readline = require("readline");

const [url, apiKey, nText, transport = "websocket"] = process.argv.slice(2);
const n = Number(nText);
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const QUESTIONS = [
  "How long does shipping take?",
  "Which lamps do you recommend?",
  "Can I return a lamp?",
  "When are you open on Saturday?",
  "Compare your lamps",
  "Where is my order?",
];

const clients = [];
let disconnected = 0;
let connectErrors = 0;

function open(i) {
  return new Promise((resolve) => {
    const socket = io(url, {
      query: { apiKey, role: "visitor", visitorId: "load_visitor_" + String(i).padStart(5, "0"), visitorName: "Load " + i },
      transports: [transport],
      reconnection: false,
      forceNew: true,
    });
    const client = { socket, sent: 0, typing: 0, answered: 0, lost: false };
    socket.on("connect", () => resolve(client));
    socket.on("connect_error", (err) => {
      connectErrors++;
      say({ event: "connect_error", i, message: err.message });
      resolve(null);
    });
    socket.on("disconnect", () => {
      client.lost = true;
      disconnected++;
    });
    socket.on("partner_typing", () => {
      if (!client.typing) client.typing = performance.now();
    });
    socket.on("receive_message", () => {
      if (!client.answered) {
        client.answered = performance.now();
        finished++;
        if (finished === clients.length) report();
      }
    });
  });
}

let finished = 0;
let began = 0;

function pct(values, p) {
  const v = values.slice().sort((a, b) => a - b);
  return v.length ? Math.round(v[Math.min(v.length - 1, Math.floor(v.length * p))] * 10) / 10 : null;
}

let reported = false;

function report() {
  if (reported) return;
  reported = true;
  const first = clients.filter((c) => c.typing).map((c) => c.typing - c.sent);
  const whole = clients.filter((c) => c.answered).map((c) => c.answered - c.sent);
  say({
    event: "done",
    n,
    connected: clients.length,
    answered: whole.length,
    dropped: clients.filter((c) => c.lost).length,
    first_event_ms: { p50: pct(first, 0.5), p99: pct(first, 0.99), max: pct(first, 1) },
    answer_ms: { p50: pct(whole, 0.5), p99: pct(whole, 0.99), max: pct(whole, 1) },
    elapsed_ms: Math.round(performance.now() - began),
  });
  clients.forEach((c) => c.socket.disconnect());
  setTimeout(() => process.exit(0), 100);
}

async function main() {
  const started = performance.now();
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => open(i + j)));
    batch.forEach((c) => c && clients.push(c));
  }
  say({ event: "connected", n, connected: clients.length, connect_errors: connectErrors, ms: Math.round(performance.now() - started), transport });
  const lines = readline.createInterface({ input: process.stdin });
  await new Promise((resolve) => lines.once("line", resolve));
  began = performance.now();
  clients.forEach((c, i) => {
    c.sent = performance.now();
    c.socket.emit("send_message", { type: "saas", message: QUESTIONS[i % QUESTIONS.length] });
  });
  // Whatever has not come in 120 s is dropped.
  setTimeout(report, 120000);
}

main();
