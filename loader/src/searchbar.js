/* dgbot inline search bar (seed 002, "Option 3: Inline Search Bar Widget").
 *   <script src="https://HOST/widget.js" data-chatbot-id="ID"></script>
 *   <script src="https://HOST/searchbar.js"></script>   (after the chatbot script)
 *   <div id="chatbot-searchbar"></div>  or, several:  <div class="chatbot-searchbar"></div>
 * or by hand: ChatbotSearchbar.init(elementOrSelector, { placeholder, buttonLabel, color }).
 * A container may also set data-placeholder, data-button-label and data-color.
 * Enter or the send button opens the chat with the text (window.DGbot.open(text)).
 * Each bar lives in its own shadow root with a constructed stylesheet: no CSS leaks either way,
 * and it works under a strict Content-Security-Policy. This is the source; `cargo xtask build`
 * minifies it into loader/searchbar.js. */
(() => {
  var w = window, d = document, sheet;

  function init(target, config) {
    if (target == null) return d.querySelectorAll("#chatbot-searchbar,.chatbot-searchbar").forEach((el) => init(el));
    var el = typeof target == "string" ? d.querySelector(target) : target;
    if (!(el instanceof Element)) return console.warn("dgbot searchbar: no container " + target);
    if (el.shadowRoot) return; // already a search bar (or someone else's component)
    var c = Object.assign({}, el.dataset, config), root = el.attachShadow({ mode: "open" });
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(
        ":host{display:block}form{display:flex;gap:8px;max-width:640px;margin:auto;padding:6px;border:1px solid #d5d9d7;" +
        "border-radius:999px;background:#fff;box-shadow:0 2px 10px #0001;font:16px/1.4 system-ui,sans-serif}" +
        "form:focus-within{border-color:var(--c)}input{flex:1;min-width:0;border:0;outline:0;padding:8px 14px;font:inherit;" +
        "background:none;color:#1c2321}button{border:0;border-radius:999px;padding:8px 20px;background:var(--c);color:#fff;" +
        "font:600 15px/1.4 system-ui,sans-serif;cursor:pointer}button:focus-visible{outline:3px solid #9ad0c9}");
    }
    root.adoptedStyleSheets = [sheet];
    var form = d.createElement("form"), input = d.createElement("input"), button = d.createElement("button");
    form.setAttribute("role", "search");
    form.style.setProperty("--c", /^#[0-9a-f]{3,8}$/i.test(c.color) ? c.color : "#1f5f5b");
    input.type = "search";
    input.placeholder = c.placeholder || "Ask us anything…";
    input.ariaLabel = c.placeholder || "Ask the chat";
    input.enterKeyHint = "send";
    button.textContent = c.buttonLabel || "Ask";
    form.append(input, button);
    root.append(form);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      var text = input.value.trim(), chat = w.DGbot || w.DialogIntelligens;
      if (!text) return input.focus();
      if (!chat) return console.warn("dgbot searchbar: load widget.js before searchbar.js");
      chat.open(text);
      input.value = "";
    });
  }

  w.ChatbotSearchbar = { init: (target, config) => { try { init(target, config); } catch (e) { console.warn("dgbot searchbar:", e); } } };
  d.readyState == "loading" ? d.addEventListener("DOMContentLoaded", () => init()) : init();
})();
