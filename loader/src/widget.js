/* dgbot loader: the only dgbot code that runs on the host page.
 *   <script src="https://HOST/widget.js" data-chatbot-id="ID" async></script>
 * Paints a launcher bubble at once, creates the chat iframe lazily (on intent, or at idle time
 * when the chat has something to show),
 * and talks to it only by origin-checked postMessage. Styles live in a shadow root with a
 * constructed stylesheet: nothing leaks into or out of the host page, and no inline style or
 * script is needed, so it runs under a strict Content-Security-Policy. No dependencies.
 *
 * The same source builds chatbotinline.js (INLINE true): the chat rendered in the page, in
 * #chatbot-placeholder or after its script tag, with no launcher.
 *
 * This is the source; `cargo xtask build` minifies it into loader/widget.js and
 * loader/chatbotinline.js, which are served. Names on the wire: docs/protocol.md. */
(function () {
  var inline = typeof INLINE != "undefined" && INLINE; // the build defines INLINE
  var w = window, d = document, api = w.DGbot || w.DialogIntelligens;
  // Idempotent: a second tag, or this script run again after an SPA route change, only puts
  // the existing widget back if the page's re-render dropped it.
  if (api?._dgbot) return api._dgbot();

  var warn = (m) => console.warn("dgbot: " + m);
  var script = d.currentScript, attr = (n) => script.getAttribute(n);
  var botId = attr("data-chatbot-id") || attr("data-key");
  if (!botId) return warn("data-chatbot-id?");
  // (A data-api that is no URL at all stops here with the browser's "Invalid URL" error.)
  var base = new URL(attr("data-api") || script.src, location).origin;

  var SRC = "dgbot", isOpen, size = "", frame;
  // Every listener goes through `listen`, so destroy() removes them all with one abort().
  var queue = [], handlers = {}, enc = encodeURIComponent, bye = new AbortController();
  // A space-separated list of types: listen(launcher, "pointerenter focus", f).
  var listen = (target, types, f) => types.split(" ").forEach((t) => target.addEventListener(t, f, { signal: bye.signal }));

  // on()/off() handlers get `detail`; the seed's chat_* events also go to window as CustomEvents.
  var emit = (type, detail) => {
    handlers[type]?.forEach((f) => {
      try { f(detail); } catch (e) { reportError(e); }
    });
  }

  // The launcher's look, names and popup flag come from the server (`look`, below).
  var host, launcher, root, sheet, fit, edge, look = {};
  if (inline) {
    // The inline embed: the frame goes into #chatbot-placeholder, or right after the tag.
    host = d.getElementById("chatbot-placeholder");
    if (!host) { host = d.createElement("div"); script.after(host); host._dgbotMade = 1; }
    root = host;
  } else {
    host = d.createElement("div");
    host.id = "dgbot-root";
    root = host.attachShadow({ mode: "open" });
    // Its style sheet is the server's (loader/src/launcher.css with the chatbot's look); until
    // it arrives the widget is on the page (for open() and the page's scripts) but not shown.
    root.adoptedStyleSheets = [sheet = new CSSStyleSheet()];
    sheet.replaceSync(":host{display:none}");
    launcher = d.createElement("button"); launcher.className = "l";
    // `edge`: after the frame, a stop for Tab only while the chat fills the screen (see focusin).
    root.append(launcher, edge = d.createElement("i"));
  }

  // The visitor's id is kept in the host page's own storage too: a browser that blocks storage
  // in third-party frames (Safari, Brave, incognito) would otherwise forget the visitor on
  // every reload. The chat gets it first thing (never in its URL, which ends up in logs) and
  // sends it back when it changes (null after "Delete my data").
  var key = SRC + "_" + botId, ls = (f) => { try { return f(localStorage); } catch (e) {} };

  var ensureFrame = () => {
    if (frame) return;
    frame = d.createElement("iframe");
    // Commands go out once the chat's page has loaded (its index.html keeps them until the
    // app runs, which waits for its start-up before carrying them out).
    // `queue` is 0 from then on: post() sends at once. (splice's receiver is read before
    // its argument sets `queue`.)
    frame.onload = () => queue && queue.splice(queue = 0).forEach(post);
    frame.title = look.title || "Chat";
    // "Copy" under an answer; dictation where the chatbot has voice on.
    frame.allow = "clipboard-write" + (look.voice ? "; microphone" : "");
    var o = inline && w.__CHATBOT_INLINE_OVERRIDES__ || {};
    frame.src = base + "/chat/?chatbot_id=" + enc(botId) + "&host=" + enc(location.origin) +
      (inline ? "&inline=1&welcome=" + enc(o.inlineWelcomeMessage || "") : "");
    if (inline) frame.style.cssText = "width:100%;height:100%;min-height:520px;border:0;display:block";
    root.prepend(frame); // before the launcher: the CSS hides the launcher after an open window on phones
    render();
    post({ action: "visitor", visitor_id: ls((s) => s[key]) });
  }
  // Every command carries the page address, for `context.page` of the visitor's next message.
  // Nothing the host page calls can throw into it: a value postMessage cannot copy (say, a
  // function in identify()'s user) is a warning.
  var post = (m) => {
    ensureFrame();
    m.source = SRC; m.v = 1; m.page = location.href;
    try { queue ? queue.push(m) : frame.contentWindow.postMessage(m, base); } // flushed through post() too
    catch (e) { warn(e); }
  }

  // Full screen on small screens, sized to the visual viewport so the keyboard never covers it.
  var render = () => {
    if (inline) return;
    var v = w.visualViewport;
    fit = isOpen && v && w.innerWidth <= 480;
    if (frame) {
      frame.className = "p" + (isOpen ? " o" : "") + size;
      frame.style.cssText = fit ? `height:${v.height}px;top:${v.offsetTop}px` : "";
    }
    launcher.ariaLabel = isOpen ? look.close : look.open;
    edge.tabIndex = fit ? 0 : -1;
    // For the page's scripts and tests, which should not read the minified class names.
    host.dataset.state = isOpen ? (size == " x" ? "expanded" : "open") : size == " k" ? "peek" : "closed";
  }

  var open = (message) => {
    if (message != null && !message.trim) return warn("open(message)?"); // strings only
    show();
    // The chat answers `opened` with seed 002's chat_open (its chat_type is the config's).
    // Focus goes into the window (a browser lets a cross-origin frame focus its composer only
    // when the frame has focus).
    if (!isOpen) { isOpen = 1; size = ""; ensureFrame(); render(); frame.focus(); emit("open"); post({ action: "opened" }); }
    if (message?.trim()) post({ action: "sendMessage", message });
  }
  var close = () => {
    if (inline || !isOpen) return;
    isOpen = 0; render(); emit("close");
    if (d.activeElement == host) launcher.focus();
  }
  // (host.style, not the hidden attribute: the shadow root's `all:initial` outranks it)
  var hide = () => { close(); host.style.display = "none"; }
  var show = () => { host.style.display = ""; }
  var destroy = () => {
    bye.abort();
    inline && !host._dgbotMade ? frame && frame.remove() : host.remove();
    w.DGbot = w.DialogIntelligens = null;
  }
  var on = (type, f) => {
    if (!f?.call) return warn("on(event, handler)?");
    (handlers[type] ||= new Set()).add(f);
    return () => off(type, f);
  }
  var off = (type, f) => {
    handlers[type]?.delete(f);
  }
  // The iframe checks these arguments and warns in the console when they are bad
  // (HostCommand::decode); the user object must be cloneable, or post() throws and we warn.
  var identify = (user) => post({ action: "identify", user });
  var reportPurchase = (totalPrice, currency) => post({ action: "reportPurchase", totalPrice, currency });

  // The iframe decides the payloads (protocol/src/bridge.rs, FrameAction::to_host): an action
  // that maps to a seed CustomEvent names it in `event` with its `detail`; our own snake_case
  // actions (ready, message, stream_*, error, livechat events) go to on() handlers as they are.
  var SIZES = { expandChat: " x", collapseChat: "", peekChat: " k" };
  var onMessage = (e) => {
    if (e.source !== frame?.contentWindow || e.origin !== base) return;
    var m = e.data, a = m?.source == SRC && m.action;
    if (!a) return;
    if (a == "visitor") ls((s) => m.visitor_id ? s[key] = m.visitor_id : delete s[key]);
    // The window's size: expandChat (large), collapseChat (normal), peekChat (closed, with the
    // popup messages above the launcher: the chat draws them on a see-through page).
    if (a in SIZES) { size = SIZES[a]; render(); }
    if (a == "closeChat") close();
    if (a == "openChat") open();
    // Only web URLs: a product link must never run script on the host page.
    if (a == "navigate" && /^https?:\/\//i.test(m.url)) location.assign(m.url);
    if (/^chat_/.test(m.event)) { w.dispatchEvent(new CustomEvent(m.event, m)); emit(m.event, m.detail); }
    if (/^[a-z_]+$/.test(a)) emit(a, m.detail);
  }

  var DG = { open, close, hide, show, destroy, identify, on, off, reportPurchase };
  var body = d.body || d.documentElement;
  DG._dgbot = () => { inline || host.isConnected || body.appendChild(host); };
  w.DGbot = w.DialogIntelligens = DG;

  listen(w, "message", onMessage);
  if (!inline) {
    listen(launcher, "click", () => isOpen ? close() : open());
    // Intent: the frame starts loading before the click lands. A finger fires pointerenter too,
    // before touchstart, in every browser this script runs in (see Decisions, docs/host-page.md).
    listen(launcher, "pointerenter focus", ensureFrame);
    listen(d, "keydown", (e) => e.key == "Escape" && close());
    // Full screen, the chat is all there is: focus that leaves it goes back into it, never to
    // the page behind: Shift+Tab onto the page, or Tab past its last control onto `edge`
    // (without it, Tab would leave the page for the browser). Escape closes it.
    listen(d, "focusin", (e) => fit && e.target != host && frame.focus());
    listen(edge, "focus", () => frame.focus());
    listen(w.visualViewport || w, "resize scroll", render);
    body.appendChild(host);
  }
  // When the visitor moves into the chat, tell it the page's current address (SPA routes).
  listen(w, "blur", () => d.activeElement == (inline ? frame : host) && post({ action: "page" }));
  // The launcher shows with its look: a one-line module from the server (script-src
  // already allows our origin, so no new CSP line) with its style sheet, its label and names in
  // the visitor's language, and whether the chatbot has popup messages. Nothing heavy before
  // the visitor wants it: at idle time the frame is made only for a returning visitor (a
  // conversation may be going on) or for popup messages. Otherwise intent or open() makes it.
  inline ? ensureFrame() : import(base + "/launcher/" + enc(botId)).then((m) => {
    look = m.default;
    sheet.replaceSync(look.css);
    if (look.label) { launcher.className += " t"; launcher.append(look.label); }
    render();
    (w.requestIdleCallback || setTimeout)(() => (look.popup || ls((s) => s[key])) && ensureFrame());
  }, warn);

  // ?chat=open, ?chat=open&chatbot_message=…, ?chatbot_message=…: once, then off the address bar.
  var u = new URL(location), p = u.searchParams, msg = p.get("chatbot_message"), chat = p.get("chat") == "open";
  if (chat || msg != null) {
    chat && p.delete("chat");
    p.delete("chatbot_message");
    history.replaceState(history.state, "", u); // other parameters and the hash stay
    open(msg);
  }
  // Calls made before this script loaded (the stub in the README queues them in `q`).
  api?.q?.forEach(([name, args]) => DG[name]?.(...args));
})();
