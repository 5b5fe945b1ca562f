//! The visitor keeps their conversation where browsers block third-party storage, and across
//! server restarts: the loader keeps the visitor id in the host page's own storage and hands it
//! to the chat; renewals present it; a message's `Idempotency-Key` keeps a retry from being
//! stored twice. Host pages on `localhost`, the widget on `127.0.0.1` (another site), in
//! headless Chromium with the widget's storage blocked, allowed, or denied everywhere.

mod support;

use dgbot_server::core::store::{ConversationStore as _, LivechatStore as _};
use std::time::Duration;

use dgbot_protocol::Role;
use dgbot_protocol::message::{Block, RichText, Span};
use dgbot_protocol::stream::rich_text_deltas;
use dgbot_protocol::{Part, StreamEvent};
use dgbot_server::core::ConversationKey;
use dgbot_server::store::Database;
use dgbot_server::{ScriptedEvent, ScriptedReply, ServerConfig};
use fantoccini::Locator;
use serde_json::Value;
use support::{Harness, Options, Storage};

const HOST_KEY: &str = "dgbot_demo-shop";
const FRAME_KEY: &str = "dgbot_visitor_demo-shop";

impl Harness {
    /// The loader's copy of the visitor id (host page storage), from the chat frame.
    async fn host_copy(&self) -> Value {
        self.client.enter_parent_frame().await.unwrap();
        let v = self
            .js(
                &format!("return localStorage.getItem('{HOST_KEY}');"),
                vec![],
            )
            .await;
        self.enter_chat().await;
        v
    }

    /// The chat frame's own copy, or `"denied"` where the browser refuses it storage.
    async fn frame_copy(&self) -> Value {
        self.js(
            &format!("try {{ return localStorage.getItem('{FRAME_KEY}'); }} catch (e) {{ return 'denied'; }}"),
            vec![],
        )
        .await
    }

    /// Open another page of the shop and the chat on it, and wait for `n` restored messages.
    async fn reopen(&self, page: &str, n: usize) -> Vec<String> {
        self.goto(page).await;
        self.launcher().await.click().await.unwrap();
        self.enter_chat().await;
        let restored = self
            .eventually("the restored conversation", || async {
                let all = self
                    .client
                    .find_all(Locator::Css(support::pages::widget::MESSAGE))
                    .await
                    .ok()?;
                (all.len() == n).then_some(all)
            })
            .await;
        let mut texts = vec![];
        for m in restored {
            texts.push(m.text().await.unwrap());
        }
        texts
    }
}

/// Every stored message of the demo chatbot, by visitor id.
fn stored(h: &Harness, visitor: &str) -> Vec<dgbot_protocol::Message> {
    h.state
        .store
        .messages(&ConversationKey::new("demo-shop", visitor))
        .unwrap()
}

