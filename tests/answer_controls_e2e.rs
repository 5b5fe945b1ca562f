//! Issue 27 in Chromium: every answer is something the visitor can steer. Starter prompts and
//! follow-up chips, "helpful" / "not helpful" with a reason (seen by the server and the host
//! page), copy, ask again and edit (one question in history after a reload), dictation with a
//! faked recognizer, and day headers in a history that spans days. `DGBOT_SHOTS=<dir>` saves
//! screenshots.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use dgbot_protocol::Role;
use dgbot_server::core::ConversationKey;
use fantoccini::Locator;
use serde_json::{Value, json};
use support::Harness;

/// The loader keeps the visitor id in the host page's storage under this key.
const HOST_KEY: &str = "dgbot_demo-shop";

async fn shot(h: &Harness, name: &str) {
    if let Ok(dir) = std::env::var("DGBOT_SHOTS") {
        h.client.enter_parent_frame().await.unwrap();
        let png = h.client.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
        h.enter_chat().await;
    }
}

/// The demo shop with listeners for the feedback events, then the chat opened.
async fn open_shop(h: &Harness) {
    h.client
        .goto(&format!("{}/demo/", h.host_base))
        .await
        .unwrap();
    h.js(
        "window.__events = []; \
         addEventListener('chat_answer_feedback', e => __events.push(['chat_answer_feedback', e.detail])); \
         (window.DGbot ? Promise.resolve() : new Promise(r => addEventListener('load', r))).then(() => \
           DGbot.on('answer_feedback', d => __events.push(['answer_feedback', d])));",
        vec![],
    )
    .await;
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.wait_css(support::pages::widget::WELCOME).await;
}

/// The host page's feedback events so far.
async fn host_events(h: &Harness) -> Vec<Value> {
    h.client.enter_parent_frame().await.unwrap();
    let v = h.js("return window.__events;", vec![]).await;
    h.enter_chat().await;
    v.as_array().cloned().unwrap_or_default()
}

async fn visitor(h: &Harness) -> ConversationKey {
    h.client.enter_parent_frame().await.unwrap();
    let id = h
        .js(
            &format!("return localStorage.getItem('{HOST_KEY}');"),
            vec![],
        )
        .await;
    h.enter_chat().await;
    ConversationKey::new("demo-shop", id.as_str().expect("the visitor id"))
}

async fn press_css(h: &Harness, css: &str) {
    let el = h.wait_css(css).await;
    h.press(&el).await;
}

