//! Livechat mode end to end: the visitor is handed from the assistant to a person (from the
//! answer's `request_human_agent` marker or the menu), waits while the assistant still answers,
//! talks and sends a file to the agent, reloads, ends the chat or sees the agent end it, and
//! rates it; offline, the chat says why. The agent side is driven through the conversation core
//! (`h.state`), as the agent system's endpoints would; the host page hears the livechat events
//! through `DGbot.on`. Host pages on `localhost`, the widget on `127.0.0.1`, headless Chromium.

mod support;

use dgbot_server::core::store::LivechatStore as _;
use std::time::Duration;

use dgbot_protocol::livechat::{
    AgentContext, ClosedBy, FeedbackStatus, LivechatSettings, LivechatStatus, WorkingHours,
};
use dgbot_protocol::{Message, Part, Role};
use dgbot_server::core::ConversationKey;
use dgbot_server::model::Session;
use dgbot_server::model::livechat::DAYS;
use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::{Value, json};
use support::Harness;

/// The loader keeps the visitor id in the host page's storage under this key.
const HOST_KEY: &str = "dgbot_demo-shop";
const AGENT: &str = "agent-alice";
const ALICE: &str = "Alice from Nordlys";
/// The livechat events the host page can listen to with `DGbot.on`.
const HOST_EVENTS: [&str; 5] = [
    "handoff_offered",
    "livechat_state",
    "agent_joined",
    "agent_message",
    "agent_left",
];
const ASSISTANT: &str = "[data-testid=message][data-role=assistant]";

impl Harness {
    /// Run `body` in the host page (from the chat frame), then go back into the chat.
    async fn in_host(&self, body: &str, args: Vec<Value>) -> Value {
        self.client.enter_parent_frame().await.unwrap();
        let v = self.js(body, args).await;
        self.enter_chat().await;
        v
    }

    /// Record every livechat event the host page hears in `window.__events`.
    async fn listen_on_host(&self) {
        self.in_host(
            "window.__events = []; arguments[0].forEach(function (name) { \
             DGbot.on(name, function (detail) { __events.push({ name: name, detail: detail }); }); });",
            vec![json!(HOST_EVENTS)],
        )
        .await;
    }

    /// Wait until the host page heard `name` with a detail that `ok` accepts; return the detail.
    async fn host_event(&self, name: &str, ok: impl Fn(&Value) -> bool) -> Value {
        self.eventually(&format!("the host event {name}"), || async {
            let all = self
                .in_host(
                    "var name = arguments[0]; return (window.__events || []).filter(function (e) { return e.name === name; });",
                    vec![json!(name)],
                )
                .await;
            all.as_array()?
                .iter()
                .map(|e| e["detail"].clone())
                .find(|d| ok(d))
        })
        .await
    }

    /// This visitor's conversation, by the id the loader keeps on the host page.
    async fn visitor_key(&self) -> ConversationKey {
        let id = self
            .in_host(
                &format!("return localStorage.getItem('{HOST_KEY}');"),
                vec![],
            )
            .await;
        ConversationKey::new(
            "demo-shop",
            id.as_str().expect("the loader keeps the visitor id"),
        )
    }

    /// The visitor's current session, read again (agent calls need it current).
    async fn session(&self, key: &ConversationKey) -> Session {
        self.eventually("the livechat session", || async {
            self.state.store.latest_session(key).unwrap()
        })
        .await
    }

    async fn agent_writes(&self, key: &ConversationKey, text: &str) {
        let session = self.session(key).await;
        self.state
            .core
            .agent_message(&session, AGENT, vec![Part::text(text)])
            .unwrap();
    }

    async fn agent_types(&self, key: &ConversationKey, typing: bool) {
        let session = self.session(key).await;
        self.state
            .core
            .agent_typing(&session, AGENT, typing)
            .unwrap();
    }

    async fn agent_context(&self, key: &ConversationKey) -> AgentContext {
        self.state
            .core
            .agent_context(&self.session(key).await)
            .unwrap()
    }

    /// Wait until the agent's context has a message that `ok` accepts; return the transcript.
    async fn agent_sees(
        &self,
        key: &ConversationKey,
        what: &str,
        ok: impl Fn(&Message) -> bool,
    ) -> Vec<Message> {
        self.eventually(what, || async {
            let transcript = self.agent_context(key).await.transcript;
            transcript.iter().any(&ok).then_some(transcript)
        })
        .await
    }

    /// Wait until `css` is there and its text contains `needle`; return the text.
    async fn text_of(&self, css: &str, needle: &str) -> String {
        self.eventually(&format!("{css} saying {needle:?}"), || async {
            let text = self
                .client
                .find(Locator::Css(css))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            text.contains(needle).then_some(text)
        })
        .await
    }

