//! Nothing heavy before the visitor wants it (issue 13, item 2): a first-time visitor on a page
//! with no reason to open the chat pays only the loader; the chat frame is made on intent
//! (hover, focus, touch, click, `open()`, `?chat=open`), and at idle time only when the chat has
//! something to show: a returning visitor (an id in the host page's storage), or a chatbot with
//! popup messages (the `popup` flag of the server's `/launcher/{id}` module). docs/host-page.md, Decisions.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::Harness;

/// The demo chatbot without popup messages: nothing for the chat to show a first-time visitor.
async fn quiet_bot() -> Harness {
    Harness::start_custom(|_| {}, |bot| bot.config.popup_messages.clear()).await
}

async fn frames(h: &Harness) -> u64 {
    h.js(
        "var r = document.getElementById('dgbot-root'); return r ? r.shadowRoot.querySelectorAll('iframe').length : -1;",
        vec![],
    )
    .await
    .as_u64()
    .unwrap_or(0)
}

/// A first-time visitor's page: no visitor id in the host page's storage (the id a frame made
/// on an earlier page would otherwise make this visitor a returning one), the launcher painted.
async fn fresh_page(h: &Harness, path: &str) {
    h.goto("/demo/demo.css").await;
    h.js("localStorage.clear(); sessionStorage.clear();", vec![])
        .await;
    h.goto(path).await;
    h.launcher().await;
}

async fn wait_frame(h: &Harness, what: &str) {
    h.eventually(what, || async { (frames(h).await == 1).then_some(()) })
        .await;
}

/// The launcher's centre, in CSS pixels of the viewport.
async fn launcher_centre(h: &Harness) -> (f64, f64) {
    let r = h
        .js(
            "var b = document.getElementById('dgbot-root').shadowRoot.querySelector('button').getBoundingClientRect(); \
             return [b.x + b.width / 2, b.y + b.height / 2];",
            vec![],
        )
        .await;
    (r[0].as_f64().unwrap(), r[1].as_f64().unwrap())
}

#[tokio::test]
async fn a_first_time_visitor_gets_the_frame_only_on_intent() {
    let h = quiet_bot().await;

    // Load, then 3 s of idle time: the launcher (its look is one small module), no frame.
    fresh_page(&h, "/demo/").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(frames(&h).await, 0, "no frame before intent");
    let hint = h
        .js(
            "return performance.getEntriesByType('resource').filter(r => r.name.includes('/launcher/')).map(r => r.name);",
            vec![],
        )
        .await;
    assert_eq!(
        hint,
        json!([format!("{}/launcher/demo-shop", h.widget_base)]),
        "one launcher module"
    );

    // Hover: a real pointer moved over the launcher.
    let (x, y) = launcher_centre(&h).await;
    h.cdp(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseMoved", "x": x, "y": y }),
    )
    .await;
    wait_frame(&h, "the frame after a hover").await;
    assert!(!h.panel_open().await, "a hover only prepares the chat");
    h.cdp(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseMoved", "x": 10, "y": 10 }),
    )
    .await;

    // Keyboard focus.
    fresh_page(&h, "/demo/").await;
    assert_eq!(frames(&h).await, 0);
    h.js(
        "document.getElementById('dgbot-root').shadowRoot.querySelector('button').focus();",
        vec![],
    )
    .await;
    wait_frame(&h, "the frame after focus").await;
    assert!(!h.panel_open().await);

    // A finger on the launcher (touch start only: the frame comes before the tap ends).
    fresh_page(&h, "/demo/").await;
    assert_eq!(frames(&h).await, 0);
    let (x, y) = launcher_centre(&h).await;
    h.cdp(
        "Input.dispatchTouchEvent",
        json!({ "type": "touchStart", "touchPoints": [{ "x": x, "y": y }] }),
    )
    .await;
    wait_frame(&h, "the frame after a touch").await;
    h.cdp(
        "Input.dispatchTouchEvent",
        json!({ "type": "touchCancel", "touchPoints": [] }),
    )
    .await;

    // A click with no hover before it (a script's click): the frame is made and opened at once,
    // and the composer takes a message.
    fresh_page(&h, "/demo/").await;
    assert_eq!(frames(&h).await, 0);
    h.js(
        "document.getElementById('dgbot-root').shadowRoot.querySelector('button').click();",
        vec![],
    )
    .await;
    assert_eq!(frames(&h).await, 1);
    assert!(h.panel_open().await);
    h.enter_chat().await;
    h.wait_css(support::pages::widget::WELCOME).await;
    h.ask("Hello").await;
    h.sent("Hello").await;
    h.client.enter_parent_frame().await.unwrap();

    // open() from the page.
    fresh_page(&h, "/demo/").await;
    assert_eq!(frames(&h).await, 0);
    h.js("DGbot.open();", vec![]).await;
    assert_eq!(frames(&h).await, 1);
    assert!(h.panel_open().await);

    // ?chat=open.
    fresh_page(&h, "/demo/?chat=open").await;
    wait_frame(&h, "the frame for ?chat=open").await;
    assert!(h.panel_open().await);
    h.finish().await;
}

