/* dgbot loader: the only dgbot code that runs on the host page.
 *   <script src="https://HOST/widget.js" data-chatbot-id="ID" async></script>
 * Paints a launcher bubble at once, creates the chat iframe lazily (idle time or first intent),
 * and talks to it only by origin-checked postMessage. Styles live in a shadow root with a
 * constructed stylesheet: nothing leaks into or out of the host page, and no inline style or
 * script is needed, so it runs under a strict Content-Security-Policy. No dependencies.
 *
 * This is the source; `cargo xtask build` minifies it into loader/widget.js, which is served.
 * The bridge's message names are listed in docs/protocol.md. */
(function () {
  "use strict";
  var w = window, d = document;
  if (w.DGbot && w.DGbot._dgbot) return; // idempotent

  var script = d.currentScript ||
    d.querySelector("script[data-chatbot-id][src*='widget.js'],script[data-key][src*='widget.js']");
  if (!script) return;
  var botId = script.getAttribute("data-chatbot-id") || script.getAttribute("data-key");
  if (!botId) { console.warn("dgbot: the script tag needs data-chatbot-id"); return; }
  var base;
  try { base = new URL(script.getAttribute("data-api") || script.src, location.href).origin; }
  catch (e) { console.warn("dgbot: bad data-api"); return; }

  var SRC = "dgbot", V = 1;
  var css =
    ":host{all:initial}" +
    ".l{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border:0;border-radius:50%;" +
    "background:#1f5f5b;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:grid;place-items:center;" +
    "transition:transform .15s}.l:hover{transform:scale(1.06)}.l:focus-visible{outline:3px solid #9ad0c9}" +
    ".l svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}" +
    ".p{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:400px;height:min(640px,calc(100vh - 112px));" +
    "border-radius:14px;overflow:hidden;box-shadow:0 10px 40px rgba(0,0,0,.25);background:#fff;display:none}" +
    ".p.o{display:block}.p iframe{width:100%;height:100%;border:0;display:block}" +
    "@media (max-width:480px){.p{inset:0;width:auto;height:100%;border-radius:0;bottom:0;right:0}.p.o~.l{display:none}}";

  var host = d.createElement("div");
  host.id = "dgbot-root";
  var root = host.attachShadow({ mode: "open" });
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch (e) { var st = d.createElement("style"); st.textContent = css; root.appendChild(st); }

  function icon(paths) {
    var ns = "http://www.w3.org/2000/svg", svg = d.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("aria-hidden", "true");
    paths.forEach(function (p) { var e = d.createElementNS(ns, "path"); e.setAttribute("d", p); svg.appendChild(e); });
    return svg;
  }
  var CHAT = ["M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"], X = ["M6 6l12 12", "M18 6L6 18"];

  var panel = d.createElement("div"); panel.className = "p";
  var launcher = d.createElement("button"); launcher.className = "l"; launcher.type = "button";
  root.appendChild(panel); root.appendChild(launcher);

  var frame = null, ready = false, isOpen = false, queue = [];

  function post(msg) {
    msg.source = SRC; msg.v = V;
    if (ready) frame.contentWindow.postMessage(msg, base); else queue.push(msg);
  }
  function ensureFrame() {
    if (frame) return;
    frame = d.createElement("iframe");
    frame.title = "Chat";
    frame.src = base + "/chat/?chatbot_id=" + encodeURIComponent(botId) + "&host=" + encodeURIComponent(location.origin);
    panel.appendChild(frame);
  }
  function render() {
    panel.classList.toggle("o", isOpen);
    launcher.textContent = "";
    launcher.appendChild(icon(isOpen ? X : CHAT));
    launcher.setAttribute("aria-label", isOpen ? "Close chat" : "Open chat");
    launcher.setAttribute("aria-expanded", String(isOpen));
  }
  function open() {
    ensureFrame();
    if (!isOpen) { isOpen = true; render(); }
    post({ action: "opened" });
  }
  function close() {
    if (!isOpen) return;
    isOpen = false; render();
    launcher.focus();
  }

  function onMessage(e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== base) return;
    var m = e.data;
    if (!m || m.source !== SRC || typeof m.action !== "string") return;
    if (m.action === "ready") {
      ready = true;
      var q = queue; queue = [];
      q.forEach(function (msg) { frame.contentWindow.postMessage(msg, base); });
    } else if (m.action === "closeChat") close();
    else if (m.action === "navigate") {
      // Only web URLs: a product link must never run script on the host page.
      if (typeof m.url === "string" && /^https?:\/\//i.test(m.url)) location.assign(m.url);
    } else if (m.action === "custom") {
      w.dispatchEvent(new CustomEvent("chat_custom", { detail: { key: m.key, payload: m.payload, part_id: m.part_id } }));
    }
  }
  function onKey(e) { if (e.key === "Escape" && isOpen) close(); }

  launcher.addEventListener("click", function () { isOpen ? close() : open(); });
  ["pointerenter", "focus"].forEach(function (t) {
    launcher.addEventListener(t, ensureFrame, { passive: true, once: true });
  });
  w.addEventListener("message", onMessage);
  d.addEventListener("keydown", onKey);
  render();
  (d.body || d.documentElement).appendChild(host);
  (w.requestIdleCallback || function (f) { setTimeout(f, 1500); })(ensureFrame);

  w.DGbot = w.DialogIntelligens = { _dgbot: true, open: open, close: close };
})();