    /// Wait for the status banner in `status`, its text containing `needle`.
    async fn banner(&self, status: &str, needle: &str) -> String {
        self.text_of(
            &format!("[data-testid=livechat-status][data-status={status}]"),
            needle,
        )
        .await
    }

    async fn click(&self, css: &str) {
        self.wait_css(css).await.click().await.unwrap();
    }

    /// Wait until nothing matches `css`.
    async fn gone(&self, css: &str) {
        self.eventually(&format!("{css} gone"), || async {
            (self.count(css).await == 0).then_some(())
        })
        .await;
    }

    /// The demo page again: a reload, then the chat opened.
    async fn reload_chat(&self) {
        self.goto("/demo/").await;
        self.launcher().await.click().await.unwrap();
        self.enter_chat().await;
    }
}

fn is_user_text(m: &Message, text: &str) -> bool {
    m.role == Role::User && m.plain_text().trim() == text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_is_handed_to_a_person_and_back() {
    let h = Harness::start().await;
    h.open_chat().await;
    h.listen_on_host().await;

    // The assistant offers a person; the host hears the offer.
    h.ask("Can I talk to a person?").await;
    let answer = h.last_answer().await;
    let offered = h.host_event("handoff_offered", |_| true).await;
    assert!(
        offered["message"]
            .as_str()
            .is_some_and(|m| !m.trim().is_empty()),
        "handoff_offered carries the answer's message: {offered}"
    );
    h.press(
        &answer
            .find(Locator::Css(support::pages::widget::HANDOVER))
            .await
            .unwrap(),
    )
    .await;
    h.banner("waiting", "Waiting for a person").await;
    h.host_event("livechat_state", |d| d["status"] == "waiting")
        .await;
    let key = h.visitor_key().await;

    // While waiting, the assistant still answers.
    h.ask("What are your shipping times?").await;
    assert!(h.finished_answer().await.contains("business days"));

    // The agent types, stops, then writes: it shows without a reload.
    h.agent_types(&key, true).await;
    h.text_of(support::pages::widget::AGENT_TYPING, "typing")
        .await;
    h.agent_types(&key, false).await;
    h.gone(support::pages::widget::AGENT_TYPING).await;
    let hello = "Hi, I'm Alice. I can help from here.";
    h.agent_writes(&key, hello).await;
    let agent_message = h
        .text_of(support::pages::widget::AGENT_MESSAGE, hello)
        .await;
    assert!(agent_message.contains(ALICE), "{agent_message:?}");
    h.text_of(
        "[data-testid=message][data-role=agent] [data-testid=author]",
        ALICE,
    )
    .await;
    h.text_of(support::pages::widget::AGENT_NAME, ALICE).await;
    h.banner("active", ALICE).await;
    h.host_event("livechat_state", |d| d["status"] == "active")
        .await;
    h.host_event("agent_joined", |d| d["agent_name"] == ALICE)
        .await;
    h.host_event("agent_message", |d| d["content"] == hello)
        .await;

    // The visitor types (the agent sees it), then writes to the agent, not to the assistant.
    let answers = h.count(ASSISTANT).await;
    let order = "My order number is 1234";
    let composer = h.wait_css(support::pages::widget::COMPOSER).await;
    composer.send_keys(order).await.unwrap();
    h.eventually("the visitor typing, for the agent", || async {
        h.agent_context(&key).await.visitor_typing.then_some(())
    })
    .await;
    composer
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    h.sent(order).await;
    h.agent_sees(&key, "the visitor's message, for the agent", |m| {
        is_user_text(m, order)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        h.count(ASSISTANT).await,
        answers,
        "no answer from the assistant"
    );
    let transcript = h.agent_context(&key).await.transcript;
    let sent = transcript
        .iter()
        .rposition(|m| is_user_text(m, order))
        .unwrap();
    assert!(
        transcript[sent..].iter().all(|m| m.role != Role::Assistant),
        "nothing from the assistant after the visitor's livechat message: {transcript:?}"
    );
    assert_eq!(
        transcript.iter().filter(|m| is_user_text(m, order)).count(),
        1,
        "stored once"
    );

    // A reload brings the chat with Alice back.
    h.reload_chat().await;
    h.banner("active", ALICE).await;
    h.text_of(support::pages::widget::AGENT_MESSAGE, hello)
        .await;
    h.listen_on_host().await;

    // Alice ends it; the visitor rates it.
    let session = h.session(&key).await;
    h.state
        .core
        .agent_close(&session, AGENT, Some("Resolved".into()))
        .unwrap();
    let note = h
        .text_of(support::pages::widget::LIVECHAT_CLOSED, ALICE)
        .await;
    assert!(
        note.contains("ended the chat") && note.contains("Resolved"),
        "{note:?}"
    );
    h.banner("closed", "ended").await;
    h.host_event("agent_left", |_| true).await;
    h.wait_css(support::pages::widget::LIVECHAT_FEEDBACK).await;
    h.click("[data-testid=lc-star-5]").await;
    let comment = "Quick and friendly, thanks!";
    h.wait_css("[data-testid=lc-comment]")
        .await
        .send_keys(comment)
        .await
        .unwrap();
    h.click("[data-testid=lc-send]").await;
    h.wait_css("[data-testid=livechat-feedback-thanks]").await;
    h.gone(support::pages::widget::LIVECHAT_FEEDBACK).await;
    let feedback = h.state.core.livechat_state(&key).unwrap().feedback.unwrap();
    assert_eq!(
        (
            feedback.status,
            feedback.rating,
            feedback.comment.as_deref()
        ),
        (FeedbackStatus::Submitted, Some(5), Some(comment))
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visitor_closes_and_can_attach_a_file() {
    let h = Harness::start().await;
    h.open_chat().await;

    // From the menu: no marker needed.
    h.click(support::pages::widget::TALK_TO_PERSON).await;
    h.banner("waiting", "Waiting for a person").await;
    h.gone(support::pages::widget::TALK_TO_PERSON).await;
    let key = h.visitor_key().await;
    h.agent_writes(&key, "Hello, Alice here. What can I do?")
        .await;
    h.banner("active", ALICE).await;

    // A file and a line of text go to the agent together.
    let receipt =
        std::env::temp_dir().join(format!("dgbot-e2e-receipt-{}.txt", std::process::id()));
    let bytes = b"Order 1234: one Nordlys lamp, 1299 DKK\n";
    std::fs::write(&receipt, bytes).unwrap();
    h.wait_css("[data-testid=livechat-attach]")
        .await
        .send_keys(receipt.to_str().unwrap())
        .await
        .unwrap();
    h.ask("Here is my receipt").await;
    let transcript = h
        .agent_sees(&key, "the visitor's attachment, for the agent", |m| {
            m.role == Role::User && m.plain_text().contains("Here is my receipt")
        })
        .await;
    let message = transcript
        .iter()
        .rfind(|m| m.role == Role::User && m.plain_text().contains("Here is my receipt"))
        .unwrap();
    let attached = message.parts.iter().find_map(|p| match p {
        Part::File(f) => Some((f.attachment_id.clone(), f.size_bytes)),
        Part::Image(i) => Some((i.attachment_id.clone(), i.size_bytes)),
        _ => None,
    });
    let (id, size) = attached.unwrap_or_else(|| panic!("a file part: {message:?}"));
    assert!(id.is_some_and(|id| !id.is_empty()), "{message:?}");
    assert_eq!(
        size,
        Some(bytes.len() as u64),
        "the file's bytes: {message:?}"
    );
    let _ = std::fs::remove_file(&receipt);

    // The visitor ends the chat, after confirming.
    h.click("[data-testid=livechat-close]").await;
    h.click("[data-testid=livechat-close-confirm]").await;
    h.text_of(
        support::pages::widget::LIVECHAT_CLOSED,
        "You ended the chat",
    )
    .await;
    h.banner("closed", "ended").await;
    let session = h.session(&key).await;
    assert_eq!(
        (session.status, session.closed_by),
        (LivechatStatus::Closed, Some(ClosedBy::Visitor))
    );
    // No session open: the menu offers a person again.
    h.wait_css(support::pages::widget::TALK_TO_PERSON).await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_livechat_says_why() {
    let h = Harness::start().await;
    // Open one minute a week, on another day than today (UTC).
    let today = (h.state.core.clock().unix() / 86_400 + 3) % 7; // 1970-01-01 was a Thursday
    let other_day = DAYS[(today as usize + 3) % 7];
    h.state
        .core
        .put_livechat_settings(
            "demo-shop",
            LivechatSettings {
                enabled: true,
                timezone: "UTC".into(),
                working_hours: vec![WorkingHours {
                    day: other_day.into(),
                    start: "09:00".into(),
                    end: "09:01".into(),
                }],
                attachments_enabled: true,
                ..Default::default()
            },
        )
        .unwrap();
    let config = h.state.core.livechat_config("demo-shop").unwrap();
    assert_eq!(
        config.availability_reason.as_deref(),
        Some("outside_working_hours"),
        "the settings make it offline now"
    );

    h.open_chat().await;
    h.ask("Can I talk to a person?").await;
    h.last_answer().await;
    h.text_of("[data-testid=agent-offline]", "opening hours")
        .await;
    assert_eq!(
        h.count(support::pages::widget::HANDOVER).await,
        0,
        "nothing to hand over to"
    );
    assert_eq!(h.count(support::pages::widget::TALK_TO_PERSON).await, 0);
    h.finish().await;
}
