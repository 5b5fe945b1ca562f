// Seed 004's "Native Android Integration (Kotlin)" example, line for line in JavaScript with
// socket.io-client 4.x: the same query string, the same send_message and receive_message.
// Usage: node seed_android.js <server url> <apiKey>; prints JSON lines, exits after the first
// reply (or after 20 s).
"use strict";

const { io } = require("socket.io-client");
const [url, apiKey] = process.argv.slice(2);
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");

// Initialize connection options
const options = {
  query: "apiKey=" + apiKey + "&role=visitor&visitorId=android_user_789&visitorName=JohnDoe",
};

// Connect to socket backend
const socket = io(url, options);

socket.on("connect", () => {
  say({ event: "connect", text: "Connected to Dosti Support Room!" });
  // Send a chat message
  const payload = { type: "saas", message: "Hello from Android Native App!" };
  socket.emit("send_message", payload);
});

socket.on("connect_error", (err) => {
  say({ event: "connect_error", message: err.message });
  process.exit(1);
});

// Listen for replies from support agent
socket.on("receive_message", (data) => {
  const message = data.message;
  const senderName = data.visitorName; // "Support"
  say({ event: "receive_message", senderName, message, visitorId: data.visitorId });
  socket.disconnect();
  process.exit(0);
});

setTimeout(() => {
  say({ event: "timeout" });
  process.exit(2);
}, 20000);
