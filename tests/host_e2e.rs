//! The host page end to end (issue 4): the loader's window API, the analytics CustomEvents and
//! postMessage actions, URL parameters, the inline and search-bar embeds, a strict CSP, and two
//! script tags, in headless Chromium with the host page on another origin than the widget.

mod support;

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::{Value, json};
use support::Harness;

/// What the api.html log recorded: `(kind, name)` → details, in order.
async fn events(h: &Harness, kind: &str, name: &str) -> Vec<Value> {
    let all = h.js("return window.demoEvents || [];", vec![]).await;
    all.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind && e["name"] == name)
        .map(|e| e["detail"].clone())
        .collect()
}

/// Wait until the api.html log has at least `n` of `(kind, name)`; return them.
async fn wait_events(h: &Harness, kind: &str, name: &str, n: usize) -> Vec<Value> {
    h.eventually(&format!("{n} × {kind} {name}"), || async {
        let found = events(h, kind, name).await;
        (found.len() >= n).then_some(found)
    })
    .await
}

/// The loader's state on the host page (`closed`, `open`, `expanded`, `peek`).
async fn panel_state(h: &Harness) -> String {
    h.loader_state().await
}

#[tokio::test]
async fn window_api_events_and_analytics() {
    let h = Harness::start().await;
    h.goto("/demo/api.html").await;
    // on() calls made through the stub before widget.js loaded were queued and replayed.
    let ready = wait_events(&h, "on", "ready", 1).await;
    assert_eq!(ready[0]["chat_type"], "shopping_assistant");
    assert!(
        h.js(
            "return DGbot === DialogIntelligens && typeof DGbot.open === 'function';",
            vec![]
        )
        .await
        .as_bool()
        .unwrap()
    );

    // open() twice: opened once, never toggled closed; chat_open with the seed's detail.
    h.js("DGbot.open(); DGbot.open();", vec![]).await;
    assert_eq!(panel_state(&h).await, support::pages::host::OPEN);
    assert_eq!(
        wait_events(&h, "CustomEvent", "chat_open", 1).await,
        vec![json!({ "chat_type": "shopping_assistant" })]
    );
    assert_eq!(events(&h, "on", "open").await.len(), 1);

    // open(message) on an open chat still sends it; the stream events and seed actions follow.
    h.js("DGbot.open('How long does shipping take?');", vec![])
        .await;
    assert_eq!(
        wait_events(&h, "on", "message", 1).await[0],
        json!({ "text": "How long does shipping take?" })
    );
    let end = wait_events(&h, "on", "stream_end", 1).await;
    assert!(
        end[0]["message_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{end:?}"
    );
    assert_eq!(events(&h, "on", "stream_start").await.len(), 1);
    // The text comes before the end, in order.
    let order = h
        .js("return demoEvents.filter(e => e.kind === 'on' && e.name.indexOf('stream_') === 0).map(e => e.name);", vec![])
        .await;
    let order: Vec<&str> = order
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        (order.first(), order.last()),
        (Some(&"stream_start"), Some(&"stream_end")),
        "{order:?}"
    );
    let chunks: String = events(&h, "on", "stream_chunk")
        .await
        .iter()
        .map(|c| c["content"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        chunks.contains("Standard shipping takes 2–4 business days"),
        "{chunks}"
    );
    let response = wait_events(&h, "CustomEvent", "chat_response", 1).await;
    assert_eq!(response[0]["chat_type"], "shopping_assistant");
    assert!(
        response[0]["response_latency_ms"].as_u64().is_some(),
        "{response:?}"
    );
    assert_eq!(
        response[0].as_object().unwrap().len(),
        2,
        "exactly the seed's detail: {response:?}"
    );
    let classified = wait_events(&h, "CustomEvent", "chat_conversation_classified", 1).await;
    assert_eq!(
        classified[0],
        json!({ "chat_type": "shopping_assistant", "classification": "Shipping" })
    );
    let first = wait_events(&h, "postMessage", "firstMessageSent", 1).await;
    assert_eq!(first[0]["chatbotID"], "demo-shop");
    assert_eq!(
        wait_events(&h, "postMessage", "conversationClassified", 1).await[0]["emne"],
        "Shipping"
    );
    for action in ["userMessageSubmitted", "assistantFirstToken"] {
        assert_eq!(events(&h, "postMessage", action).await.len(), 1, "{action}");
    }

    // Product cards: productRecommendation (with urls) → chat_recommendation.
    h.js("DGbot.open('Which lamps do you recommend?');", vec![])
        .await;
    let recommended = wait_events(&h, "postMessage", "productRecommendation", 1).await;
    assert!(
        recommended[0]["urls"]
            .as_array()
            .is_some_and(|u| !u.is_empty()),
        "{recommended:?}"
    );
    assert_eq!(
        wait_events(&h, "CustomEvent", "chat_recommendation", 1).await[0],
        json!({ "chat_type": "shopping_assistant" })
    );
    assert_eq!(
        events(&h, "postMessage", "firstMessageSent").await.len(),
        1,
        "only the first message"
    );
    // The contact form: contactFormShown → chat_contact_form_shown.
    h.js("DGbot.open('I want to contact you');", vec![]).await;
    wait_events(&h, "postMessage", "contactFormShown", 1).await;
    assert_eq!(
        wait_events(&h, "CustomEvent", "chat_contact_form_shown", 1).await[0],
        json!({ "chat_type": "shopping_assistant" })
    );

    // identify() reaches the server; reportPurchase() comes back as purchaseReported.
    h.js("DGbot.identify({ user_id: 'customer-1042', name: 'Ada', email: 'ada@example.com', user_hash: 'sig' });", vec![]).await;
    let identity = h
        .eventually("the identity stored", || async {
            h.state.store.identities().unwrap().into_iter().next()
        })
        .await;
    assert_eq!(
        (
            identity.0.as_str(),
            identity.2.user_id.as_str(),
            identity.2.user_hash.as_deref()
        ),
        ("demo-shop", "customer-1042", Some("sig"))
    );
    h.js("DGbot.reportPurchase(1299.5, 'dkk'); DGbot.reportPurchase('lots', 'DKK'); DGbot.reportPurchase(5, 'kroner');", vec![]).await;
    let purchase = wait_events(&h, "postMessage", "purchaseReported", 1).await;
    assert_eq!(
        (
            &purchase[0]["chatbotID"],
            &purchase[0]["totalPrice"],
            &purchase[0]["currency"]
        ),
        (&json!("demo-shop"), &json!(1299.5), &json!("DKK"))
    );

    // Bad arguments warn; nothing the host calls throws.
    let thrown = h
        .js(
            "var warned = [], warn = console.warn; console.warn = function (m) { warned.push(String(m)); }; \
             try { DGbot.open(42); DGbot.on('open'); DGbot.on(5, function () {}); DGbot.off('nope', null); DGbot.identify(null); \
             DGbot.identify({ user_id: 'x', f: function () {} }); return warned; } catch (e) { return String(e); } \
             finally { console.warn = warn; }",
            vec![],
        )
        .await;
    let warned: Vec<&str> = thrown
        .as_array()
        .expect("nothing thrown")
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warned.len() == 3 && warned.iter().all(|w| w.starts_with("dgbot: ")),
        "{warned:?}"
    );
    assert!(
        warned[0].contains("open(message)")
            && warned[1].contains("on(event, handler)")
            && warned[2].contains("could not be cloned"),
        "{warned:?}"
    );
    // on() returns an unsubscribe function; off() removes a handler.
    let counts = h
        .js(
            "var n = { a: 0, b: 0 }; var stop = DGbot.on('close', function () { n.a++; }); var f = function () { n.b++; }; \
             DGbot.on('close', f); DGbot.off('close', f); DGbot.close(); stop(); DGbot.open(); DGbot.close(); return n;",
            vec![],
        )
        .await;
    assert_eq!(counts, json!({ "a": 1, "b": 0 }));

    // Messages that are not from our iframe are ignored: the page itself, and a frame of another origin.
    h.js(
        "window.postMessage({ source: 'dgbot', v: 1, action: 'productClick', event: 'chat_product_click', detail: {} }, '*'); \
         var f = document.createElement('iframe'); f.srcdoc = \"<script>parent.postMessage({source:'dgbot',v:1,action:'navigate',url:'https://example.com/',\
         event:'chat_product_click',detail:{}},'*')<\\/script>\"; document.body.append(f);",
        vec![],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        events(&h, "CustomEvent", "chat_product_click")
            .await
            .is_empty()
    );
    assert!(
        h.client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/demo/api.html")
    );

    // The size button: toggleSize, then expandChat / collapseChat, and the window follows.
    h.js("DGbot.open();", vec![]).await;
    h.enter_chat().await;
    h.wait_css(support::pages::widget::SIZE)
        .await
        .click()
        .await
        .unwrap();
    h.client.enter_parent_frame().await.unwrap();
    wait_events(&h, "postMessage", "expandChat", 1).await;
    assert_eq!(events(&h, "postMessage", "toggleSize").await.len(), 1);
    assert_eq!(panel_state(&h).await, support::pages::host::EXPANDED);
    // Closed while large and opened again: the window is back to normal, and so is the button.
    h.js("DGbot.close(); DGbot.open();", vec![]).await;
    assert_eq!(panel_state(&h).await, support::pages::host::OPEN);
    h.enter_chat().await;
    h.eventually("the size button to say normal", || async {
        let button = h
            .client
            .find(Locator::Css(support::pages::widget::SIZE))
            .await
            .ok()?;
        (button.attr("aria-pressed").await.ok()?? == "false").then_some(button)
    })
    .await;
    h.wait_css(support::pages::widget::SIZE)
        .await
        .click()
        .await
        .unwrap();
    h.client.enter_parent_frame().await.unwrap();
    wait_events(&h, "postMessage", "expandChat", 2).await;
    h.enter_chat().await;
    h.eventually("the size button to say large", || async {
        let button = h
            .client
            .find(Locator::Css(support::pages::widget::SIZE))
            .await
            .ok()?;
        (button.attr("aria-pressed").await.ok()?? == "true").then_some(())
    })
    .await;
    h.wait_css(support::pages::widget::SIZE)
        .await
        .click()
        .await
        .unwrap();
    // Escape inside the chat closes it, and focus returns to the launcher.
    h.wait_css(support::pages::widget::COMPOSER)
        .await
        .send_keys(&char::from(Key::Escape).to_string())
        .await
        .unwrap();
    h.client.enter_parent_frame().await.unwrap();
    wait_events(&h, "postMessage", "collapseChat", 1).await;
    wait_events(&h, "postMessage", "closeChat", 1).await;
    assert_eq!(panel_state(&h).await, support::pages::host::CLOSED);
    let focus = h.js("var a = document.activeElement; return a.id + ' ' + a.shadowRoot.activeElement.className;", vec![]).await;
    assert_eq!(focus, "dgbot-root l");

    // hide() hides everything; show() brings back the closed launcher.
    h.js("DGbot.open(); DGbot.hide();", vec![]).await;
    let display = "return getComputedStyle(document.getElementById('dgbot-root')).display;";
    assert_eq!(h.js(display, vec![]).await, "none");
    h.js("DGbot.show();", vec![]).await;
    assert_ne!(h.js(display, vec![]).await, "none");
    assert_eq!(panel_state(&h).await, support::pages::host::CLOSED);

    // destroy() removes everything; a later script tag installs afresh, exactly once.
    h.js("DGbot.destroy();", vec![]).await;
    assert_eq!(
        h.js(
            "return [document.querySelectorAll('#dgbot-root').length, window.DGbot];",
            vec![]
        )
        .await,
        json!([0, null])
    );
    h.js(
        "for (var i = 0; i < 2; i++) { var s = document.createElement('script'); s.src = arguments[0] + '/widget.js'; \
         s.setAttribute('data-chatbot-id', 'demo-shop'); document.body.append(s); }",
        vec![json!(h.widget_base)],
    )
    .await;
    h.eventually("a reinstalled widget", || async {
        h.js(
            "return window.DGbot && typeof DGbot.open === 'function';",
            vec![],
        )
        .await
        .as_bool()
        .filter(|b| *b)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        h.js(
            "return document.querySelectorAll('#dgbot-root').length;",
            vec![]
        )
        .await,
        1
    );
    h.finish().await;
}

/// Config `popup_messages`: beside the closed launcher after a few seconds; a click opens the
/// chat; dismissed, they stay away for the session.
#[tokio::test]
async fn popup_messages_beside_the_launcher() {
    // Dismissing the popup is remembered in the chat frame's sessionStorage, which a browser
    // that blocks third-party storage denies: there the popup comes back on the next page
    // (a known limit, docs/host-page.md). This test runs with storage allowed.
    let h = Harness::start_with_storage(support::Storage::Allowed).await;
    h.goto("/demo/").await;
    h.launcher().await;
    h.eventually("the popup window", || async {
        (panel_state(&h).await == support::pages::host::PEEK).then_some(())
    })
    .await;
    h.enter_chat().await;
    let popup = h.wait_css(support::pages::widget::POPUP_MESSAGE).await;
    assert_eq!(
        popup.text().await.unwrap(),
        "Questions about delivery or returns? Ask me!"
    );
    popup.click().await.unwrap();
    h.client.enter_parent_frame().await.unwrap();
    h.eventually("the chat open", || async {
        (panel_state(&h).await == support::pages::host::OPEN).then_some(())
    })
    .await;
    h.enter_chat().await;
    assert_eq!(h.count("[data-testid=popup]").await, 0);
    h.wait_css(support::pages::widget::WELCOME).await;
    h.client.enter_parent_frame().await.unwrap();

    // A new page: the chat was opened in this session, so the popup may come again only if not
    // dismissed; dismiss it, and the next page has none.
    h.goto("/demo/two-tags.html").await;
    h.eventually("the popup window", || async {
        (panel_state(&h).await == support::pages::host::PEEK).then_some(())
    })
    .await;
    h.enter_chat().await;
    h.wait_css("[data-testid=popup-dismiss]")
        .await
        .click()
        .await
        .unwrap();
    h.client.enter_parent_frame().await.unwrap();
    h.eventually("the popup gone", || async {
        (panel_state(&h).await == support::pages::host::CLOSED).then_some(())
    })
    .await;
    h.goto("/demo/").await;
    h.launcher().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_ne!(panel_state(&h).await, support::pages::host::PEEK);

    // On a phone the popup stays a small window above the launcher: it must not cover the page.
    h.client.set_window_size(390, 760).await.unwrap();
    // The shop under its other address: the chat's storage is partitioned by the top-level
    // site, so the dismissal above does not apply there and the popup comes.
    h.client
        .goto(&format!("{}/demo/", h.widget_base))
        .await
        .unwrap();
    h.eventually("the popup window", || async {
        (panel_state(&h).await == support::pages::host::PEEK).then_some(())
    })
    .await;
    let rect = h
        .js("var r = document.getElementById('dgbot-root').shadowRoot.querySelector('iframe').getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)];", vec![])
        .await;
    assert_eq!(rect, json!([340, 170]));
    h.finish().await;
}

/// Seed 002, "Option 2: URL Parameters": each form opens the chat once and leaves the address bar.
#[tokio::test]
async fn url_parameters_open_the_chat_once_and_are_stripped() {
    let h = Harness::start().await;
    h.goto("/demo/?chat=open&keep=1#top").await;
    h.eventually("the window open", || async {
        (panel_state(&h).await == support::pages::host::OPEN).then_some(())
    })
    .await;
    assert!(
        h.client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/demo/?keep=1#top")
    );

    for (path, question) in [
        (
            "/demo/?chatbot_message=What+are+your+opening+hours%3F",
            "What are your opening hours?",
        ),
        (
            "/demo/?a=b&chat=open&chatbot_message=Do%20you%20ship%20to%20Norway",
            "Do you ship to Norway",
        ),
    ] {
        h.goto(path).await;
        h.eventually("the window open", || async {
            (panel_state(&h).await == support::pages::host::OPEN).then_some(())
        })
        .await;
        let url = h.client.current_url().await.unwrap();
        assert!(url.query().is_none_or(|q| q == "a=b"), "{url}");
        h.enter_chat().await;
        h.sent(question).await; // waits until the last visitor message is exactly the link's
        h.finished_answer().await;
        h.client.enter_parent_frame().await.unwrap();
    }
    // Once per page load: the stripped address reloads without opening or sending again.
    h.client.refresh().await.unwrap();
    h.launcher().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_ne!(panel_state(&h).await, support::pages::host::OPEN);

    // On a phone-sized window the chat fills the visual viewport and the launcher steps aside.
    h.client.set_window_size(390, 760).await.unwrap();
    h.goto("/demo/?chat=open").await;
    h.eventually("the window open", || async {
        (panel_state(&h).await == support::pages::host::OPEN).then_some(())
    })
    .await;
    let fit = h
        .js(
            "var r = document.getElementById('dgbot-root').shadowRoot, f = r.querySelector('iframe').getBoundingClientRect(); \
             return [Math.round(f.top), Math.round(f.left), Math.round(f.width) === document.documentElement.clientWidth, Math.round(f.height) === Math.round(visualViewport.height), \
             getComputedStyle(r.querySelector('button')).display];",
            vec![],
        )
        .await;
    assert_eq!(fit, json!([0, 0, true, true, "none"]));
    h.finish().await;
}

#[tokio::test]
async fn inline_embed_search_bars_and_option_4() {
    let h = Harness::start().await;
    // Inline: in #chatbot-placeholder, with the override's welcome above the input until the first question.
    h.goto("/demo/inline.html").await;
    let frame = h.wait_css("#chatbot-placeholder > iframe").await;
    assert!(
        h.js("return !document.getElementById('dgbot-root');", vec![])
            .await
            .as_bool()
            .unwrap(),
        "no launcher"
    );
    frame.enter_frame().await.unwrap();
    let welcome = h.wait_css("[data-testid=inline-welcome]").await;
    assert_eq!(
        welcome.text().await.unwrap(),
        "Looking for the right lamp? Ask me about sizes, prices or delivery."
    );
    assert_eq!(h.count("[data-testid=close]").await, 0);
    h.ask("Do you have a floor lamp?").await;
    h.finished_answer().await;
    assert_eq!(h.count("[data-testid=inline-welcome]").await, 0);
    h.client.enter_parent_frame().await.unwrap();

    // Search bars by id, by class (two) and by manual init; Enter or the button opens the chat.
    h.goto("/demo/searchbar.html").await;
    let bars = h
        .js(
            "return ['bar-id','bar-class-1','bar-class-2','bar-manual'].map(function (id) { \
             var r = document.querySelector('[data-testid=' + id + ']').shadowRoot; \
             return r && [r.querySelector('input').placeholder, r.querySelector('button').textContent]; });",
            vec![],
        )
        .await;
    assert_eq!(
        bars,
        json!([
            ["Ask us anything…", "Ask"],
            ["Search our lamps…", "Ask"],
            ["Ask us anything…", "Send"],
            ["Where is my order?", "Ask support"]
        ])
    );
    let bar = h
        .client
        .find(Locator::Css("[data-testid=bar-class-2]"))
        .await
        .unwrap();
    let input = bar
        .shadow_root()
        .await
        .unwrap()
        .find(Locator::Css("input"))
        .await
        .unwrap();
    input
        .send_keys("What does the Skagen lamp cost?")
        .await
        .unwrap();
    input
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    h.eventually("the window open", || async {
        (panel_state(&h).await == support::pages::host::OPEN).then_some(())
    })
    .await;
    h.enter_chat().await;
    h.sent("What does the Skagen lamp cost?").await;
    h.client.enter_parent_frame().await.unwrap();

    // Seed 002 "Option 4": post sendMessage into the iframe as soon as it loads, before the app
    // runs (no 1000 ms wait). A fresh install, so the iframe is created by this open().
    h.goto("/demo/").await;
    h.launcher().await;
    h.js(
        "var base = arguments[0]; DGbot.destroy(); var s = document.createElement('script'); s.src = base + '/widget.js'; \
         s.setAttribute('data-chatbot-id', 'demo-shop'); s.onload = function () { DGbot.open(); \
         var f = document.getElementById('dgbot-root').shadowRoot.querySelector('iframe'); \
         f.addEventListener('load', function () { f.contentWindow.postMessage({ action: 'sendMessage', message: 'Hello from option 4' }, base); }, { once: true }); }; \
         document.body.append(s);",
        vec![json!(h.widget_base)],
    )
    .await;
    h.enter_chat().await;
    h.sent("Hello from option 4").await;
    h.finish().await;
}

#[tokio::test]
async fn strict_csp_two_tags_and_the_seed_gtm_snippet() {
    let h = Harness::start().await;
    // The strict-CSP page really is strict, and the widget works under it without a violation.
    h.goto("/demo/strict-csp.html").await;
    let csp = h
        .client
        .execute_async("var done = arguments[0]; fetch(location.href).then(function (r) { done(r.headers.get('content-security-policy')); });", vec![])
        .await
        .unwrap();
    let csp = csp.as_str().unwrap();
    assert!(
        csp.contains("script-src 'self' http://127.0.0.1:") && !csp.contains("unsafe"),
        "{csp}"
    );
    h.launcher().await;
    h.client
        .find(Locator::Id("open"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    h.enter_chat().await;
    h.finished_answer().await;
    h.client.enter_parent_frame().await.unwrap();
    assert_eq!(
        h.client
            .find(Locator::Css("[data-testid=violations]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "0"
    );

    // Two script tags (data-chatbot-id and data-key) make one widget; a React-style effect that
    // adds the tag, removes it and adds it again (StrictMode) does not add another.
    h.goto("/demo/two-tags.html").await;
    h.launcher().await;
    h.js(
        "for (var i = 0; i < 2; i++) { var s = document.createElement('script'); s.src = arguments[0] + '/widget.js'; \
         s.setAttribute('data-key', 'demo-shop'); s.async = true; document.body.appendChild(s); document.body.removeChild(s); \
         document.body.appendChild(s); }",
        vec![json!(h.widget_base)],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let count = "return [document.querySelectorAll('#dgbot-root').length, document.getElementById('dgbot-root').shadowRoot.querySelectorAll('button,iframe').length];";
    assert_eq!(h.js(count, vec![]).await, json!([1, 2]));

    // No CSS leaks either way: the page's rules for buttons and iframes do not reach the
    // launcher, and the widget's do not reach the page's own buttons.
    let styles = h
        .js(
            "var s = document.createElement('style'); s.textContent = 'button, iframe { display: none !important; width: 3px !important }'; \
             document.head.append(s); var l = document.getElementById('dgbot-root').shadowRoot.querySelector('button'); \
             var mine = document.createElement('button'); mine.className = 'l'; document.body.append(mine); \
             var r = [getComputedStyle(l).display, getComputedStyle(l).width, getComputedStyle(mine).position]; s.remove(); mine.remove(); return r;",
            vec![],
        )
        .await;
    assert_eq!(styles, json!(["block", "60px", "static"]));

    // data-api: the script from one origin, the chat from another.
    h.js(
        "DGbot.destroy(); var s = document.createElement('script'); s.src = arguments[0] + '/widget.js'; \
         s.setAttribute('data-chatbot-id', 'demo-shop'); s.setAttribute('data-api', arguments[1]); \
         s.onload = function () { DGbot.open(); }; document.body.append(s);",
        vec![json!(h.host_base), json!(h.widget_base)],
    )
    .await;
    let src = h
        .eventually("the chat from data-api", || async {
            h.js("var r = document.getElementById('dgbot-root'); var f = r && r.shadowRoot.querySelector('iframe'); return f && f.src;", vec![])
                .await
                .as_str()
                .map(str::to_owned)
        })
        .await;
    assert!(
        src.starts_with(&format!("{}/chat/?chatbot_id=demo-shop", h.widget_base)),
        "{src}"
    );

    // The seed's GTM listener, pasted unchanged, fills dataLayer.
    h.goto("/demo/gtm.html").await;
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.wait_css(support::pages::widget::WELCOME).await;
    h.ask("Which lamps do you recommend?").await;
    h.finished_answer().await;
    h.client.enter_parent_frame().await.unwrap();
    let pushed = h
        .eventually("the classification in dataLayer", || async {
            let layer = h.js("return window.dataLayer;", vec![]).await;
            let names: Vec<String> = layer
                .as_array()?
                .iter()
                .filter_map(|e| e["event"].as_str().map(str::to_owned))
                .collect();
            names
                .contains(&"chat_conversation_classified".to_owned())
                .then_some(layer)
        })
        .await;
    let names: Vec<&str> = pushed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    for name in [
        "chat_open",
        "chat_response",
        "chat_recommendation",
        "chat_conversation_classified",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(
        pushed
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["chat_type"] == "shopping_assistant"),
        "{pushed}"
    );
    h.eventually("the page showing the pushes", || async {
        (h.client
            .find_all(Locator::Css("[data-testid=datalayer] li"))
            .await
            .ok()?
            .len()
            >= names.len())
        .then_some(())
    })
    .await;
    h.finish().await;
}

/// Screenshots of the demo host pages for a person to look at (target/screenshots/):
/// `cargo test --test host_e2e demo_page_screenshots -- --ignored`.
#[tokio::test]
#[ignore = "writes screenshots for review"]
async fn demo_page_screenshots() {
    let h = Harness::start().await;
    let dir = support::repo_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let shot = |name: &'static str| {
        let (client, dir) = (h.client.clone(), dir.clone());
        async move {
            std::fs::write(
                dir.join(format!("{name}.png")),
                client.screenshot().await.unwrap(),
            )
            .unwrap()
        }
    };
    h.goto("/demo/").await;
    h.launcher().await;
    h.eventually("the popup window", || async {
        (panel_state(&h).await == support::pages::host::PEEK).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    shot("popup").await;
    h.goto("/demo/inline.html").await;
    h.wait_css("#chatbot-placeholder > iframe")
        .await
        .enter_frame()
        .await
        .unwrap();
    h.wait_css("[data-testid=inline-welcome]").await;
    h.client.enter_parent_frame().await.unwrap();
    shot("inline").await;
    h.goto("/demo/api.html").await;
    wait_events(&h, "on", "ready", 1).await;
    h.js("DGbot.open('Which lamps do you recommend?');", vec![])
        .await;
    wait_events(&h, "CustomEvent", "chat_conversation_classified", 1).await;
    shot("api").await;
    h.enter_chat().await;
    h.wait_css(support::pages::widget::SIZE)
        .await
        .click()
        .await
        .unwrap();
    h.client.enter_parent_frame().await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    shot("large").await;
    h.goto("/demo/gtm.html").await;
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.ask("How long does shipping take?").await;
    h.finished_answer().await;
    h.client.enter_parent_frame().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    shot("gtm").await;
    h.client.set_window_size(390, 780).await.unwrap();
    h.goto("/demo/").await;
    h.launcher().await.click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    shot("phone").await;
    h.finish().await;
}

/// Only the chatbot's allowed sites can frame the chat page: it is served with
/// `Content-Security-Policy: frame-ancestors` from the allowed origins, so the browser refuses
/// any other embedder (in every browser, not only where `ancestorOrigins` exists). Here the
/// chatbot allows `http://localhost:*` only: the shop on `localhost` gets a working chat, the
/// same page on `127.0.0.1` gets a frame the browser leaves empty (no `ready`, ever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_allowed_sites_can_frame_the_chat() {
    let mut h = Harness::start_custom(
        |_| {},
        |bot| bot.allowed_origins = vec!["http://localhost:*".into()],
    )
    .await;
    let ready_within = |secs: u64| {
        let client = h.client.clone();
        async move {
            client
                .execute(
                    "window.__ready = 0; DGbot.on('ready', () => window.__ready++); DGbot.open();",
                    vec![],
                )
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(secs)).await;
            client
                .execute("return window.__ready", vec![])
                .await
                .unwrap()
        }
    };
    h.goto("/demo/").await;
    h.launcher().await;
    assert_eq!(ready_within(4).await, 1, "the allowed site's chat starts");
    h.client
        .goto(&format!("{}/demo/", h.widget_base))
        .await
        .unwrap();
    h.launcher().await;
    assert_eq!(
        ready_within(4).await,
        0,
        "the browser refuses to frame the chat"
    );
    // The refusal is the chat page's `frame-ancestors`, reported to the server.
    let reports = h.take_csp_reports();
    assert!(
        !reports.is_empty() && reports.iter().all(|r| r.contains("frame-ancestors")),
        "{reports:#?}"
    );
    h.finish().await;
}
