// Alerts: a waiting chat that was not there at the previous poll is announced to screen
// readers and its row pulses; with "Sound & notifications" on (a click, so the browser allows
// audio and asks for notification permission) a short WebAudio chime plays and, if the tab is
// hidden and permission was given, a desktop notification opens the chat on click.

import { $, announce } from "./dom.js";
import { newWaitingText } from "./words.js";
import { K, session } from "./storage.js";
import { openSession } from "./conversation.js";

let alertsOn = false;
let audio = null;

/// The switch as the tab last left it.
export function restoreAlerts() {
  alertsOn = session.get(K.alerts) === "on";
}

export function updateAlertsButton() {
  var b = $("alerts");
  b.setAttribute("aria-pressed", alertsOn ? "true" : "false");
  $("alerts-label").textContent = alertsOn ? "Sound & notifications on" : "Sound & notifications off";
}

export function toggleAlerts() {
  alertsOn = !alertsOn;
  session.set(K.alerts, alertsOn ? "on" : "off");
  updateAlertsButton();
  if (!alertsOn) return;
  // A click is a user gesture: the audio context may start and permission may be asked.
  try {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) audio = new Ctx();
    if (audio && audio.state === "suspended") audio.resume();
  } catch (e) {
    audio = null;
  }
  beep();
  if ("Notification" in window && Notification.permission === "default") {
    try {
      Notification.requestPermission();
    } catch (e) { /* old browsers: the sound is enough */ }
  }
}

function beep() {
  var ctx = audio;
  if (!ctx) return;
  try {
    var now = ctx.currentTime;
    [[880, 0], [1175, 0.16]].forEach(function (tone) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, now + tone[1]);
      gain.gain.exponentialRampToValueAtTime(0.18, now + tone[1] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + tone[1] + 0.22);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + tone[1]);
      osc.stop(now + tone[1] + 0.25);
    });
  } catch (e) { /* no sound */ }
}

/// New waiting chats, each `{id, name, row}` (`row`: its list item, if it is shown).
export function alertNewWaiting(chats) {
  var names = chats.map(function (c) {
    return c.name;
  });
  announce(newWaitingText(names));
  chats.forEach(function (c) {
    var row = c.row;
    if (row) {
      row.classList.add("fresh");
      setTimeout(function () {
        row.classList.remove("fresh");
      }, 6000);
    }
  });
  if (!alertsOn) return;
  beep();
  if ("Notification" in window && Notification.permission === "granted" && document.visibilityState !== "visible") {
    try {
      var first = chats[0];
      var n = new Notification("A visitor is waiting", {
        body: names.join(", "),
        tag: "dgbot-" + first.id,
      });
      n.onclick = function () {
        window.focus();
        openSession(first.id);
        n.close();
      };
    } catch (e) { /* the sound and the title did it */ }
  }
}
