//! Issue 17, "Accessible by default": axe-core (from npm, installed by `cargo xtask setup`)
//! run on the real chat page in headless Chromium, in each state a visitor meets, must report
//! zero violations.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use dgbot_server::core::store::LivechatStore as _;
use support::Harness;

/// axe-core's `axe.min.js` (the test command sets `DGBOT_AXE`).
fn axe_source() -> String {
    let path = std::env::var("DGBOT_AXE").unwrap_or_else(|_| {
        support::repo_root()
            .join("target/tools/axe/node_modules/axe-core/axe.min.js")
            .to_string_lossy()
            .into_owned()
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run `cargo xtask setup`)"))
}

/// The violations axe-core finds on the current page, one line each (rule, impact, elements).
async fn violations(h: &Harness, state: &str) -> Vec<String> {
    let present = h.js("return typeof window.axe === 'object'", vec![]).await;
    if present != serde_json::Value::Bool(true) {
        h.js(&axe_source(), vec![]).await;
    }
    let found = h
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — '
                 + v.nodes.map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("axe in state {state}: {e}"));
    found
        .as_array()
        .map(|v| {
            v.iter()
                .map(|s| format!("{state}: {}", s.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// The chat page keeps the visitor id in its storage, where the livechat states read it.
fn allowed_storage() -> support::Options {
    support::Options {
        storage: support::Storage::Allowed,
        ..Default::default()
    }
}

fn assert_none(found: &[String]) {
    assert!(
        found.is_empty(),
        "axe-core found {} violations:\n{}",
        found.len(),
        found.join("\n")
    );
}

async fn click(h: &Harness, css: &str) {
    let el = h.wait_css(css).await;
    h.press(&el).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_nothing_in_the_states_a_visitor_meets() {
    let h = Harness::start().await;
    let found = visitor_states(&h).await;
    assert_none(&found);
    h.finish().await;
}

/// The same states with `theme.mode = "dark"`: every colour is the dark scheme's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_nothing_in_dark_mode() {
    let h = Harness::start_full(
        |_| {},
        |bot| bot.config.theme.mode = "dark".into(),
        allowed_storage(),
    )
    .await;
    let mut found = visitor_states(&h).await;
    let dark = h
        .js(
            "return getComputedStyle(document.body).backgroundColor",
            vec![],
        )
        .await;
    assert_eq!(dark, "rgb(21, 25, 24)", "the dark background");
    found.extend(marker_and_livechat_states(&h).await);
    assert_none(&found);
    h.finish().await;
}

/// Welcome, a product answer, a table, both forms, the rating and deletion panels.
async fn visitor_states(h: &Harness) -> Vec<String> {
    h.open_chat_page().await;
    let mut found = violations(h, "welcome").await;

    h.ask("Do you have a floor lamp?").await;
    h.wait_css("[data-part=products]").await;
    found.extend(violations(h, "a product answer").await);

    // Issue 27: an answer's controls, its follow-ups, "not helpful" with its reasons and the
    // next step it brings, a day's header and the times.
    h.ask("How long does shipping take?").await;
    h.wait_css("[data-testid=suggestions]").await;
    found.extend(violations(h, "an answer's controls and follow-ups").await);
    click(h, "[data-testid=not-helpful]").await;
    h.wait_css("[data-testid=why]").await;
    click(h, "[data-testid=reason-incomplete]").await;
    found.extend(violations(h, "not helpful, with its reasons").await);

    h.ask("Compare your lamps").await;
    h.wait_css("[data-part=table]").await;
    found.extend(violations(h, "a table").await);

    h.ask("Can you call me back?").await;
    h.wait_css("form").await;
    found.extend(violations(h, "the contact form").await);

    h.ask("I want to file a support ticket").await;
    h.eventually("the support ticket form", || async {
        (h.count("form").await >= 2).then_some(())
    })
    .await;
    found.extend(violations(h, "the support ticket form").await);

    click(h, support::pages::widget::RATE).await;
    h.wait_css(support::pages::widget::RATE_PANEL).await;
    found.extend(violations(h, "the rating panel").await);

    click(h, "[data-testid=delete]").await;
    h.wait_css("[data-testid=delete-panel]").await;
    found.extend(violations(h, "the deletion panel").await);
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_nothing_in_the_markers_and_livechat() {
    let h = Harness::start_full(|_| {}, |_| {}, allowed_storage()).await;
    h.open_chat_page().await;
    let found = marker_and_livechat_states(&h).await;
    assert_none(&found);
    h.finish().await;
}

/// The image upload and hand-over markers, then livechat waiting, active (the agent typing and
/// writing) and the rating asked for once the agent ends it.
async fn marker_and_livechat_states(h: &Harness) -> Vec<String> {
    use dgbot_protocol::Part;
    use dgbot_server::core::ConversationKey;
    const AGENT: &str = "agent-alice";
    h.ask("Here is a photo of the damage").await;
    h.wait_css("[data-part=request_image_upload]").await;
    let mut found = violations(h, "the image upload marker").await;

    h.ask("Can I talk to a person?").await;
    h.wait_css(support::pages::widget::HANDOVER).await;
    found.extend(violations(h, "the hand-over marker").await);
    let handover = h
        .js(
            "const b = document.querySelectorAll('[data-testid=handover]'); return b.length;",
            vec![],
        )
        .await;
    assert!(handover.as_u64().unwrap_or(0) >= 1);
    h.js(
        "document.querySelectorAll('[data-testid=handover]')[0].click()",
        vec![],
    )
    .await;
    h.wait_css("[data-testid=livechat-status][data-status=waiting]")
        .await;
    found.extend(violations(h, "livechat waiting").await);

    let visitor = h
        .js(
            "return localStorage.getItem('dgbot_visitor_demo-shop')",
            vec![],
        )
        .await;
    let key = ConversationKey::new("demo-shop", visitor.as_str().expect("the visitor id"));
    let session = h
        .eventually("the livechat session", || async {
            h.state.store.latest_session(&key).unwrap()
        })
        .await;
    h.state.core.agent_typing(&session, AGENT, true).unwrap();
    h.wait_css(support::pages::widget::AGENT_TYPING).await;
    h.state
        .core
        .agent_message(
            &session,
            AGENT,
            vec![Part::text("Hi, I'm Alice. How can I help?")],
        )
        .unwrap();
    h.wait_css("[data-testid=livechat-status][data-status=active]")
        .await;
    h.wait_css(support::pages::widget::AGENT_MESSAGE).await;
    found.extend(violations(h, "livechat active").await);

    let session = h.state.store.latest_session(&key).unwrap().unwrap();
    h.state
        .core
        .agent_close(&session, AGENT, Some("Resolved".into()))
        .unwrap();
    h.wait_css(support::pages::widget::LIVECHAT_FEEDBACK).await;
    found.extend(violations(h, "livechat feedback").await);
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_nothing_while_an_answer_streams_nor_after_it_fails() {
    use dgbot_protocol::message::{Block, RichText, Span};
    use dgbot_protocol::stream::rich_text_deltas;
    use dgbot_protocol::{StreamErrorEvent, StreamEvent};
    use dgbot_server::{ScriptedEvent, ScriptedReply};
    let sse = |ev: StreamEvent| ScriptedEvent::Sse(ev.name().to_owned(), ev.data());
    let h = Harness::start_with(|config| {
        let part = RichText {
            part_id: "story_1".into(),
            blocks: vec![Block::paragraph(
                (0..200).map(|i| Span::text(format!("word{i} "))).collect(),
            )],
        };
        let mut events = vec![sse(StreamEvent::status("processing"))];
        events.extend(
            rich_text_deltas(&part)
                .into_iter()
                .map(|d| sse(StreamEvent::delta(&part.part_id, d))),
        );
        events.push(sse(StreamEvent::Error(StreamErrorEvent {
            code: dgbot_protocol::stream::StreamErrorCode::GenerationFailed,
            message: "Failed to generate a response. Please try again.".into(),
            retryable: true,
        })));
        config.stream_delay = std::time::Duration::from_millis(30);
        config.scripted_replies = vec![ScriptedReply {
            trigger: "Tell me a long story".into(),
            events,
        }];
    })
    .await;
    h.open_chat_page().await;
    h.ask("Tell me a long story").await;
    h.eventually("the answer streaming", || async {
        let text = h
            .js(
                "const b = document.querySelector('[data-role=assistant]:not(.welcome) .bubble');
                 return b ? b.textContent : ''",
                vec![],
            )
            .await;
        text.as_str()
            .is_some_and(|t| t.contains("word3"))
            .then_some(())
    })
    .await;
    let mut found = violations(&h, "streaming").await;
    h.wait_css(support::pages::widget::RETRY).await;
    found.extend(violations(&h, "an error with Try again").await);
    assert_none(&found);
    h.finish().await;
}
