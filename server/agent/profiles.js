// Agent profiles: the id rule and the list of profiles used on this device (ids and names,
// nothing secret), for a quick pick. Pure (nothing imported, no DOM); screens.js keeps the list
// in localStorage.

export function validAgentId(id) {
  return /^[A-Za-z0-9._@-]{1,128}$/.test(id);
}

/// The stored list (JSON), without anything that is not a profile; [] when unreadable.
export function parseRecent(json) {
  try {
    var list = JSON.parse(json || "[]");
    return Array.isArray(list) ? list.filter(function (p) {
      return p && typeof p.agent_id === "string" && typeof p.display_name === "string";
    }) : [];
  } catch (e) {
    return [];
  }
}

/// `list` with `profile` first (once), six at most.
export function withRecent(list, profile) {
  var rest = list.filter(function (p) {
    return p.agent_id !== profile.agent_id;
  });
  rest.unshift({ agent_id: profile.agent_id, display_name: profile.display_name, avatar_url: profile.avatar_url || undefined });
  return rest.slice(0, 6);
}
