// dgbot agent console: a support person's page for seed 002's livechat, using only the public
// livechat API of the server it is served from (docs/console.md). Native ES modules, no build
// step; this one starts the console and wires the page's controls.
//
// Server text is only ever put in the page as text nodes (textContent; never parsed as markup), and
// the page runs under a strict Content-Security-Policy: no inline script or style.
//
// The modules, and which imports which (no cycles: each imports only modules above it here):
//
//   pure (no DOM, no network; Node's test runner imports them, server/tests/console/):
//     words.js          time and words                         nothing
//     urls.js           safe links and pictures                nothing
//     api.js            the API's replies, errors, tokens      nothing
//     profiles.js       agent id rule, recent profiles         nothing
//     queue-rows.js     the queue's groups, order, rows        words
//     reply.js          typing, parts, attachments, Send       words, urls
//   the page:
//     storage.js        session/local storage, or memory       nothing
//     dom.js            small DOM helpers                      words, urls
//     account.js        key, profile, settings, epoch          storage
//     http.js           fetch, API key, session tokens         api, account
//     transcript.js     the messages of the open chat          dom, words, urls, account
//     details.js        the visitor side panel                 dom, words
//     conversation.js   the open chat and its reads            dom, words, api, http, account, transcript, details
//     alerts.js         announcement, chime, notification      dom, words, storage, conversation
//     queue.js          the queue and its polls                dom, words, queue-rows, http, account, alerts, conversation
//     composer.js       typing, sending, attaching             dom, api, reply, http, account, conversation, transcript, queue
//     closing.js        "End chat"                             dom, http, account, conversation, composer, queue
//     screens.js        sign-in, profile, workspace            dom, words, storage, profiles, api, http, account, alerts, queue, conversation, composer
//     main.js           start and wiring                       dom, account, http, alerts, conversation, queue, composer, closing, screens
//
// Two calls go upward, so they are connected here instead of imported: a refused API key signs
// the agent out (http.js → screens.js), and the queue's rows, the composer and the close panel
// follow the open chat (conversation.js `follow`).

import { $ } from "./dom.js";
import { agent, apiKey, restoreAccount } from "./account.js";
import { whenKeyRefused } from "./http.js";
import { restoreAlerts, toggleAlerts } from "./alerts.js";
import { follow } from "./conversation.js";
import { queueFollower } from "./queue.js";
import { attachChosen, clearPending, composerFollower, leavePage, onInput, send, stopTypingNow } from "./composer.js";
import { closeChat, closePanelFollower, hideClosePanel, showClosePanel } from "./closing.js";
import { enterWorkspace, saveProfile, screen, showProfile, signIn, signOut, switchProfile } from "./screens.js";

function start() {
  restoreAccount();
  restoreAlerts();
  wire();
  if (!apiKey()) {
    screen("signin");
    $("api-key").focus();
  } else if (!agent()) {
    showProfile();
  } else {
    enterWorkspace();
  }
}

// ---------------------------------------------------------------- wiring

function wire() {
  whenKeyRefused(signOut);
  follow(queueFollower);
  follow(composerFollower);
  follow(closePanelFollower);

  $("signin-form").addEventListener("submit", signIn);
  $("profile-form").addEventListener("submit", saveProfile);
  $("sign-out").addEventListener("click", function () {
    signOut("");
  });
  $("switch-profile").addEventListener("click", switchProfile);
  $("alerts").addEventListener("click", toggleAlerts);
  $("composer-form").addEventListener("submit", send);
  var reply = $("reply");
  reply.addEventListener("input", onInput);
  reply.addEventListener("blur", function () {
    stopTypingNow();
  });
  reply.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  $("attach").addEventListener("change", attachChosen);
  $("pending-remove").addEventListener("click", function () {
    clearPending();
    $("reply").focus();
  });
  $("close-open").addEventListener("click", function () {
    if ($("close-panel").hidden) showClosePanel();
    else hideClosePanel();
  });
  $("close-cancel").addEventListener("click", function () {
    hideClosePanel();
    $("close-open").focus();
  });
  $("close-panel").addEventListener("submit", closeChat);
  $("close-panel").addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      hideClosePanel();
      $("close-open").focus();
    }
  });
  // Leaving the page: stop "typing…" for the visitor.
  window.addEventListener("pagehide", leavePage);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
