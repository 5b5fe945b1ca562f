// The reply the agent writes, decided without the DOM: when "typing…" is sent again, the
// message's parts, an attachment's part and limit, the text box's height, whether Send is on
// and the note above the composer. Pure; composer.js puts it on the page.

import { sizeText } from "./words.js";
import { IMAGE_TYPES } from "./urls.js";

export const TYPING_IDLE_MS = 3000;
// The server forgets "typing" 15 s after the last `is_typing: true`: refresh it while typing.
export const TYPING_REFRESH_MS = 8000;

/// A keystroke sends `is_typing: true` when we were not typing, or last said so long ago.
export function typingDue(typingOn, lastTypingAt, now) {
  return !typingOn || now - lastTypingAt > TYPING_REFRESH_MS;
}

/// The text box grows with its lines, up to eight.
export function replyRows(text) {
  return Math.min(8, Math.max(1, text.split("\n").length));
}

/// The message's parts: the text (trimmed), then the attachment; none when both are empty.
export function messageParts(text, pending) {
  var parts = [];
  if (text) parts.push({ type: "text", text: text });
  if (pending) parts.push(pending.part);
  return parts;
}

export function sendDisabled(ok, sending, text, pending) {
  return !ok || !!sending || (!text.trim() && !pending);
}

/// The note above a writable composer (`status` null until the context is read).
export function composerNote(status, conflict) {
  if (!status || conflict) return "";
  return status === "waiting" ? "The visitor is waiting for a person: your first keystroke or message takes the chat." : "";
}

/// The chatbot's attachment size limit (10 MiB when the settings are not known).
export function attachmentLimit(settings) {
  return (settings && settings.max_attachment_size_bytes) || 10 * 1024 * 1024;
}

export function tooLargeText(file, max) {
  return file.name + " is " + sizeText(file.size) + "; the limit is " + sizeText(max) + ".";
}

/// A file read as a data URL, as a message part: base64 `image` (the picture types the widget
/// shows) or `file`, with `mime` and `filename`.
export function attachmentPart(dataUrl, file) {
  var url = String(dataUrl || "");
  var data = url.slice(url.indexOf(",") + 1);
  var mime = file.type || "application/octet-stream";
  var type = IMAGE_TYPES.indexOf(mime) >= 0 ? "image" : "file";
  return { type: type, data: data, mime: mime, filename: file.name };
}

export function pendingText(file) {
  return file.name + " · " + sizeText(file.size);
}