async fn reload_brings_the_conversation_back(storage: Storage) {
    let h = Harness::start_with_storage(storage).await;
    h.open_chat().await;
    h.ask("What are your shipping times?").await;
    h.finished_answer().await;
    tokio::time::sleep(Duration::from_millis(200)).await; // the reply is stored as its stream ends

    let frame = h.frame_copy().await;
    let host = h.host_copy().await;
    let visitor = host
        .as_str()
        .expect("the loader keeps the visitor id")
        .to_owned();
    match storage {
        Storage::ThirdPartyBlocked => assert_eq!(frame, "denied", "the frame has no storage"),
        _ => assert_eq!(frame, visitor.as_str(), "both copies agree"),
    }
    assert_eq!(
        stored(&h, &visitor).len(),
        2,
        "the conversation is this visitor's"
    );

    for page in ["/demo/", "/demo/api.html"] {
        let texts = h.reopen(page, 2).await;
        assert_eq!(
            texts[0], "What are your shipping times?",
            "{storage:?} {page}"
        );
        assert!(texts[1].contains("business days"));
    }
    // Still one visitor: the next question joins the same conversation.
    h.ask("When are you open?").await;
    h.finished_answer().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(stored(&h, &visitor).len(), 4);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_third_party_storage_blocked_a_reload_and_another_page_bring_the_conversation_back() {
    reload_brings_the_conversation_back(Storage::ThirdPartyBlocked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_storage_allowed_a_reload_and_another_page_bring_the_conversation_back() {
    reload_brings_the_conversation_back(Storage::Allowed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_storage_denied_everywhere_the_chat_still_works() {
    let h = Harness::start_with_storage(Storage::DeniedEverywhere).await;
    h.open_chat().await;
    h.ask("What are your shipping times?").await;
    assert!(h.finished_answer().await.contains("business days"));
    assert_eq!(h.frame_copy().await, "denied");
    // Nothing alarming in the chat: no start-up error, the composer works.
    assert_eq!(h.count("[data-testid=startup-error]").await, 0);
    h.ask("When are you open?").await;
    assert!(h.finished_answer().await.contains("Saturday"));
    h.finish().await;
}

/// A long scripted answer, paced, so the server can be crashed in the middle of it.
fn long_story(config: &mut ServerConfig) {
    let part = RichText {
        part_id: "story_1".into(),
        blocks: vec![Block::paragraph(
            (0..200).map(|i| Span::text(format!("word{i} "))).collect(),
        )],
    };
    let sse = |ev: StreamEvent| ScriptedEvent::Sse(ev.name().to_owned(), ev.data());
    let mut events = vec![sse(StreamEvent::status("processing"))];
    events.extend(
        rich_text_deltas(&part)
            .into_iter()
            .map(|d| sse(StreamEvent::delta(&part.part_id, d))),
    );
    config.stream_delay = Duration::from_millis(30);
    config.scripted_replies = vec![ScriptedReply {
        trigger: "Tell me a long story".into(),
        events,
    }];
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_mid_answer_then_try_again_continues_the_visitor_and_stores_the_question_once()
 {
    let db = std::env::temp_dir().join(format!("dgbot-e2e-restart-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let h = Harness::start_full(
        long_story,
        |_| {},
        Options {
            database: Some(Database::Sqlite(db.clone())),
            ..Default::default()
        },
    )
    .await;
    // Crash mid-answer; the new server signs tokens with another key, so the widget's token is
    // refused and it must renew, presenting its visitor id.
    crash_mid_answer_then_try_again(h, |h| {
        h.restart_server(|c| {
            long_story(c);
            c.token_secret = b"a key the old tokens were not signed with".to_vec();
        })
    })
    .await;
    let _ = std::fs::remove_file(&db);
}

/// Issue 16: two instances on one PostgreSQL database behind one address. The one streaming
/// the answer dies; the load balancer sends the visitor's next request to the other, where
/// "Try again" gets the whole answer, the question stored once, the visitor the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_dies_mid_answer_and_the_other_instance_answers_the_retry() {
    let Some(pg) = support::postgres::Postgres::start() else {
        return;
    };
    let database = Database::Postgres(pg.database("failover_e2e"));
    let h = Harness::start_full(
        long_story,
        |_| {},
        Options {
            database: Some(database),
            ..Default::default()
        },
    )
    .await;
    crash_mid_answer_then_try_again(h, |h| h.crash_and_fail_over(long_story)).await;
}

/// Ask for the long story, `disrupt` the server when part of it shows, press "Try again":
/// the whole answer, the question stored once, the same visitor.
async fn crash_mid_answer_then_try_again(mut h: Harness, disrupt: impl FnOnce(&mut Harness)) {
    h.open_chat().await;
    h.ask("Tell me a long story").await;
    h.eventually("part of the answer", || async {
        let answers = h
            .client
            .find_all(Locator::Css(support::pages::widget::ANSWER))
            .await
            .ok()?;
        answers
            .last()?
            .text()
            .await
            .ok()
            .filter(|t| t.contains("word3"))
    })
    .await;
    let visitor = h.host_copy().await.as_str().unwrap().to_owned();
    disrupt(&mut h);
    let retry = h
        .eventually("the offer to try again", || async {
            h.client
                .find(Locator::Css(support::pages::widget::RETRY))
                .await
                .ok()
        })
        .await;
    retry.click().await.unwrap();
    h.eventually("the new answer in full", || async {
        let answers = h
            .client
            .find_all(Locator::Css(support::pages::widget::ANSWER))
            .await
            .ok()?;
        let last = answers.last()?.text().await.ok()?;
        last.contains("word199").then_some(())
    })
    .await;

    let messages = stored(&h, &visitor);
    let questions = messages
        .iter()
        .filter(|m| m.role == Role::User && m.plain_text() == "Tell me a long story")
        .count();
    assert_eq!(questions, 1, "the question is stored once: {messages:?}");
    assert_eq!(
        h.host_copy().await,
        visitor.as_str(),
        "the same visitor after the renewal"
    );
    assert_eq!(
        h.count(support::pages::widget::VISITOR_MESSAGE).await,
        1,
        "the retry asks the same message again, not a new one"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_my_data_clears_both_copies() {
    let h = Harness::start_with_storage(Storage::Allowed).await;
    h.open_chat().await;
    h.ask("What are your shipping times?").await;
    h.finished_answer().await;
    let before = h.host_copy().await.as_str().unwrap().to_owned();
    assert_eq!(h.frame_copy().await, before.as_str());

    h.delete_my_data().await;
    let (host, frame) = (h.host_copy().await, h.frame_copy().await);
    assert_ne!(
        host,
        before.as_str(),
        "the loader's copy of the old visitor is gone"
    );
    assert_ne!(
        frame,
        before.as_str(),
        "the frame's copy of the old visitor is gone"
    );
    assert!(stored(&h, &before).is_empty());
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_livechat_with_an_agent_survives_a_reload() {
    let h = Harness::start().await;
    h.open_chat().await;
    h.ask("Can I talk to a person?").await;
    let answer = h.last_answer().await;
    h.press(
        &answer
            .find(Locator::Css(support::pages::widget::HANDOVER))
            .await
            .unwrap(),
    )
    .await;
    let visitor = h.host_copy().await.as_str().unwrap().to_owned();
    let key = ConversationKey::new("demo-shop", &visitor);
    let session = h
        .eventually("the waiting session", || async {
            h.state.store.latest_session(&key).ok().flatten()
        })
        .await;
    h.state
        .core
        .agent_message(
            &session,
            "agent-alice",
            vec![Part::text("Hi, I'm Alice. I can help from here.")],
        )
        .unwrap();

    let texts = h.reopen("/demo/", 3).await;
    assert_eq!(
        texts[2], "Alice from Nordlys\nHi, I'm Alice. I can help from here.",
        "the agent's message, under the agent's name"
    );
    assert_eq!(
        h.client
            .find(Locator::Css(
                "[data-testid=message][data-role=agent] [data-testid=author]"
            ))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Alice from Nordlys"
    );
    let state = h.state.core.livechat_state(&key).unwrap();
    assert_eq!(
        serde_json::to_value(state.status).unwrap(),
        "active",
        "the same visitor's session, now with an agent"
    );
    h.finish().await;
}

/// A screenshot of a livechat in progress for a person to look at
/// (`target/screenshots/livechat.png`): waiting, then an agent joined, typing and writing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes a screenshot for review"]
async fn livechat_screenshot() {
    let h = Harness::start().await;
    h.open_chat().await;
    h.ask("Can I talk to a person?").await;
    let handover = h
        .last_answer()
        .await
        .find(Locator::Css(support::pages::widget::HANDOVER))
        .await
        .unwrap();
    h.press(&handover).await;
    let visitor = h.host_copy().await.as_str().unwrap().to_owned();
    let key = ConversationKey::new("demo-shop", &visitor);
    let session = h
        .eventually("the waiting session", || async {
            h.state.store.latest_session(&key).ok().flatten()
        })
        .await;
    h.state
        .core
        .agent_message(
            &session,
            "agent-alice",
            vec![Part::text(
                "Hi, I'm Alice from Nordlys. I can see your order, one moment.",
            )],
        )
        .unwrap();
    h.wait_css(support::pages::widget::AGENT_MESSAGE).await;
    h.ask("Thank you! It is order 1234.").await;
    let session = h.state.store.latest_session(&key).unwrap().unwrap();
    h.state
        .core
        .agent_typing(&session, "agent-alice", true)
        .unwrap();
    h.wait_css(support::pages::widget::AGENT_TYPING).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let dir = support::repo_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    h.client.enter_parent_frame().await.unwrap();
    std::fs::write(
        dir.join("livechat.png"),
        h.client.screenshot().await.unwrap(),
    )
    .unwrap();
    h.finish().await;
}

/// A long conversation comes back a page (50 messages) at a time: the latest on opening, older
/// ones from "Show earlier messages" or by scrolling to the top, in order, each once, with the
/// visitor's place in the log kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_history_comes_back_a_page_at_a_time() {
    let h = Harness::start_with_storage(Storage::Allowed).await;
    h.open_chat().await;
    let visitor = h.host_copy().await.as_str().unwrap().to_owned();
    let key = ConversationKey::new("demo-shop", &visitor);
    for i in 1..=120 {
        let message = dgbot_protocol::Message {
            message_id: format!("msg_history_{i:04}"),
            role: if i % 2 == 1 {
                Role::User
            } else {
                Role::Assistant
            },
            parts: vec![Part::text(format!("History {i}"))],
            created_at: None,
            author: None,
            feedback: None,
        };
        h.state.store.push(&key, &message).unwrap();
    }

    let texts = h.reopen("/demo/", 50).await;
    assert_eq!(texts.first().map(String::as_str), Some("History 71"));
    assert_eq!(texts.last().map(String::as_str), Some("History 120"));

    // The button (pressed by script: WebDriver would scroll up to it, which loads by itself).
    let button = h.wait_css(support::pages::widget::EARLIER).await;
    h.press(&button).await;
    h.eventually("the second page", || async {
        (h.count(support::pages::widget::MESSAGE).await == 100).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        h.count(support::pages::widget::MESSAGE).await,
        100,
        "one page a click"
    );
    let top = h
        .js(
            "return document.querySelector('[data-testid=log]').scrollTop",
            vec![],
        )
        .await;
    assert!(top.as_f64().unwrap() > 200.0, "the place kept: {top}");
    // Scrolling up to the top: the last page, and no more button.
    h.js(
        "document.querySelector('[data-testid=log]').scrollTo(0, 0);",
        vec![],
    )
    .await;
    h.eventually("the whole history", || async {
        (h.count(support::pages::widget::MESSAGE).await == 120
            && h.count(support::pages::widget::EARLIER).await == 0)
            .then_some(())
    })
    .await;
    let all = h
        .client
        .find_all(Locator::Css(support::pages::widget::MESSAGE))
        .await
        .unwrap();
    let mut texts = vec![];
    for m in &all {
        texts.push(m.text().await.unwrap());
    }
    let expected: Vec<String> = (1..=120).map(|i| format!("History {i}")).collect();
    assert_eq!(texts, expected, "every message once, in order");
    h.finish().await;
}
