// Storage: the tab's sessionStorage (the API key, the profile, the sound switch) and the
// device's localStorage (recent profiles), each falling back to memory.

// sessionStorage (the key never leaves this tab); a page without storage (blocked by the
// browser) keeps it in memory instead, until the tab closes or reloads.
function storage(kind) {
  var memory = {};
  var real = null;
  try {
    real = window[kind];
    real.setItem("dgbot-console-probe", "1");
    real.removeItem("dgbot-console-probe");
  } catch (e) {
    real = null;
  }
  return {
    get: function (k) {
      try {
        return real ? real.getItem(k) : Object.prototype.hasOwnProperty.call(memory, k) ? memory[k] : null;
      } catch (e) {
        return null;
      }
    },
    set: function (k, v) {
      try {
        if (real) real.setItem(k, v);
        else memory[k] = v;
      } catch (e) {
        memory[k] = v;
      }
    },
    del: function (k) {
      try {
        if (real) real.removeItem(k);
      } catch (e) { /* nothing to forget */ }
      delete memory[k];
    },
  };
}

export const session = storage("sessionStorage");
// Only the profiles used on this device (ids and names, nothing secret), for a quick pick.
export const local = storage("localStorage");
// Every key the console stores.
export const K = { key: "dgbot-console-key", agent: "dgbot-console-agent", alerts: "dgbot-console-alerts", recent: "dgbot-console-recent" };