/// The texts of the log's messages of `role` (`user`, `assistant`).
async fn texts(h: &Harness, role: &str) -> Vec<String> {
    let v = h
        .js(
            &format!(
                "return [...document.querySelectorAll('[data-testid=message][data-role={role}] .bubble')].map(b => b.textContent);"
            ),
            vec![],
        )
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

async fn attr(h: &Harness, css: &str, name: &str) -> Option<String> {
    h.wait_css(css).await.attr(name).await.unwrap()
}

/// Wait until the composer's text is `text`.
async fn composer_reads(h: &Harness, text: &str) {
    h.eventually(&format!("the composer to read {text:?}"), || async {
        let v = h
            .js(
                "return document.querySelector('[data-testid=composer]').value;",
                vec![],
            )
            .await;
        (v.as_str() == Some(text)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_steers_answers_with_chips_votes_copy_ask_again_and_edit() {
    let h = Harness::start().await;
    open_shop(&h).await;

    // Starter prompts (the demo chatbot's English ones) before the first message; one sends.
    let starters = h.wait_css("[data-testid=starters]").await;
    let chips = starters
        .find_all(Locator::Css("[data-testid=chip]"))
        .await
        .unwrap();
    assert_eq!(chips.len(), 3, "three starter prompts");
    assert_eq!(
        chips[0].text().await.unwrap(),
        "How long does shipping take?"
    );
    shot(&h, "starters").await;
    h.press(&chips[0]).await;
    h.sent("How long does shipping take?").await;
    let answer = h.finished_answer().await;
    assert!(answer.to_lowercase().contains("ship"), "{answer}");
    assert_eq!(
        h.count("[data-testid=starters]").await,
        0,
        "gone once asked"
    );

    // The answer's controls, and follow-ups after it that vanish while the visitor writes.
    let actions =
        "[data-testid=message][data-role=assistant]:last-of-type [data-testid=answer-actions]";
    h.wait_css(actions).await;
    let follow_ups = h.wait_css("[data-testid=suggestions]").await;
    let follow_up_count = follow_ups
        .find_all(Locator::Css("[data-testid=chip]"))
        .await
        .unwrap()
        .len();
    assert!((1..=3).contains(&follow_up_count), "{follow_up_count}");
    assert!(
        attr(&h, "[data-testid=when]", "datetime").await.is_some(),
        "each message has its time"
    );
    shot(&h, "answer-controls").await;
    let composer = h.wait_css(support::pages::widget::COMPOSER).await;
    composer.send_keys("and").await.unwrap();
    h.eventually("the follow-ups to hide while typing", || async {
        (h.count("[data-testid=suggestions]").await == 0).then_some(())
    })
    .await;
    h.js(
        "const c = document.querySelector('[data-testid=composer]'); c.value = ''; \
         c.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![],
    )
    .await;
    h.wait_css("[data-testid=suggestions]").await;

    // Helpful: pressed, stored, told to the host page.
    press_css(&h, "[data-testid=helpful]").await;
    h.eventually("the vote to show", || async {
        (attr(&h, "[data-testid=helpful]", "aria-pressed")
            .await
            .as_deref()
            == Some("true"))
        .then_some(())
    })
    .await;
    let key = visitor(&h).await;
    let stored = |value: &'static str, reason: Option<&'static str>| {
        let (h, key) = (&h, key.clone());
        async move {
            h.eventually(
                &format!("the server to keep {value} {reason:?}"),
                || async {
                    let page = h.state.core.history(&key, 50, None).ok()?;
                    let last = page
                        .messages
                        .iter()
                        .rev()
                        .find(|m| m.role == Role::Assistant && m.feedback.is_some())?;
                    let f = last.feedback.clone()?;
                    (f.value.as_str() == value && f.reason.as_deref() == reason).then_some(f)
                },
            )
            .await
        }
    };
    stored("up", None).await;

    // Not helpful: the reasons open, the next step joins the log (the demo's person when
    // livechat is live, else a message form), and the reason with a comment replaces the vote.
    press_css(&h, "[data-testid=not-helpful]").await;
    h.wait_css("[data-testid=why]").await;
    h.wait_css("[data-testid=message] form, [data-testid=message] [data-testid=handover]")
        .await;
    press_css(&h, "[data-testid=reason-incomplete]").await;
    h.wait_css("[data-testid=why-comment]")
        .await
        .send_keys("Which carrier?")
        .await
        .unwrap();
    shot(&h, "not-helpful").await;
    press_css(&h, "[data-testid=why-send]").await;
    let down = stored("down", Some("incomplete")).await;
    assert_eq!(down.reason.as_deref(), Some("incomplete"));
    assert_eq!(down.comment.as_deref(), Some("Which carrier?"));
    assert_eq!(h.count("[data-testid=why]").await, 0, "the reasons close");
    let events = host_events(&h).await;
    let values: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e[0].as_str().unwrap(), e[1]["value"].as_str().unwrap()))
        .collect();
    assert!(
        values.contains(&("chat_answer_feedback", "up"))
            && values.contains(&("answer_feedback", "up"))
            && values.contains(&("chat_answer_feedback", "down")),
        "{events:?}"
    );
    let detailed = events
        .iter()
        .find(|e| e[0] == "chat_answer_feedback" && e[1]["reason"] == "incomplete")
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(detailed[1]["chat_type"], json!("shopping_assistant"));
    assert!(
        detailed[1]["message_id"]
            .as_str()
            .unwrap()
            .starts_with("msg")
    );

    // Copy: the answer's text on the clipboard (the loader's frame allows `clipboard-write`),
    // read back by the host page.
    for origin in [&h.widget_base, &h.host_base] {
        h.cdp(
            "Browser.grantPermissions",
            json!({ "origin": origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"] }),
        )
        .await;
    }
    press_css(&h, "[data-testid=copy]").await;
    h.client.enter_parent_frame().await.unwrap();
    let copied = h
        .eventually("the copied text", || async {
            let v = h
                .client
                .execute_async(
                    "const done = arguments[0]; navigator.clipboard.readText().then(done, () => done(null));",
                    vec![],
                )
                .await
                .ok()?;
            v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
        })
        .await;
    h.enter_chat().await;
    assert!(copied.to_lowercase().contains("ship"), "{copied}");

    // Ask again: a new answer in the old one's place, the question once.
    let before = texts(&h, "assistant").await.len();
    press_css(&h, "[data-testid=ask-again]").await;
    h.eventually("the new answer", || async {
        let busy = h.count("[data-testid=stop]").await;
        let now = texts(&h, "assistant").await.len();
        // The old answer and the next step's form left; one new answer came.
        (busy == 0 && now == before - 1 && h.count("[data-testid=answer-actions]").await == 1)
            .then_some(())
    })
    .await;
    assert_eq!(
        texts(&h, "user").await,
        vec!["How long does shipping take?".to_owned()]
    );

    // Edit the question: it goes into the composer; sending it replaces the question and answer.
    press_css(&h, "[data-testid=edit]").await;
    composer_reads(&h, "How long does shipping take?").await;
    h.wait_css("[data-testid=editing]").await;
    h.js(
        "const c = document.querySelector('[data-testid=composer]'); c.value = ''; \
         c.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![],
    )
    .await;
    h.ask("Do you ship to the USA?").await;
    // The old question and answer gave their place to the new ones (as many answers as before).
    h.eventually("the answer to the edited question", || async {
        let answers = texts(&h, "assistant").await;
        (answers.len() == 1
            && answers[0].contains("USA")
            && h.count("[data-testid=stop]").await == 0)
            .then_some(())
    })
    .await;
    shot(&h, "edited").await;
    assert_eq!(
        texts(&h, "user").await,
        vec!["Do you ship to the USA?".to_owned()]
    );

    // After a reload the history holds the final state only.
    h.client.refresh().await.unwrap();
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.eventually("the history", || async {
        (texts(&h, "user").await == vec!["Do you ship to the USA?".to_owned()]
            && texts(&h, "assistant").await.len() == 1)
            .then_some(())
    })
    .await;
    let page = h.state.core.history(&key, 50, None).unwrap();
    let asked: Vec<_> = page
        .messages
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| m.plain_text())
        .collect();
    assert_eq!(asked, vec!["Do you ship to the USA?"]);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_come_back_with_the_history_and_days_get_headers() {
    let h = Harness::start_with(|c| {
        c.clock = dgbot_server::Clock::manual(
            std::time::SystemTime::now() - Duration::from_secs(3 * 86_400),
        );
    })
    .await;
    open_shop(&h).await;
    h.ask("Can I return something I bought?").await;
    h.finished_answer().await;
    press_css(&h, "[data-testid=helpful]").await;
    let key = visitor(&h).await;
    h.eventually("the vote kept", || async {
        let page = h.state.core.history(&key, 50, None).ok()?;
        page.messages
            .iter()
            .find(|m| m.feedback.is_some())
            .map(|_| ())
    })
    .await;
    // Three days later (today, in the browser's clock), another question.
    h.state
        .core
        .clock()
        .advance(Duration::from_secs(3 * 86_400));
    h.ask("How long does shipping take?").await;
    h.finished_answer().await;

    h.client.refresh().await.unwrap();
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    let days = h
        .eventually("two day headers", || async {
            let v = h
                .js(
                    "return [...document.querySelectorAll('[data-testid=day]')].map(d => d.textContent);",
                    vec![],
                )
                .await;
            let days: Vec<String> = serde_json::from_value(v).ok()?;
            (days.len() == 2).then_some(days)
        })
        .await;
    assert_ne!(days[0], days[1], "{days:?}");
    // The vote came back with the history.
    h.eventually("the restored vote", || async {
        let pressed = h
            .js(
                "return document.querySelectorAll('[data-testid=helpful][aria-pressed=true]').length;",
                vec![],
            )
            .await;
        (pressed == json!(1)).then_some(())
    })
    .await;
    h.js(
        "const log = document.querySelector('[data-testid=log]'); \
         log.dispatchEvent(new WheelEvent('wheel', { deltaY: -500 })); log.scrollTop = 0;",
        vec![],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    shot(&h, "days").await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_microphone_shows_only_with_a_recognizer_and_dictates_into_the_composer() {
    let h = Harness::start().await;
    // No recognizer: no microphone.
    h.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": "delete window.SpeechRecognition; delete window.webkitSpeechRecognition;" }),
    )
    .await;
    h.open_chat_page().await;
    h.wait_css(support::pages::widget::COMPOSER).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(h.count("[data-testid=mic]").await, 0);

    // A faked recognizer that hears a sentence: the microphone fills the composer with it.
    h.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": "window.SpeechRecognition = class { \
            start() { window.__heardLang = this.lang; setTimeout(() => { \
              this.onresult({ results: [[{ transcript: 'do you ship to Norway' }]] }); \
              setTimeout(() => this.onend && this.onend(), 20); }, 20); } \
            stop() {} };" }),
    )
    .await;
    h.open_chat_page().await;
    press_css(&h, "[data-testid=mic]").await;
    composer_reads(&h, "do you ship to Norway").await;
    let lang = h.js("return window.__heardLang;", vec![]).await;
    assert!(
        lang.as_str().is_some_and(|l| l.starts_with("en")),
        "the chat's language: {lang}"
    );
    h.eventually("the microphone to stop", || async {
        (attr(&h, "[data-testid=mic]", "aria-pressed")
            .await
            .as_deref()
            == Some("false"))
        .then_some(())
    })
    .await;
    h.finish().await;
}
