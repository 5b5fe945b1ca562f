// The JS API demo page: a button per method and a live log of everything the widget reports.
(function () {
  var log = document.getElementById("log");
  window.demoEvents = []; // what the log shows, for the end-to-end tests
  function line(kind, name, detail) {
    window.demoEvents.push({ kind: kind, name: name, detail: detail });
    var li = document.createElement("li"), b = document.createElement("b");
    b.textContent = kind + " " + name;
    li.append(new Date().toLocaleTimeString() + "  ", b, detail === undefined ? "" : "  " + JSON.stringify(detail));
    log.append(li);
    log.scrollTop = log.scrollHeight;
  }
  var ON = ["ready", "open", "close", "message", "stream_start", "stream_chunk", "stream_end", "error",
    "chat_open", "chat_response", "chat_recommendation", "chat_product_click", "chat_contact_form_shown",
    "chat_conversation_classified", "handoff_offered", "agent_joined", "agent_message", "agent_left"];
  var handlers = [];
  function subscribe() {
    ON.forEach(function (name) {
      var h = function (detail) { line("on", name, detail); };
      handlers.push([name, h]);
      DGbot.on(name, h); // queued by the stub until widget.js has loaded
    });
  }
  subscribe();
  ON.filter(function (n) { return n.indexOf("chat_") === 0; }).concat("chat_custom").forEach(function (name) {
    window.addEventListener(name, function (e) { line("CustomEvent", name, e.detail); });
  });
  window.addEventListener("message", function (e) {
    if (e.origin !== "{{WIDGET_BASE}}" || !e.data || !e.data.action) return;
    line("postMessage", e.data.action, e.data);
  });
  var calls = {
    open: function () { DGbot.open(); },
    openWith: function () { DGbot.open(document.getElementById("message").value); },
    close: function () { DGbot.close(); },
    hide: function () { DGbot.hide(); },
    show: function () { DGbot.show(); },
    identify: function () { DGbot.identify({ user_id: "customer-1042", name: "Ada Jensen", email: "ada@example.com", user_hash: "demo-signature" }); },
    purchase: function () { DGbot.reportPurchase(1299, "DKK"); },
    off: function () { handlers.splice(0).forEach(function (h) { DGbot.off(h[0], h[1]); }); line("page", "removed all on() handlers"); },
    destroy: function () { DGbot.destroy(); line("page", "destroyed: window.DGbot is " + window.DGbot); },
    reinstall: function () {
      var s = document.createElement("script");
      s.src = "{{WIDGET_BASE}}/widget.js";
      s.setAttribute("data-chatbot-id", "demo-shop");
      s.onload = function () { line("page", "script tag added again"); subscribe(); };
      document.body.append(s);
    },
    clear: function () { log.textContent = ""; }
  };
  document.querySelector(".controls").addEventListener("click", function (e) {
    var call = e.target.getAttribute && e.target.getAttribute("data-call");
    if (call) calls[call]();
  });
})();
