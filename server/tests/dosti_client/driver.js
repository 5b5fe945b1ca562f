// A socket.io-client 4.x driver for server/tests/dosti.rs. It reads commands as JSON lines on
// stdin and prints everything that happens as JSON lines on stdout, so the Rust test can play
// one or more Dosti visitors (tabs) step by step and assert on what they receive.
//
//   {"cmd":"connect","tab":"a","url":"http://127.0.0.1:1234","query":{...},"transports":[...],
//    "extraHeaders":{...}}
//   {"cmd":"emit","tab":"a","event":"send_message","args":[{"type":"saas","message":"hi"}],"ack":true}
//   {"cmd":"raw","tab":"a","data":"42[\"send_message\""}   (an engine.io message packet as is)
//   {"cmd":"disconnect","tab":"a"}
//   {"cmd":"exit"}
//
// Output: {"tab":"a","event":"connect"} | {"tab":"a","event":"connect_error","message":"…"} |
// {"tab":"a","event":"<server event>","args":[…]} | {"tab":"a","event":"ack","args":[…]} |
// {"tab":"a","event":"disconnect","reason":"…"}.
"use strict";

const { io } = require("socket.io-client");
const readline = require("readline");

const tabs = new Map();
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");

function connect(cmd) {
  const socket = io(cmd.url, {
    query: cmd.query,
    transports: cmd.transports || ["polling", "websocket"],
    extraHeaders: cmd.extraHeaders || {},
    reconnection: false,
    forceNew: true,
  });
  tabs.set(cmd.tab, socket);
  socket.on("connect", () => say({ tab: cmd.tab, event: "connect", transport: socket.io.engine.transport.name }));
  socket.on("connect_error", (err) => say({ tab: cmd.tab, event: "connect_error", message: err.message }));
  socket.on("disconnect", (reason) => say({ tab: cmd.tab, event: "disconnect", reason }));
  socket.onAny((event, ...args) => say({ tab: cmd.tab, event, args }));
}

function run(cmd) {
  const socket = tabs.get(cmd.tab);
  switch (cmd.cmd) {
    case "connect":
      return connect(cmd);
    case "emit":
      if (cmd.ack) {
        return socket.emit(cmd.event, ...(cmd.args || []), (...args) => say({ tab: cmd.tab, event: "ack", args }));
      }
      return socket.emit(cmd.event, ...(cmd.args || []));
    case "raw":
      return socket.io.engine.write(cmd.data);
    case "disconnect":
      return socket.disconnect();
    case "exit":
      tabs.forEach((s) => s.disconnect());
      return setTimeout(() => process.exit(0), 50);
    default:
      say({ event: "driver_error", message: "unknown command " + cmd.cmd });
  }
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  try {
    run(JSON.parse(line));
  } catch (e) {
    say({ event: "driver_error", message: String(e && e.stack || e) });
  }
});
process.stdin.on("end", () => process.exit(0));
