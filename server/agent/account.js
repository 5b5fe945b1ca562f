// Who is signed in: the chatbot API key, the agent's profile, the chatbot's livechat settings,
// and the epoch of this sign-in. The key and the profile live in the tab's sessionStorage
// (never in a URL, gone when the tab closes), so a reload keeps the agent signed in.

import { K, session } from "./storage.js";

let apiKeyNow = null;
let profile = null; // {agent_id, display_name, avatar_url}
let chatbotSettings = null;
let generation = 0; // bumps on sign-out, so loops of an old sign-in stop

/// Back from the tab's storage (a reload).
export function restoreAccount() {
  apiKeyNow = session.get(K.key);
  try {
    profile = JSON.parse(session.get(K.agent) || "null");
  } catch (e) {
    profile = null;
  }
}

export function apiKey() {
  return apiKeyNow;
}

export function agent() {
  return profile;
}

/// The signed-in agent's id, or null.
export function myId() {
  return profile && profile.agent_id;
}

export function settings() {
  return chatbotSettings;
}

export function epoch() {
  return generation;
}

export function keepKey(key) {
  apiKeyNow = key;
  session.set(K.key, key);
}

export function keepAgent(saved) {
  profile = { agent_id: saved.agent_id, display_name: saved.display_name, avatar_url: saved.avatar_url || null };
  session.set(K.agent, JSON.stringify(profile));
  return profile;
}

export function keepSettings(s) {
  chatbotSettings = s;
}

/// Sign-out: a new epoch, no key, no profile (the settings stay until the next sign-in).
export function forgetAccount() {
  generation++;
  apiKeyNow = null;
  profile = null;
  session.del(K.key);
  session.del(K.agent);
}
