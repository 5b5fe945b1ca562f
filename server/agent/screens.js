// Screens: sign-in with the chatbot API key, the agent's profile ("Who's answering?"), and the
// workspace (the queue and the conversation), one at a time.

import { $, el, setAvatar, show } from "./dom.js";
import { TITLE } from "./words.js";
import { K, local } from "./storage.js";
import { parseRecent, validAgentId, withRecent } from "./profiles.js";
import { basicAuth, profileRefusalText } from "./api.js";
import { forgetTokens, keyCall, request } from "./http.js";
import { agent, epoch, forgetAccount, keepAgent, keepKey, keepSettings, settings } from "./account.js";
import { updateAlertsButton } from "./alerts.js";
import { queueLoop, resetQueue } from "./queue.js";
import { chatLoop, closeConversationView, forgetChat, openChat } from "./conversation.js";
import { stopTypingNow, updateComposer } from "./composer.js";

let running = false; // the polls of this sign-in have started

export function screen(name) {
  show($("signin"), name === "signin");
  show($("profile"), name === "profile");
  show($("workspace"), name === "workspace");
  show($("topbar-tools"), name === "workspace");
  document.body.setAttribute("data-screen", name);
}

export function signOut(message) {
  stopTypingNow();
  forgetAccount();
  running = false;
  resetQueue();
  forgetTokens();
  forgetChat();
  document.title = TITLE;
  $("api-key").value = "";
  $("signin-error").textContent = message || "";
  screen("signin");
  $("api-key").focus();
}

export function signIn(event) {
  event.preventDefault();
  var key = $("api-key").value.trim();
  var error = $("signin-error");
  if (!key) {
    error.textContent = "Enter the chatbot's API key.";
    $("api-key").focus();
    return;
  }
  var button = $("signin-submit");
  button.disabled = true;
  error.textContent = "";
  // Any API-key call checks the key; the settings are needed anyway (attachments).
  request("GET", "/livechat/settings", basicAuth(key))
    .then(function (s) {
      keepKey(key);
      keepSettings(s);
      $("api-key").value = "";
      showProfile();
    })
    .catch(function (e) {
      error.textContent = e.status === 401 ? "That API key is not known to this server." : e.message;
      $("api-key").select();
    })
    .finally(function () {
      button.disabled = false;
    });
}

function recentProfiles() {
  return parseRecent(local.get(K.recent));
}

function remember(profile) {
  local.set(K.recent, JSON.stringify(withRecent(recentProfiles(), profile)));
}

export function showProfile() {
  screen("profile");
  var list = $("recent-list");
  list.textContent = "";
  var recent = recentProfiles();
  recent.forEach(function (p) {
    var li = el("li");
    var b = el("button", "recent-item");
    b.type = "button";
    b.setAttribute("data-testid", "recent-profile");
    b.setAttribute("data-agent-id", p.agent_id);
    var av = el("span", "avatar small");
    av.setAttribute("aria-hidden", "true");
    setAvatar(av, p.display_name, p.agent_id, p.avatar_url);
    var text = el("span", "recent-text");
    text.appendChild(el("span", "recent-name", p.display_name));
    text.appendChild(el("span", "recent-id", p.agent_id));
    b.appendChild(av);
    b.appendChild(text);
    b.addEventListener("click", function () {
      $("agent-id").value = p.agent_id;
      $("agent-name").value = p.display_name;
      $("agent-avatar").value = p.avatar_url || "";
      saveProfile();
    });
    li.appendChild(b);
    list.appendChild(li);
  });
  show($("recent-wrap"), recent.length > 0);
  var me = agent();
  if (me) {
    $("agent-id").value = me.agent_id;
    $("agent-name").value = me.display_name;
    $("agent-avatar").value = me.avatar_url || "";
  }
  $("profile-error").textContent = "";
  $("agent-id").focus();
}

export function saveProfile(event) {
  if (event) event.preventDefault();
  var id = $("agent-id").value.trim();
  var name = $("agent-name").value.trim();
  var avatar = $("agent-avatar").value.trim();
  var error = $("profile-error");
  if (!validAgentId(id)) {
    error.textContent = "The agent id is letters, digits, dots, dashes, underscores or @ (e.g. agent-alice).";
    $("agent-id").focus();
    return;
  }
  if (!name) {
    error.textContent = "Enter the name visitors will see.";
    $("agent-name").focus();
    return;
  }
  var body = { display_name: name };
  if (avatar) body.avatar_url = avatar;
  var button = $("profile-submit");
  button.disabled = true;
  error.textContent = "";
  keyCall("PUT", "/livechat/agents/" + encodeURIComponent(id), body)
    .then(function (profile) {
      remember(keepAgent(profile));
      enterWorkspace();
    })
    .catch(function (e) {
      error.textContent = profileRefusalText(e);
    })
    .finally(function () {
      button.disabled = false;
    });
}

export function enterWorkspace() {
  screen("workspace");
  var me = agent();
  $("me-name").textContent = me.display_name;
  $("me-id").textContent = me.agent_id;
  setAvatar($("me-avatar"), me.display_name, me.agent_id, me.avatar_url);
  updateAlertsButton();
  if (openChat()) closeConversationView();
  if (!settings()) {
    keyCall("GET", "/livechat/settings").then(function (s) {
      keepSettings(s);
      updateComposer();
    }, function () { /* attachments stay off */ });
  }
  if (!running) {
    running = true;
    queueLoop(epoch());
    chatLoop(epoch());
  }
}

/// "Switch profile": leave the open chat and pick another profile.
export function switchProfile() {
  stopTypingNow();
  closeConversationView();
  showProfile();
}