#[tokio::test]
async fn a_returning_visitor_gets_the_frame_preloaded() {
    let h = quiet_bot().await;
    // The first visit: a click opens the chat, which gives the visitor an id, kept in the host
    // page's storage by the loader.
    fresh_page(&h, "/demo/").await;
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.wait_css(support::pages::widget::WELCOME).await;
    h.client.enter_parent_frame().await.unwrap();
    let id = h
        .eventually("the visitor id in the host page's storage", || async {
            h.js("return localStorage.getItem('dgbot_demo-shop');", vec![])
                .await
                .as_str()
                .map(str::to_owned)
        })
        .await;
    assert!(!id.is_empty());

    // The next page: a conversation may be in progress (or an agent's message unread), so the
    // frame is made at idle time, closed, with no intent.
    h.goto("/demo/two-tags.html").await;
    h.launcher().await;
    wait_frame(&h, "the preloaded frame").await;
    assert!(!h.panel_open().await);
    h.finish().await;
}

#[tokio::test]
async fn popup_messages_still_show_to_a_first_time_visitor() {
    // The demo chatbot has popup messages: the launcher module says so, the frame is made at idle time and
    // the popup appears beside the closed launcher, with no intent.
    let h = Harness::start_with_storage(support::Storage::Allowed).await;
    fresh_page(&h, "/demo/").await;
    h.wait_popup_window().await;
    h.enter_chat().await;
    h.wait_css(support::pages::widget::POPUP_MESSAGE).await;
    h.client.enter_parent_frame().await.unwrap();
    // The launcher module is one line, cached like widget.js, that any site may read (fetched
    // here from the shop's origin: a cross-origin request, as the loader's import() is).
    let got = h
        .js(
            "return Promise.all(arguments[0].map(u => fetch(u).then(async r => \
               [r.status, r.headers.get('content-type'), r.headers.get('cache-control'), await r.text()])));",
            vec![json!([
                format!("{}/launcher/demo-shop", h.widget_base),
                format!("{}/launcher/no-such-bot", h.widget_base)
            ])],
        )
        .await;
    let js = "text/javascript; charset=utf-8";
    let cache = "public, max-age=300";
    for (i, popup) in [(0, true), (1, false)] {
        assert_eq!(
            got[i].as_array().unwrap()[..3],
            json!([200, js, cache]).as_array().unwrap()[..]
        );
        let module = got[i][3].as_str().unwrap();
        let look: Value =
            serde_json::from_str(module.strip_prefix("export default ").unwrap()).unwrap();
        assert_eq!(look["popup"], popup, "{module}");
        assert_eq!(look["open"], "Open chat");
        assert!(
            look["css"]
                .as_str()
                .unwrap()
                .contains(".l,.p{position:fixed"),
            "{module}"
        );
    }
    h.finish().await;
}
