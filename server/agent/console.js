// dgbot agent console: a support person's page for seed 002's livechat, using only the public
// livechat API of the server it is served from (docs/console.md):
//
// - the chatbot API key (HTTP Basic) for the agent profile, the queue, the badge count, the
//   settings and session tokens (`/livechat/agents/{id}`, `/livechat/sessions`,
//   `/livechat/sessions/count`, `/livechat/settings`, `/livechat/sessions/{id}/token`);
// - a session token (Bearer, one per session, minted again when refused) for the agent side of
//   one chat (`/livechat/agent/context`, `…/messages`, `…/typing`, `…/close`).
//
// Server text is only ever put in the page as text nodes (textContent; never parsed as markup), and
// the page runs under a strict Content-Security-Policy: no inline script or style.
"use strict";

(function () {
  var API = "/api/v1/chat";
  var QUEUE_EVERY_MS = 2000;
  var CHAT_EVERY_MS = 1500;
  var TYPING_IDLE_MS = 3000;
  // The server forgets "typing" 15 s after the last `is_typing: true`: refresh it while typing.
  var TYPING_REFRESH_MS = 8000;
  var CLOSED_SHOWN = 8;
  var TITLE = "dgbot console";
  var IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

  // ---------------------------------------------------------------- storage

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
  var session = storage("sessionStorage");
  // Only the profiles used on this device (ids and names, nothing secret), for a quick pick.
  var local = storage("localStorage");
  var K = { key: "dgbot-console-key", agent: "dgbot-console-agent", alerts: "dgbot-console-alerts", recent: "dgbot-console-recent" };

  // ---------------------------------------------------------------- state

  var S = {
    apiKey: null,
    agent: null, // {agent_id, display_name, avatar_url}
    settings: null,
    running: false,
    epoch: 0, // bumps on sign-out, so loops of an old sign-in stop
    count: 0,
    rows: new Map(), // session id -> row element
    listed: new Map(), // session id -> its row of the last GET /livechat/sessions
    summaries: new Map(), // session id -> {version, name, preview, fetching}
    seenWaiting: null, // Set of waiting ids already seen (null before the first poll)
    tokens: new Map(), // session id -> {token, expiresAt} or {pending: Promise}
    open: null, // the open conversation (see openSession)
    alerts: false,
    audio: null,
    queueTimer: null,
    queueBusy: false,
    queueKicked: false,
    queueTick: null,
  };

  var $ = function (id) {
    return document.getElementById(id);
  };

  // ---------------------------------------------------------------- HTTP

  function ApiError(status, code, message, params) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.params = params || [];
  }

  function base64Text(text) {
    var bytes = new TextEncoder().encode(text);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin);
  }

  function request(method, path, auth, body) {
    var headers = { Accept: "application/json", Authorization: auth };
    var init = { method: method, headers: headers, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(API + path, init).then(
      function (res) {
        return res.text().then(function (text) {
          var data = null;
          if (text) {
            try {
              data = JSON.parse(text);
            } catch (e) {
              data = null;
            }
          }
          if (!res.ok) {
            var err = (data && data.error) || {};
            throw new ApiError(res.status, err.code || "http_" + res.status, err.message || res.statusText || "Request failed", err.params);
          }
          return data;
        });
      },
      function () {
        throw new ApiError(0, "network", "The server cannot be reached. Retrying…");
      }
    );
  }

  /// With the chatbot API key. A refused key signs the agent out.
  function keyCall(method, path, body) {
    var epoch = S.epoch;
    return request(method, path, "Basic " + base64Text(S.apiKey + ":"), body).catch(function (e) {
      if (e.status === 401 && epoch === S.epoch && S.apiKey) {
        signOut("The API key was refused. Sign in again.");
      }
      throw e;
    });
  }

  /// A session token for `id`: kept in memory only, minted with the API key when there is none
  /// or it is about to expire (one mint at a time per session).
  function sessionToken(id, fresh) {
    var t = S.tokens.get(id);
    if (t && t.pending) return t.pending;
    if (!fresh && t && t.expiresAt - Date.now() > 60000) return Promise.resolve(t.token);
    var pending = keyCall("POST", "/livechat/sessions/" + encodeURIComponent(id) + "/token").then(
      function (minted) {
        var expiresAt = Date.parse(minted.expires_at);
        S.tokens.set(id, { token: minted.token, expiresAt: isNaN(expiresAt) ? Date.now() + 10 * 60000 : expiresAt });
        return minted.token;
      },
      function (e) {
        S.tokens.delete(id);
        throw e;
      }
    );
    S.tokens.set(id, { pending: pending });
    return pending;
  }

  /// An agent call on session `id` with its session token; a `401` (expired) mints another
  /// and tries once more.
  function agentCall(id, method, path, body) {
    return sessionToken(id).then(function (token) {
      return request(method, path, "Bearer " + token, body).catch(function (e) {
        if (e.status !== 401) throw e;
        S.tokens.delete(id);
        return sessionToken(id, true).then(function (again) {
          return request(method, path, "Bearer " + again, body);
        });
      });
    });
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  // ---------------------------------------------------------------- small DOM helpers

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function svgIcon(paths) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    paths.forEach(function (d) {
      var p = document.createElementNS(ns, "path");
      p.setAttribute("d", d);
      svg.appendChild(p);
    });
    return svg;
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function initials(name) {
    var words = String(name || "").replace(/[^\p{L}\p{N} ]/gu, " ").trim().split(/\s+/).filter(Boolean);
    if (!words.length) return "?";
    var first = Array.from(words[0])[0] || "";
    var last = words.length > 1 ? Array.from(words[words.length - 1])[0] || "" : "";
    return (first + last).toUpperCase();
  }

  /// A stable soft colour per visitor (one of a few classes; no inline style).
  function hue(id) {
    var h = 0;
    for (var i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
    return "hue-" + (h % 6);
  }

  /// A picture, the initials of a name, or (`name` null: an anonymous visitor) a person icon.
  function setAvatar(node, name, id, url) {
    node.textContent = "";
    node.className = node.className.replace(/\bhue-\d\b/g, "").trim() + " " + hue(id || name || "");
    var src = url && safeImageSrc(url);
    if (src) {
      var img = el("img");
      img.alt = "";
      img.src = src;
      node.appendChild(img);
    } else if (name) {
      node.textContent = initials(name);
    } else {
      node.appendChild(svgIcon(["M16 8a4 4 0 1 1-8 0 4 4 0 0 1 8 0", "M4 21a8 8 0 0 1 16 0"]));
    }
  }

  /// The name to show for a visitor, or null when they gave none.
  function givenName(v) {
    return (v && (v.name || v.email)) || null;
  }

  function safeHref(url) {
    if (typeof url !== "string" || /[\s\u0000-\u001f]/.test(url)) return null;
    try {
      var u = new URL(url, location.href);
      return ["http:", "https:", "mailto:", "tel:"].indexOf(u.protocol) >= 0 ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function safeImageSrc(url, data, mime) {
    if (url) {
      var href = safeHref(url);
      return href && /^https?:/i.test(href) ? href : null;
    }
    if (data && IMAGE_TYPES.indexOf(mime) >= 0 && /^[A-Za-z0-9+/=]+$/.test(data)) {
      return "data:" + mime + ";base64," + data;
    }
    return null;
  }

  function link(text, url, cls) {
    var href = safeHref(url);
    if (!href) return el("span", cls, text);
    var a = el("a", cls, text);
    a.href = href;
    if (/^https?:/i.test(href)) {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
    return a;
  }

  // ---------------------------------------------------------------- time and words

  function parseTime(s) {
    var t = Date.parse(s || "");
    return isNaN(t) ? null : t;
  }

  function duration(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 45) return s + " s";
    var m = Math.round(s / 60);
    if (m < 60) return m + " min";
    var h = Math.floor(m / 60);
    if (h < 24) return h + " h " + (m % 60) + " min";
    return Math.floor(h / 24) + " d";
  }

  function clock(s) {
    var t = parseTime(s);
    if (t === null) return "";
    var d = new Date(t);
    var sameDay = new Date().toDateString() === d.toDateString();
    return sameDay
      ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function shortId(id) {
    var s = String(id || "");
    return s.length > 8 ? s.slice(0, 8) : s;
  }

  function visitorName(v, fallbackId) {
    if (v && v.name) return v.name;
    if (v && v.email) return v.email;
    return "Visitor " + shortId((v && v.id) || fallbackId);
  }

  function spansText(spans) {
    return (spans || []).map(function (s) {
      return s.text || "";
    }).join("");
  }

  function blocksText(blocks) {
    var out = [];
    (blocks || []).forEach(function (b) {
      if (b.type === "paragraph") out.push(spansText(b.spans));
      else if (b.type === "bullet_list") (b.items || []).forEach(function (i) {
        out.push("• " + spansText(i.spans));
      });
    });
    return out.join(" ");
  }

  /// One line of a message, for the queue's preview.
  function plainText(m) {
    var out = [];
    (m.parts || []).forEach(function (p) {
      if (p.type === "text") out.push(p.text || "");
      else if (p.type === "rich_text") out.push(blocksText(p.blocks));
      else if (p.type === "image") out.push("📷 " + (p.filename || p.alt || "Picture"));
      else if (p.type === "file") out.push("📎 " + (p.filename || "File"));
    });
    return out.join(" ").replace(/\s+/g, " ").trim();
  }

  function sizeText(n) {
    if (typeof n !== "number") return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  function priceText(price, currency) {
    if (typeof price !== "number") return "";
    if (currency) {
      try {
        return new Intl.NumberFormat(undefined, { style: "currency", currency: currency }).format(price);
      } catch (e) {
        return price + " " + currency;
      }
    }
    return String(price);
  }

  function announce(text) {
    var a = $("announcer");
    a.textContent = "";
    setTimeout(function () {
      a.textContent = text;
    }, 50);
  }

  // ---------------------------------------------------------------- screens

  function screen(name) {
    show($("signin"), name === "signin");
    show($("profile"), name === "profile");
    show($("workspace"), name === "workspace");
    show($("topbar-tools"), name === "workspace");
    document.body.setAttribute("data-screen", name);
  }

  function start() {
    S.apiKey = session.get(K.key);
    try {
      S.agent = JSON.parse(session.get(K.agent) || "null");
    } catch (e) {
      S.agent = null;
    }
    S.alerts = session.get(K.alerts) === "on";
    wire();
    if (!S.apiKey) {
      screen("signin");
      $("api-key").focus();
    } else if (!S.agent) {
      showProfile();
    } else {
      enterWorkspace();
    }
  }

  function signOut(message) {
    stopTypingNow();
    S.epoch++;
    S.running = false;
    clearTimeout(S.queueTimer);
    S.queueTimer = null;
    S.queueBusy = false;
    S.queueKicked = false;
    S.apiKey = null;
    S.agent = null;
    S.tokens.clear();
    S.summaries.clear();
    S.rows.forEach(function (row) {
      row.remove();
    });
    S.rows.clear();
    S.seenWaiting = null;
    S.open = null;
    session.del(K.key);
    session.del(K.agent);
    document.title = TITLE;
    $("api-key").value = "";
    $("signin-error").textContent = message || "";
    screen("signin");
    $("api-key").focus();
  }

  function signIn(event) {
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
    request("GET", "/livechat/settings", "Basic " + base64Text(key + ":"))
      .then(function (settings) {
        S.apiKey = key;
        S.settings = settings;
        session.set(K.key, key);
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
    try {
      var list = JSON.parse(local.get(K.recent) || "[]");
      return Array.isArray(list) ? list.filter(function (p) {
        return p && typeof p.agent_id === "string" && typeof p.display_name === "string";
      }) : [];
    } catch (e) {
      return [];
    }
  }

  function remember(profile) {
    var list = recentProfiles().filter(function (p) {
      return p.agent_id !== profile.agent_id;
    });
    list.unshift({ agent_id: profile.agent_id, display_name: profile.display_name, avatar_url: profile.avatar_url || undefined });
    local.set(K.recent, JSON.stringify(list.slice(0, 6)));
  }

  function showProfile() {
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
    if (S.agent) {
      $("agent-id").value = S.agent.agent_id;
      $("agent-name").value = S.agent.display_name;
      $("agent-avatar").value = S.agent.avatar_url || "";
    }
    $("profile-error").textContent = "";
    $("agent-id").focus();
  }

  function saveProfile(event) {
    if (event) event.preventDefault();
    var id = $("agent-id").value.trim();
    var name = $("agent-name").value.trim();
    var avatar = $("agent-avatar").value.trim();
    var error = $("profile-error");
    if (!/^[A-Za-z0-9._@-]{1,128}$/.test(id)) {
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
        S.agent = { agent_id: profile.agent_id, display_name: profile.display_name, avatar_url: profile.avatar_url || null };
        session.set(K.agent, JSON.stringify(S.agent));
        remember(S.agent);
        enterWorkspace();
      })
      .catch(function (e) {
        var field = e.params && e.params[0];
        error.textContent = field ? field.field + ": " + field.message : e.message;
      })
      .finally(function () {
        button.disabled = false;
      });
  }

  function enterWorkspace() {
    screen("workspace");
    $("me-name").textContent = S.agent.display_name;
    $("me-id").textContent = S.agent.agent_id;
    setAvatar($("me-avatar"), S.agent.display_name, S.agent.agent_id, S.agent.avatar_url);
    updateAlertsButton();
    if (S.open) closeConversationView();
    if (!S.settings) {
      keyCall("GET", "/livechat/settings").then(function (s) {
        S.settings = s;
        updateComposer();
      }, function () { /* attachments stay off */ });
    }
    if (!S.running) {
      S.running = true;
      queueLoop(S.epoch);
      chatLoop(S.epoch);
    }
  }

  // ---------------------------------------------------------------- alerts

  function updateAlertsButton() {
    var b = $("alerts");
    b.setAttribute("aria-pressed", S.alerts ? "true" : "false");
    $("alerts-label").textContent = S.alerts ? "Sound & notifications on" : "Sound & notifications off";
  }

  function toggleAlerts() {
    S.alerts = !S.alerts;
    session.set(K.alerts, S.alerts ? "on" : "off");
    updateAlertsButton();
    if (!S.alerts) return;
    // A click is a user gesture: the audio context may start and permission may be asked.
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx && !S.audio) S.audio = new Ctx();
      if (S.audio && S.audio.state === "suspended") S.audio.resume();
    } catch (e) {
      S.audio = null;
    }
    beep();
    if ("Notification" in window && Notification.permission === "default") {
      try {
        Notification.requestPermission();
      } catch (e) { /* old browsers: the sound is enough */ }
    }
  }

  function beep() {
    var ctx = S.audio;
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

  function alertNewWaiting(rows) {
    var names = rows.map(function (r) {
      var sum = S.summaries.get(r.livechat_session_id);
      return sum && sum.name ? sum.name : "Visitor " + shortId(r.visitor_id);
    });
    announce(rows.length === 1 ? "New chat waiting: " + names[0] : rows.length + " new chats waiting");
    rows.forEach(function (r) {
      var row = S.rows.get(r.livechat_session_id);
      if (row) {
        row.classList.add("fresh");
        setTimeout(function () {
          row.classList.remove("fresh");
        }, 6000);
      }
    });
    if (!S.alerts) return;
    beep();
    if ("Notification" in window && Notification.permission === "granted" && document.visibilityState !== "visible") {
      try {
        var first = rows[0];
        var n = new Notification("A visitor is waiting", {
          body: names.join(", "),
          tag: "dgbot-" + first.livechat_session_id,
        });
        n.onclick = function () {
          window.focus();
          openSession(first.livechat_session_id);
          n.close();
        };
      } catch (e) { /* the sound and the title did it */ }
    }
  }

  // ---------------------------------------------------------------- the queue

  /// Every 2 s, one poll at a time; `kickQueue()` brings the next one forward (after a write
  /// of ours changed a session), never running two at once.
  function queueLoop(epoch) {
    var tick = function () {
      S.queueTimer = null;
      if (epoch !== S.epoch) return;
      S.queueBusy = true;
      refreshQueue(epoch)
        .catch(function (e) {
          if (epoch === S.epoch) $("queue-sync").textContent = e.message || "Cannot reach the server. Retrying…";
        })
        .then(function () {
          S.queueBusy = false;
          if (epoch !== S.epoch) return;
          if (S.queueKicked) {
            S.queueKicked = false;
            tick();
          } else {
            S.queueTimer = setTimeout(tick, QUEUE_EVERY_MS);
          }
        });
    };
    S.queueTick = tick;
    tick();
  }

  function kickQueue() {
    if (S.queueBusy) {
      S.queueKicked = true;
    } else if (S.queueTimer) {
      clearTimeout(S.queueTimer);
      S.queueTick();
    }
  }

  function refreshQueue(epoch) {
    return Promise.all([keyCall("GET", "/livechat/sessions"), keyCall("GET", "/livechat/sessions/count?turn=agent")]).then(function (r) {
      if (epoch !== S.epoch) return;
      $("queue-sync").textContent = "";
      var sessions = r[0].sessions || [];
      S.count = r[1].count || 0;
      renderQueue(sessions);
      return summarise(sessions, epoch);
    });
  }

  function groupsOf(sessions) {
    // The list is newest first: its position breaks ties between times to the second.
    var order = new Map();
    sessions.forEach(function (s, i) {
      order.set(s.livechat_session_id, i);
    });
    var older = function (a, b) {
      return order.get(b.livechat_session_id) - order.get(a.livechat_session_id);
    };
    var waiting = sessions.filter(function (s) {
      return s.status === "waiting";
    });
    var active = sessions.filter(function (s) {
      return s.status === "active";
    });
    var closed = sessions.filter(function (s) {
      return s.status === "closed";
    });
    // Longest-waiting first; active chats needing a reply first, then the latest; closed
    // newest first, the last few only.
    waiting.sort(function (a, b) {
      return (parseTime(a.requested_at) || 0) - (parseTime(b.requested_at) || 0) || older(a, b);
    });
    active.sort(function (a, b) {
      var mine = function (s) {
        return s.turn === "agent" ? 0 : 1;
      };
      return mine(a) - mine(b) || (parseTime(b.updated_at) || 0) - (parseTime(a.updated_at) || 0) || older(b, a);
    });
    closed.sort(function (a, b) {
      return (parseTime(b.closed_at) || 0) - (parseTime(a.closed_at) || 0) || older(b, a);
    });
    return { waiting: waiting, active: active, closed: closed.slice(0, CLOSED_SHOWN) };
  }

  function renderQueue(sessions) {
    S.listed = new Map();
    sessions.forEach(function (s) {
      S.listed.set(s.livechat_session_id, s);
    });
    var groups = groupsOf(sessions);
    var keep = new Set();
    ["waiting", "active", "closed"].forEach(function (g) {
      var list = $("list-" + g);
      var rows = groups[g];
      rows.forEach(function (s) {
        keep.add(s.livechat_session_id);
        updateRow(s);
      });
      // Reorder only when the order changed, so keyboard focus on a row stays put.
      var want = rows.map(function (s) {
        return S.rows.get(s.livechat_session_id);
      });
      var have = Array.prototype.slice.call(list.children);
      var same = want.length === have.length && want.every(function (row, i) {
        return row === have[i];
      });
      if (!same) want.forEach(function (row) {
        list.appendChild(row);
      });
      show($("empty-" + g), rows.length === 0);
      $("g-" + g + "-count").textContent = rows.length ? String(rows.length) : "";
    });
    S.rows.forEach(function (row, id) {
      if (!keep.has(id)) {
        row.remove();
        S.rows.delete(id);
      }
    });

    // The badge: chats where the agent should act next (the API's `turn=agent` count).
    var badge = $("turn-count");
    badge.textContent = String(S.count);
    badge.setAttribute("data-count", String(S.count));
    $("turn-count-label").textContent = S.count + (S.count === 1 ? " chat needs" : " chats need") + " a reply";
    document.title = S.count > 0 ? "(" + S.count + ") " + TITLE : TITLE;

    // New waiting sessions since the last poll alert the agent (not those there at sign-in).
    var fresh = groups.waiting.filter(function (s) {
      return S.seenWaiting && !S.seenWaiting.has(s.livechat_session_id);
    });
    S.seenWaiting = S.seenWaiting || new Set();
    groups.waiting.forEach(function (s) {
      S.seenWaiting.add(s.livechat_session_id);
    });
    if (fresh.length) alertNewWaiting(fresh);
  }

  function updateRow(s) {
    var id = s.livechat_session_id;
    var li = S.rows.get(id);
    if (!li) {
      li = el("li", "session-item");
      var b = el("button", "session");
      b.type = "button";
      b.setAttribute("data-testid", "session");
      b.setAttribute("data-session-id", id);
      var av = el("span", "avatar");
      av.setAttribute("aria-hidden", "true");
      var main = el("span", "row-main");
      var top = el("span", "row-top");
      top.appendChild(el("span", "row-name"));
      top.appendChild(el("span", "row-time"));
      main.appendChild(top);
      main.appendChild(el("span", "row-preview"));
      var meta = el("span", "row-meta");
      main.appendChild(meta);
      b.appendChild(av);
      b.appendChild(main);
      b.addEventListener("click", function () {
        openSession(id);
      });
      li.appendChild(b);
      S.rows.set(id, li);
    }
    var button = li.firstChild;
    var sum = S.summaries.get(id);
    var name = sum && sum.name ? sum.name : "Visitor " + shortId(s.visitor_id);
    button.setAttribute("data-status", s.status);
    button.setAttribute("data-turn", s.turn || "");
    if (S.open && S.open.id === id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
    setText(button.querySelector(".row-name"), name);
    var av = button.querySelector(".avatar");
    var given = sum && sum.given;
    if (av.getAttribute("data-name") !== (given || "")) {
      av.setAttribute("data-name", given || "");
      setAvatar(av, given, s.visitor_id);
    }
    if (!av.childNodes.length) setAvatar(av, given, s.visitor_id);

    var now = Date.now();
    var time = button.querySelector(".row-time");
    var timeText;
    if (s.status === "waiting") timeText = "waiting " + duration(now - (parseTime(s.requested_at) || now));
    else if (s.status === "active") timeText = clock(s.updated_at);
    else timeText = clock(s.closed_at);
    setText(time, timeText);
    time.setAttribute("data-testid", "waited");

    var preview = button.querySelector(".row-preview");
    var previewText = sum ? sum.preview || "No messages yet" : "…";
    setText(preview, previewText);
    preview.setAttribute("data-testid", "preview");

    var meta = button.querySelector(".row-meta");
    var tags = [];
    if (s.turn === "agent" && s.status !== "closed") tags.push(["turn", s.status === "waiting" ? "Needs an agent" : "Needs a reply"]);
    if (s.status === "active" && s.agent_id) {
      tags.push(s.agent_id === (S.agent && S.agent.agent_id) ? ["mine", "You"] : ["other", (sum && sum.agentName) || s.agent_id]);
    }
    if (s.status === "closed") tags.push(["ended", closedByText(s)]);
    var key = JSON.stringify(tags);
    if (meta.getAttribute("data-key") !== key) {
      meta.setAttribute("data-key", key);
      meta.textContent = "";
      tags.forEach(function (t) {
        meta.appendChild(el("span", "tag " + t[0], t[1]));
      });
    }
    // What a screen reader says for the whole row.
    button.setAttribute("aria-label", name + ", " + timeText + ". " + previewText + (tags.length ? ". " + tags.map(function (t) {
      return t[1];
    }).join(", ") : ""));
  }

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function closedByText(s) {
    switch (s.closed_by) {
      case "visitor":
        return "Ended by the visitor";
      case "agent":
        return "Ended by " + (s.closed_by_agent_id === (S.agent && S.agent.agent_id) ? "you" : s.closed_by_agent_id || "an agent");
      case "system":
        return "Ended by the system";
      default:
        return "Closed";
    }
  }

  /// The visitor's name and last message for each row: read from the session's agent context
  /// (the list has neither), again only when the session's `state_version` moved.
  function summarise(sessions, epoch) {
    var groups = groupsOf(sessions);
    var todo = groups.waiting.concat(groups.active, groups.closed).filter(function (s) {
      var sum = S.summaries.get(s.livechat_session_id);
      return !sum || (sum.version !== s.state_version && !(S.open && S.open.id === s.livechat_session_id));
    });
    // A few per poll, so a long queue fills in without a burst.
    var chain = Promise.resolve();
    todo.slice(0, 6).forEach(function (s) {
      chain = chain.then(function () {
        if (epoch !== S.epoch) return;
        return agentCall(s.livechat_session_id, "GET", "/livechat/agent/context")
          .then(function (ctx) {
            if (epoch !== S.epoch) return;
            noteSummary(ctx);
            updateRow(s);
          })
          .catch(function (e) {
            if (e.status === 404 || e.status === 403) S.summaries.set(s.livechat_session_id, { version: s.state_version, name: null, preview: "" });
          });
      });
    });
    return chain;
  }

  function noteSummary(ctx) {
    var id = ctx.livechat_session.livechat_session_id;
    var last = null;
    (ctx.transcript || []).forEach(function (m) {
      if (m.role === "user") last = m;
    });
    S.summaries.set(id, {
      version: ctx.state_version,
      name: visitorName(ctx.visitor),
      given: givenName(ctx.visitor),
      preview: last ? plainText(last) : "",
      agentName: ctx.agent ? ctx.agent.display_name : null,
    });
  }

  // ---------------------------------------------------------------- a conversation

  function openSession(id) {
    if (S.open && S.open.id === id) {
      $("reply").focus();
      return;
    }
    stopTypingNow();
    S.open = {
      id: id,
      context: null,
      seen: new Set(),
      conflict: null,
      typingOn: false,
      typingTimer: null,
      lastTypingAt: 0,
      pending: null,
      sending: false,
      loaded: false,
    };
    S.rows.forEach(function (row, rid) {
      if (rid === id) row.firstChild.setAttribute("aria-current", "true");
      else row.firstChild.removeAttribute("aria-current");
    });
    show($("placeholder"), false);
    show($("chat"), true);
    $("log").textContent = "";
    $("log").setAttribute("aria-busy", "true");
    $("visitor-title").textContent = "Loading…";
    $("visitor-avatar").textContent = "";
    $("reply").value = "";
    hideClosePanel();
    show($("conflict"), false);
    show($("closed-banner"), false);
    show($("composer-form"), true);
    showChatError("");
    clearPending();
    updateComposer();
    refreshChat().then(function () {
      if (S.open && S.open.id === id) $("reply").focus();
    });
  }

  function closeConversationView() {
    stopTypingNow();
    S.open = null;
    show($("chat"), false);
    show($("placeholder"), true);
  }

  function chatLoop(epoch) {
    var tick = function () {
      if (epoch !== S.epoch) return;
      var p = S.open ? refreshChat() : Promise.resolve();
      p.then(function () {
        if (epoch === S.epoch) setTimeout(tick, CHAT_EVERY_MS);
      });
    };
    setTimeout(tick, CHAT_EVERY_MS);
  }

  /// Read the open session's context and show what changed (never two reads at once).
  function refreshChat() {
    var open = S.open;
    if (!open) return Promise.resolve();
    if (open.inflight) return open.inflight;
    open.inflight = agentCall(open.id, "GET", "/livechat/agent/context")
      .then(function (ctx) {
        if (S.open !== open) return;
        if (!open.loaded || showChatError.current === "network") showChatError("");
        applyContext(ctx);
      })
      .catch(function (e) {
        if (S.open !== open) return;
        if (e.status === 0) showChatError(e.message, "network");
        else if (!open.loaded) showChatError("This chat cannot be opened: " + e.message);
      })
      .finally(function () {
        open.inflight = null;
      });
    return open.inflight;
  }

  function applyContext(ctx) {
    var open = S.open;
    open.context = ctx;
    noteSummary(ctx);
    var sess = ctx.livechat_session;
    var v = ctx.visitor || {};
    var name = visitorName(v);

    // Header.
    setText($("visitor-title"), name);
    var head = $("visitor-avatar");
    if (head.getAttribute("data-name") !== (givenName(v) || "") || !head.childNodes.length) {
      head.setAttribute("data-name", givenName(v) || "");
      setAvatar(head, givenName(v), v.id);
    }
    var pill = $("status-pill");
    pill.setAttribute("data-status", sess.status);
    setText(pill, { waiting: "Waiting", active: "Active", closed: "Closed" }[sess.status] || sess.status);
    var me = S.agent.agent_id;
    var sub;
    if (sess.status === "waiting") sub = "Waiting " + duration(Date.now() - (parseTime(sess.requested_at) || Date.now())) + " · typing or replying takes this chat";
    else if (sess.status === "active") sub = ctx.agent && ctx.agent.agent_id === me ? "You are handling this chat" : "With " + (ctx.agent ? ctx.agent.display_name : "another agent");
    else sub = closedByText(sess) + (sess.close_reason ? ": " + sess.close_reason : "");
    setText($("chat-sub-text"), sub);

    // Who has it.
    if (ctx.agent && ctx.agent.agent_id !== me) showConflict(ctx.agent.display_name);
    else if (open.conflict) {
      open.conflict = null;
      show($("conflict"), false);
    }

    // Closed.
    var closed = sess.status === "closed";
    show($("closed-banner"), closed);
    show($("composer-form"), !closed);
    if (closed) {
      setText($("closed-text"), "This chat has ended. " + closedByText(sess) + (sess.close_reason ? ": “" + sess.close_reason + "”" : "") + (sess.closed_at ? " · " + clock(sess.closed_at) : ""));
      hideClosePanel();
    }
    show($("close-open"), !closed && !open.conflict);

    renderDetails(ctx);
    renderTranscript(ctx.transcript || []);
    var typing = !!ctx.visitor_typing && !closed;
    setText($("visitor-typing-text"), name + " is typing…");
    if ($("visitor-typing").hidden === typing) {
      show($("visitor-typing"), typing);
      if (typing) scrollToEnd(false);
    }
    open.loaded = true;
    $("log").setAttribute("aria-busy", "false");
    updateComposer();
    updateRowFromOpen();
  }

  function updateRowFromOpen() {
    var listed = S.listed.get(S.open.id);
    if (listed && S.rows.has(S.open.id)) updateRow(listed);
  }

  function showConflict(name) {
    var open = S.open;
    if (!open) return;
    open.conflict = name;
    stopTypingNow(true);
    setText($("conflict-text"), name + " is handling this chat. You can read along, but not write.");
    show($("conflict"), true);
    show($("close-open"), false);
    hideClosePanel();
    updateComposer();
  }

  function showChatError(text, kind) {
    showChatError.current = text ? kind || "error" : null;
    setText($("chat-error"), text);
    show($("chat-error"), !!text);
  }

  function canWrite() {
    var o = S.open;
    return !!(o && o.context && o.context.livechat_session.status !== "closed" && !o.conflict);
  }

  function updateComposer() {
    var o = S.open;
    var ok = canWrite();
    var reply = $("reply");
    reply.disabled = !ok;
    $("attach").disabled = !ok;
    var attachOn = !!(S.settings && S.settings.attachments_enabled);
    show($("attach-label"), attachOn);
    $("attach-label").classList.toggle("disabled", !ok);
    $("send").disabled = !ok || (o && o.sending) || (!reply.value.trim() && !(o && o.pending));
    var note = "";
    if (o && o.context) {
      var st = o.context.livechat_session.status;
      if (o.conflict) note = "";
      else if (st === "waiting") note = "The visitor is waiting for a person: your first keystroke or message takes the chat.";
    }
    setText($("composer-note"), note);
    show($("composer-note"), !!note);
    $("composer-form").classList.toggle("locked", !ok);
  }

  function renderDetails(ctx) {
    var v = ctx.visitor || {};
    var facts = $("visitor-facts");
    var key = JSON.stringify([v, ctx.session_values, ctx.livechat_session]);
    if (facts.getAttribute("data-key") === key) return;
    facts.setAttribute("data-key", key);
    facts.textContent = "";
    var add = function (dl, term, value, node) {
      dl.appendChild(el("dt", null, term));
      var dd = el("dd");
      if (node) dd.appendChild(node);
      else dd.textContent = value;
      dl.appendChild(dd);
      return dd;
    };
    add(facts, "Name", v.name || "Not given");
    if (v.email) add(facts, "Email", null, link(v.email, "mailto:" + v.email));
    else add(facts, "Email", "Not given");
    if (v.user_id) add(facts, "User id", v.user_id);
    var ver = el("span", "verified " + (v.verified ? "yes" : "no"), v.verified ? "Verified" : "Not verified");
    ver.setAttribute("data-testid", "visitor-verified");
    ver.title = v.verified ? "The site vouched for this identity (signed)" : "Given by the page, not signed: don't trust it for account changes";
    add(facts, "Identity", null, ver);
    var idNode = el("code", "mono", v.id || "");
    add(facts, "Visitor id", null, idNode);

    var values = ctx.session_values || {};
    var page = values.page || values.page_url || values.url;
    var pageLine = $("visitor-page");
    pageLine.textContent = "";
    if (typeof page === "string" && page) pageLine.appendChild(link(page, page, "page-link"));
    else pageLine.appendChild(el("span", "muted", "Not known"));

    var sv = $("session-values");
    sv.textContent = "";
    var keys = Object.keys(values).filter(function (k) {
      return values[k] !== null && values[k] !== "";
    });
    if (!keys.length) {
      sv.appendChild(el("dt", "visually-hidden", "Values"));
      sv.appendChild(el("dd", "muted", "None yet (forms the visitor fills in show here)"));
    }
    keys.forEach(function (k) {
      var val = values[k];
      var text = typeof val === "string" ? val : typeof val === "number" || typeof val === "boolean" ? String(val) : Array.isArray(val) ? val.join(", ") : JSON.stringify(val);
      add(sv, k.replace(/_/g, " "), text);
    });

    var s = ctx.livechat_session;
    var sf = $("session-facts");
    sf.textContent = "";
    add(sf, "Requested", clock(s.requested_at));
    add(sf, "Language", s.language || "");
    add(sf, "Platform", s.platform || "");
    add(sf, "Session", null, el("code", "mono", s.livechat_session_id));
  }

  // ---------------------------------------------------------------- the transcript

  function nearBottom() {
    var log = $("log");
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function scrollToEnd(force) {
    var log = $("log");
    if (force || nearBottom()) log.scrollTop = log.scrollHeight;
  }

  function renderTranscript(messages) {
    var open = S.open;
    var log = $("log");
    var stick = !open.loaded || nearBottom();
    var added = false;
    messages.forEach(function (m) {
      if (!m || !m.message_id || open.seen.has(m.message_id)) return;
      open.seen.add(m.message_id);
      log.appendChild(renderMessage(m, open.context));
      added = true;
    });
    if (added && stick) log.scrollTop = log.scrollHeight;
  }

  function appendMessage(m) {
    var open = S.open;
    if (!open || open.seen.has(m.message_id)) return;
    open.seen.add(m.message_id);
    $("log").appendChild(renderMessage(m, open.context));
    scrollToEnd(true);
  }

  function renderMessage(m, ctx) {
    var li = el("li", "msg " + m.role);
    li.setAttribute("data-testid", "message");
    li.setAttribute("data-role", m.role);
    li.setAttribute("data-message-id", m.message_id);
    var meta = el("p", "msg-meta");
    var who;
    if (m.role === "user") who = visitorName(ctx && ctx.visitor);
    else if (m.role === "assistant") who = "Assistant";
    else if (m.role === "agent") who = m.author ? m.author.display_name + (S.agent && m.author.agent_id === S.agent.agent_id ? " (you)" : "") : "Agent";
    else who = "System";
    meta.appendChild(el("span", "msg-author", who));
    var t = clock(m.created_at);
    if (t) {
      var time = el("time", "msg-time", t);
      time.dateTime = m.created_at;
      meta.appendChild(time);
    }
    li.appendChild(meta);
    var bubble = el("div", "bubble");
    (m.parts || []).forEach(function (p) {
      var node = renderPart(p);
      if (node) bubble.appendChild(node);
    });
    if (!bubble.childNodes.length) bubble.appendChild(el("p", "muted", "(empty message)"));
    li.appendChild(bubble);
    return li;
  }

  function renderSpans(parent, spans) {
    (spans || []).forEach(function (s) {
      var text = s.text || "";
      var node;
      if (s.type === "bold") node = el("strong", null, text);
      else if (s.type === "strike") node = el("s", null, text);
      else if (s.type === "link") node = link(text || s.url || "", s.url);
      else node = document.createTextNode(text);
      parent.appendChild(node);
    });
    return parent;
  }

  function renderBlocks(parent, blocks) {
    (blocks || []).forEach(function (b) {
      if (b.type === "paragraph") parent.appendChild(renderSpans(el("p"), b.spans));
      else if (b.type === "bullet_list") {
        var ul = el("ul");
        (b.items || []).forEach(function (i) {
          ul.appendChild(renderSpans(el("li"), i.spans));
        });
        parent.appendChild(ul);
      }
    });
    return parent;
  }

  function marker(kind, title, detail) {
    var box = el("div", "marker " + kind);
    box.setAttribute("data-testid", "marker");
    box.setAttribute("data-marker", kind);
    var head = el("p", "marker-title");
    head.appendChild(svgIcon(kind === "handover" ? ["M16 11a4 4 0 1 0-8 0", "M4 21a8 8 0 0 1 16 0", "M12 3v4"] : ["M4 5h16v14H4z", "M8 9h8M8 13h5"]));
    head.appendChild(el("span", null, title));
    box.appendChild(head);
    if (detail) box.appendChild(el("p", "marker-detail", detail));
    return box;
  }

  function fieldLabels(fields) {
    return (fields || []).map(function (f) {
      return f.label || f.key;
    }).join(", ");
  }

  function renderPart(p) {
    switch (p.type) {
      case "text": {
        return el("p", "plain", p.text || "");
      }
      case "rich_text": {
        return renderBlocks(el("div", "rich"), p.blocks);
      }
      case "image": {
        var fig = el("figure", "image");
        var src = safeImageSrc(p.url, p.data, p.mime);
        if (src) {
          var a = el("a");
          a.href = src.indexOf("data:") === 0 ? "#" : src;
          if (src.indexOf("data:") !== 0) {
            a.target = "_blank";
            a.rel = "noopener noreferrer";
          }
          var img = el("img");
          img.src = src;
          img.alt = p.alt || p.filename || "Picture";
          img.loading = "lazy";
          a.appendChild(img);
          fig.appendChild(src.indexOf("data:") === 0 ? img : a);
        } else {
          fig.appendChild(el("p", "muted", "Picture not available" + (p.filename ? ": " + p.filename : "")));
        }
        var cap = p.caption || (p.filename ? p.filename + (p.size_bytes ? " · " + sizeText(p.size_bytes) : "") : "");
        if (cap) fig.appendChild(el("figcaption", null, cap));
        return fig;
      }
      case "file": {
        var box = el("div", "file");
        box.appendChild(svgIcon(["M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z", "M14 3v5h5"]));
        var info = el("span", "file-info");
        var name = p.filename || "File";
        info.appendChild(p.url ? link(name, p.url, "file-name") : el("span", "file-name", name));
        var bits = [p.mime_type || p.mime, sizeText(p.size_bytes)].filter(Boolean).join(" · ");
        if (bits) info.appendChild(el("span", "file-meta", bits));
        box.appendChild(info);
        return box;
      }
      case "table": {
        var wrap = el("div", "table-wrap");
        wrap.tabIndex = 0;
        var table = el("table");
        if (p.caption) table.appendChild(el("caption", null, p.caption));
        if (p.columns && p.columns.length) {
          var thead = el("thead");
          var hr = el("tr");
          p.columns.forEach(function (c) {
            var th = el("th");
            th.scope = "col";
            hr.appendChild(renderBlocks(th, c.blocks));
          });
          thead.appendChild(hr);
          table.appendChild(thead);
        }
        var tbody = el("tbody");
        (p.rows || []).forEach(function (row) {
          var tr = el("tr");
          row.forEach(function (c) {
            tr.appendChild(renderBlocks(el("td"), c.blocks));
          });
          tbody.appendChild(tr);
        });
        table.appendChild(tbody);
        wrap.appendChild(table);
        return wrap;
      }
      case "products": {
        var ul = el("ul", "products");
        ul.setAttribute("aria-label", "Products shown");
        (p.products || []).forEach(function (prod) {
          var li = el("li", "product");
          var src = prod.image_url && safeImageSrc(prod.image_url);
          if (src) {
            var img = el("img");
            img.src = src;
            img.alt = "";
            img.loading = "lazy";
            li.appendChild(img);
          }
          var body = el("span", "product-body");
          body.appendChild(link(prod.title || "Product", prod.url, "product-title"));
          var price = priceText(prod.price, prod.currency);
          if (price) body.appendChild(el("span", "product-price", price));
          if (prod.description) body.appendChild(el("span", "product-desc", prod.description));
          li.appendChild(body);
          ul.appendChild(li);
        });
        return ul;
      }
      case "show_contact_form":
        return marker("form", "Contact form shown", p.fields && p.fields.length ? "Asked for: " + fieldLabels(p.fields) : null);
      case "show_support_ticket":
        return marker("form", "Support ticket form shown", p.fields && p.fields.length ? "Asked for: " + fieldLabels(p.fields) : null);
      case "request_image_upload":
        return marker("upload", "Asked the visitor for a picture", p.prompt || null);
      case "request_human_agent":
        return marker("handover", "Offered a hand-over to a person", p.reason || null);
      case "custom":
        return marker("custom", "Custom action “" + (p.key || "") + "” sent to the page", null);
      default:
        return el("p", "muted", "(" + (p.type || "unknown") + " content not shown here)");
    }
  }

  // ---------------------------------------------------------------- writing

  function sendTyping(isTyping) {
    var open = S.open;
    if (!open) return;
    var id = open.id;
    var waiting = open.context && open.context.livechat_session.status === "waiting";
    agentCall(id, "POST", "/livechat/agent/typing", { agent_id: S.agent.agent_id, is_typing: isTyping }).then(
      function () {
        // The first keystroke took a waiting chat: show it as ours at once.
        if (waiting && isTyping) {
          kickQueue();
          if (S.open && S.open.id === id) refreshChat();
        }
      },
      function (e) {
        if (S.open && S.open.id === id) writeFailed(e);
      }
    );
  }

  function onInput() {
    var open = S.open;
    updateComposer();
    autosize();
    if (!open || !canWrite()) return;
    var now = Date.now();
    if (!open.typingOn || now - open.lastTypingAt > TYPING_REFRESH_MS) {
      open.typingOn = true;
      open.lastTypingAt = now;
      sendTyping(true);
    }
    clearTimeout(open.typingTimer);
    open.typingTimer = setTimeout(function () {
      if (S.open === open) stopTypingNow();
    }, TYPING_IDLE_MS);
  }

  /// Tell the visitor we stopped typing (unless `quiet`: e.g. the chat is someone else's).
  function stopTypingNow(quiet) {
    var open = S.open;
    if (!open) return;
    clearTimeout(open.typingTimer);
    if (open.typingOn) {
      open.typingOn = false;
      if (!quiet) sendTyping(false);
    }
  }

  function autosize() {
    var r = $("reply");
    r.rows = Math.min(8, Math.max(1, r.value.split("\n").length));
  }

  function send(event) {
    if (event) event.preventDefault();
    var open = S.open;
    if (!open || !canWrite() || open.sending) return;
    var text = $("reply").value.trim();
    var parts = [];
    if (text) parts.push({ type: "text", text: text });
    if (open.pending) parts.push(open.pending.part);
    if (!parts.length) return;
    open.sending = true;
    // The message itself ends our typing on the server (docs/protocol.md, "Typing").
    clearTimeout(open.typingTimer);
    open.typingOn = false;
    updateComposer();
    showChatError("");
    agentCall(open.id, "POST", "/livechat/agent/messages", { agent_id: S.agent.agent_id, message: { parts: parts } })
      .then(function (res) {
        if (S.open !== open) return;
        $("reply").value = "";
        autosize();
        clearPending();
        appendMessage(res.message);
        refreshChat();
        kickQueue();
      })
      .catch(function (e) {
        if (S.open === open) writeFailed(e);
      })
      .finally(function () {
        open.sending = false;
        if (S.open === open) {
          updateComposer();
          if (canWrite()) $("reply").focus();
        }
      });
  }

  /// A refused write: `409` means someone else has the chat (or it closed): read the context
  /// to say who; anything else is shown as it is.
  function writeFailed(e) {
    var open = S.open;
    if (e.status === 409) {
      // "Another agent (agent-alice) is assigned…": the id, until the context gives the name.
      var named = /\(([^)]+)\)/.exec(e.message || "");
      var who = named ? named[1] : "Another agent";
      agentCall(open.id, "GET", "/livechat/agent/context").then(
        function (ctx) {
          if (S.open !== open) return;
          applyContext(ctx);
          if (!open.conflict && ctx.livechat_session.status !== "closed") showConflict(who);
        },
        function () {
          if (S.open === open) showConflict(who);
        }
      );
      return;
    }
    var detail = e.params && e.params.length ? e.params.map(function (p) {
      return p.message;
    }).join(" ") : "";
    showChatError((e.message || "That did not work.") + (detail ? " " + detail : ""));
  }

  function clearPending() {
    if (S.open) S.open.pending = null;
    $("attach").value = "";
    show($("pending"), false);
    updateComposer();
  }

  function attachChosen() {
    var open = S.open;
    var file = $("attach").files && $("attach").files[0];
    if (!open || !file) return;
    var max = (S.settings && S.settings.max_attachment_size_bytes) || 10 * 1024 * 1024;
    if (file.size > max) {
      showChatError(file.name + " is " + sizeText(file.size) + "; the limit is " + sizeText(max) + ".");
      $("attach").value = "";
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      if (S.open !== open) return;
      var url = String(reader.result || "");
      var data = url.slice(url.indexOf(",") + 1);
      var mime = file.type || "application/octet-stream";
      var type = IMAGE_TYPES.indexOf(mime) >= 0 ? "image" : "file";
      open.pending = { part: { type: type, data: data, mime: mime, filename: file.name } };
      setText($("pending-name"), file.name + " · " + sizeText(file.size));
      show($("pending"), true);
      showChatError("");
      updateComposer();
      $("reply").focus();
    };
    reader.onerror = function () {
      showChatError("That file cannot be read.");
    };
    reader.readAsDataURL(file);
  }

  // ---------------------------------------------------------------- closing

  function showClosePanel() {
    if (!canWrite()) return;
    show($("close-panel"), true);
    $("close-open").setAttribute("aria-expanded", "true");
    $("close-reason").focus();
    $("close-reason").select();
  }

  function hideClosePanel() {
    show($("close-panel"), false);
    $("close-open").setAttribute("aria-expanded", "false");
  }

  function closeChat(event) {
    event.preventDefault();
    var open = S.open;
    if (!open) return;
    var reason = $("close-reason").value.trim();
    var body = { agent_id: S.agent.agent_id };
    if (reason) body.reason = reason;
    stopTypingNow(true);
    agentCall(open.id, "POST", "/livechat/agent/close", body)
      .then(function () {
        if (S.open !== open) return;
        hideClosePanel();
        announce("The chat has ended.");
        kickQueue();
        return refreshChat();
      })
      .catch(function (e) {
        if (S.open === open) writeFailed(e);
      });
  }

  // ---------------------------------------------------------------- wiring

  function wire() {
    $("signin-form").addEventListener("submit", signIn);
    $("profile-form").addEventListener("submit", saveProfile);
    $("sign-out").addEventListener("click", function () {
      signOut("");
    });
    $("switch-profile").addEventListener("click", function () {
      stopTypingNow();
      closeConversationView();
      showProfile();
    });
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
    window.addEventListener("pagehide", function () {
      var open = S.open;
      if (open && open.typingOn) {
        var t = S.tokens.get(open.id);
        if (t && t.token) {
          fetch(API + "/livechat/agent/typing", {
            method: "POST",
            keepalive: true,
            headers: { "Content-Type": "application/json", Authorization: "Bearer " + t.token },
            body: JSON.stringify({ agent_id: S.agent.agent_id, is_typing: false }),
          }).catch(function () {});
        }
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
