//! The agent console (`/agent/`, `server/agent/`) end to end, in headless Chromium: a visitor in
//! the widget asks for a person and is handed over; an agent in the console (another browser
//! window of the same session) signs in with the chatbot API key, picks a profile, sees the
//! waiting chat appear with the title badge, reads the transcript, types and replies (with a
//! file), sees the visitor type and write, and ends the chat with a reason. A second agent who
//! opens the same chat is told who has it and cannot write. Everything the console does goes
//! through the public livechat API; the widget on the shop page (`localhost`) is the real one.
//!
//! `DGBOT_CONSOLE_SHOTS=<dir>` saves screenshots of the console along the way.

mod support;

use dgbot_server::core::store::{ConversationStore as _, LivechatStore as _};
use std::time::Duration;

use dgbot_protocol::Part;
use dgbot_protocol::livechat::{HandoverRequest, LivechatStatus};
use dgbot_server::core::ConversationKey;
use fantoccini::Locator;
use fantoccini::key::Key;
use fantoccini::wd::WindowHandle;
use serde_json::json;
use support::{Harness, Options, Storage};

const KEY: &str = "demo-secret-key";
const ALICE: &str = "Alice from Nordlys";
const QUESTION: &str = "Can I talk to a person?";

/// Wait until `css` is there and its text contains `needle`; return the text.
async fn text_of(h: &Harness, css: &str, needle: &str) -> String {
    h.eventually(&format!("{css} saying {needle:?}"), || async {
        let els = h.client.find_all(Locator::Css(css)).await.ok()?;
        for e in els {
            let text = e.text().await.ok()?;
            if text.contains(needle) {
                return Some(text);
            }
        }
        None
    })
    .await
}

/// Wait until `css` matches an element that is displayed.
async fn visible(h: &Harness, css: &str) {
    h.eventually(&format!("{css} shown"), || async {
        let e = h.client.find(Locator::Css(css)).await.ok()?;
        e.is_displayed().await.ok()?.then_some(())
    })
    .await;
}

/// Wait until nothing matching `css` is displayed.
async fn hidden(h: &Harness, css: &str) {
    h.eventually(&format!("{css} hidden"), || async {
        let els = h.client.find_all(Locator::Css(css)).await.ok()?;
        for e in els {
            if e.is_displayed().await.ok()? {
                return None;
            }
        }
        Some(())
    })
    .await;
}

async fn title_is(h: &Harness, want: &str) {
    h.eventually(&format!("the title {want:?}"), || async {
        (h.client.title().await.ok()? == want).then_some(())
    })
    .await;
}

async fn to(h: &Harness, window: &WindowHandle) {
    h.client.switch_to_window(window.clone()).await.unwrap();
}

async fn fill(h: &Harness, css: &str, text: &str) {
    let field = h.wait_css(css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn click(h: &Harness, css: &str) {
    h.wait_css(css).await.click().await.unwrap();
}

async fn shot(h: &Harness, name: &str) {
    if let Ok(dir) = std::env::var("DGBOT_CONSOLE_SHOTS") {
        // A laptop's viewport, whatever size the new window got.
        h.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = h.client.screenshot().await.unwrap();
        h.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

/// A new browser window with the console, signed in as `agent_id`.
async fn console_window(h: &Harness, agent_id: &str, name: &str) -> WindowHandle {
    let window = h.client.new_window(false).await.unwrap().handle;
    to(h, &window).await;
    h.client.set_window_size(1280, 800).await.unwrap();
    h.client
        .goto(&format!("{}/agent/", h.widget_base))
        .await
        .unwrap();
    title_is(h, "dgbot console").await;
    // A wrong key is refused, in words.
    fill(h, support::pages::console::API_KEY, "not-the-key").await;
    click(h, support::pages::console::SIGNIN_SUBMIT).await;
    text_of(h, support::pages::console::SIGNIN_ERROR, "not known").await;
    fill(h, support::pages::console::API_KEY, KEY).await;
    if agent_id == "agent-alice" {
        shot(h, "1-sign-in").await;
    }
    click(h, support::pages::console::SIGNIN_SUBMIT).await;
    visible(h, "[data-testid=profile]").await;
    fill(h, support::pages::console::AGENT_ID, agent_id).await;
    fill(h, "[data-testid=agent-name]", name).await;
    if agent_id == "agent-bob" {
        // Alice's profile was used in this browser: offered as a quick pick.
        text_of(h, "[data-testid=recent-profile]", ALICE).await;
        shot(h, "1b-profile").await;
    }
    click(h, support::pages::console::PROFILE_SUBMIT).await;
    text_of(h, support::pages::console::ME_NAME, name).await;
    // The key is in this tab's session storage, never in the address.
    let (url, stored) = (
        h.client.current_url().await.unwrap(),
        h.js(
            "return sessionStorage.getItem('dgbot-console-key');",
            vec![],
        )
        .await,
    );
    assert!(!url.as_str().contains(KEY), "{url}");
    assert_eq!(stored, json!(KEY));
    window
}

/// The queue row of the (only) session in `status`.
async fn row(h: &Harness, status: &str) -> String {
    let css = format!("[data-testid=session][data-status={status}]");
    let el = h.wait_css(&css).await;
    el.attr("data-session-id").await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answers_a_visitor_from_the_console() {
    // Every page has storage: the console keeps its sign-in in session storage.
    let h = Harness::start_full(
        |_| {},
        |_| {},
        Options {
            storage: Storage::Allowed,
            ..Default::default()
        },
    )
    .await;
    let visitor = h.client.window().await.unwrap();

    // Alice's console is open before anyone asks: the queue is empty.
    let alice = console_window(&h, "agent-alice", ALICE).await;
    visible(&h, "#empty-waiting").await;
    // She turns on the sound (a click: the browser lets the page play it and ask about
    // notifications).
    click(&h, support::pages::console::ALERTS).await;
    assert_eq!(
        h.wait_css(support::pages::console::ALERTS)
            .await
            .attr("aria-pressed")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    title_is(&h, "dgbot console").await;

    // The page is served with a strict policy and has nothing inline.
    let csp = h
        .js(
            "return fetch('/agent/').then(function (r) { return r.headers.get('content-security-policy'); });",
            vec![],
        )
        .await;
    let csp = csp.as_str().unwrap_or_default().to_owned();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("style-src 'self'")
            && !csp.contains("unsafe"),
        "{csp}"
    );
    let page = std::fs::read_to_string(support::repo_root().join("server/agent/index.html"))
        .unwrap()
        .to_ascii_lowercase();
    assert!(!page.contains("style="), "no inline style");
    assert!(!page.contains("<style"), "no style block");
    assert!(
        !page
            .split("<script")
            .skip(1)
            .any(|s| !s.contains("></script>")),
        "no inline script"
    );
    assert!(
        !page
            .split_whitespace()
            .any(|w| w.starts_with("on") && w.contains("=\"")),
        "no inline handlers"
    );

    // The visitor asks for a person and takes the offer.
    to(&h, &visitor).await;
    h.open_chat().await;
    h.ask("Do you have a floor lamp?").await;
    h.last_answer().await;
    h.client.enter_parent_frame().await.unwrap();
    h.js(
        "DGbot.identify({ user_id: 'customer-1042', name: 'Ada Jensen', email: 'ada@example.com' });",
        vec![],
    )
    .await;
    h.eventually("the visitor's identity stored", || async {
        h.state.store.identities().unwrap().into_iter().next()
    })
    .await;
    h.enter_chat().await;
    h.ask(QUESTION).await;
    let answer = h.last_answer().await;
    h.press(
        &answer
            .find(Locator::Css(support::pages::widget::HANDOVER))
            .await
            .unwrap(),
    )
    .await;
    text_of(
        &h,
        "[data-testid=livechat-status][data-status=waiting]",
        "Waiting for a person",
    )
    .await;

    // The console hears it without a reload: a waiting row, its preview, the badge.
    to(&h, &alice).await;
    let id = row(&h, "waiting").await;
    let waiting = format!("[data-testid=session][data-session-id='{id}']");
    text_of(&h, &format!("{waiting} [data-testid=preview]"), QUESTION).await;
    text_of(&h, &format!("{waiting} [data-testid=waited]"), "waiting").await;
    title_is(&h, "(1) dgbot console").await;
    text_of(&h, support::pages::console::TURN_COUNT, "1").await;
    h.eventually("the new chat announced", || async {
        let said = h
            .js(
                "return document.querySelector('[data-testid=announcer]').textContent;",
                vec![],
            )
            .await;
        said.as_str()?.contains("New chat waiting").then_some(())
    })
    .await;

    // Bob's console: he opens the same chat while it still waits.
    let bob = console_window(&h, "agent-bob", "Bob from Nordlys").await;
    h.wait_css(&waiting).await.click().await.unwrap();
    text_of(&h, support::pages::console::SESSION_STATUS, "Waiting").await;
    text_of(
        &h,
        "[data-testid=composer-note]",
        "your first keystroke or message takes the chat",
    )
    .await;
    // His console stops hearing about the chat for a while (a slow network), so it cannot know
    // that Alice takes it before he writes.
    h.cdp("Network.enable", json!({})).await;
    h.cdp(
        "Network.setBlockedURLs",
        json!({ "urls": ["*/livechat/agent/context*"] }),
    )
    .await;

    // Alice opens it: the transcript, as text.
    to(&h, &alice).await;
    h.wait_css(&waiting).await.click().await.unwrap();
    let log = "[data-testid=transcript]";
    text_of(
        &h,
        &format!("{log} [data-testid=message][data-role=user]"),
        QUESTION,
    )
    .await;
    text_of(
        &h,
        &format!("{log} [data-testid=message][data-role=assistant]"),
        "Assistant",
    )
    .await;
    text_of(
        &h,
        &format!("{log} [data-marker=handover]"),
        "Offered a hand-over",
    )
    .await;
    let transcript = h.wait_css(log).await.text().await.unwrap();
    assert!(
        !transcript.contains("\"type\"") && !transcript.contains("rich_text"),
        "rendered, not JSON: {transcript}"
    );
    text_of(
        &h,
        &format!("{log} [data-testid=message][data-role=assistant] .product"),
        "Skagen floor lamp",
    )
    .await;
    text_of(&h, support::pages::console::VISITOR_TITLE, "Ada Jensen").await;
    let details = text_of(&h, "[data-testid=visitor-details]", "ada@example.com").await;
    assert!(details.contains("Not verified"), "{details}");
    text_of(&h, &format!("{waiting} .row-name"), "Ada Jensen").await;

    // Alice types: the visitor sees it.
    let reply = h.wait_css(support::pages::console::REPLY).await;
    reply.send_keys("Hi, I'm Alice").await.unwrap();
    to(&h, &visitor).await;
    h.enter_chat().await;
    text_of(&h, "[data-testid=agent-typing]", "typing").await;

    // Alice sends, with a file: the visitor sees both, from Alice.
    to(&h, &alice).await;
    let invoice =
        std::env::temp_dir().join(format!("dgbot-console-invoice-{}.txt", std::process::id()));
    std::fs::write(&invoice, b"Invoice 1234: Aurora pendant lamp, 1299 DKK\n").unwrap();
    h.wait_css("[data-testid=attach]")
        .await
        .send_keys(invoice.to_str().unwrap())
        .await
        .unwrap();
    text_of(
        &h,
        support::pages::console::PENDING_ATTACHMENT,
        "dgbot-console-invoice",
    )
    .await;
    let hello = "Hi, I'm Alice. I can help from here: here is your invoice.";
    let reply = h.wait_css(support::pages::console::REPLY).await;
    reply.clear().await.unwrap();
    reply.send_keys(hello).await.unwrap();
    reply
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    text_of(
        &h,
        &format!("{log} [data-testid=message][data-role=agent]"),
        hello,
    )
    .await;
    text_of(&h, support::pages::console::SESSION_STATUS, "Active").await;
    hidden(&h, support::pages::console::PENDING_ATTACHMENT).await;
    title_is(&h, "dgbot console").await; // the visitor's turn now
    to(&h, &visitor).await;
    h.enter_chat().await;
    let seen = text_of(&h, support::pages::widget::AGENT_MESSAGE, hello).await;
    assert!(seen.contains(ALICE), "{seen:?}");
    text_of(
        &h,
        "[data-testid=message][data-role=agent] [data-part=file]",
        "dgbot-console-invoice",
    )
    .await;
    let _ = std::fs::remove_file(&invoice);

    // The visitor types (the console shows it), then writes (the console shows that).
    let order = "Thanks! Can you change the delivery address on order 1234?";
    let composer = h.wait_css("[data-testid=composer]").await;
    composer.send_keys(order).await.unwrap();
    to(&h, &alice).await;
    visible(&h, support::pages::console::VISITOR_TYPING).await;
    text_of(
        &h,
        support::pages::console::VISITOR_TYPING,
        "Ada Jensen is typing",
    )
    .await;
    shot(&h, "2a-visitor-typing").await;
    to(&h, &visitor).await;
    h.enter_chat().await;
    h.wait_css("[data-testid=composer]")
        .await
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    h.sent(order).await;
    to(&h, &alice).await;
    text_of(
        &h,
        &format!("{log} [data-testid=message][data-role=user]"),
        order,
    )
    .await;
    hidden(&h, support::pages::console::VISITOR_TYPING).await;
    title_is(&h, "(1) dgbot console").await; // the agent's turn again
    text_of(&h, &format!("{waiting} [data-testid=preview]"), order).await;

    // Meanwhile another visitor asks for a person (through the core, as the widget would):
    // the queue and the title count both.
    let other = ConversationKey::new("demo-shop", "v_second_visitor");
    h.state
        .core
        .handover(
            &other,
            HandoverRequest {
                platform: "website".into(),
                source: "manual_button".into(),
                part_id: None,
            },
        )
        .unwrap();
    let question = "Hi! Is the Aurora pendant dimmable?";
    h.state
        .core
        .visitor_livechat_message(&other, vec![Part::text(question)], None)
        .unwrap();
    text_of(
        &h,
        "[data-testid=session][data-status=waiting] [data-testid=preview]",
        question,
    )
    .await;
    title_is(&h, "(2) dgbot console").await;
    text_of(&h, support::pages::console::TURN_COUNT, "2").await;
    shot(&h, "2-hand-over").await;
    if std::env::var("DGBOT_CONSOLE_SHOTS").is_ok() {
        h.js(
            "document.querySelector('[data-testid=transcript]').scrollTop = 0;",
            vec![],
        )
        .await;
        shot(&h, "2b-transcript-top").await;
        h.js("var l = document.querySelector('[data-testid=transcript]'); l.scrollTop = l.scrollHeight;", vec![])
            .await;
    }

    // Bob, who opened it while it waited, starts typing: the server refuses (409 conflict),
    // the console says who has the chat and turns the composer off.
    to(&h, &bob).await;
    h.wait_css(support::pages::console::REPLY)
        .await
        .send_keys("Hi")
        .await
        .unwrap();
    text_of(
        &h,
        support::pages::console::CONFLICT,
        "is handling this chat",
    )
    .await;
    h.cdp("Network.setBlockedURLs", json!({ "urls": [] })).await;
    let conflict = text_of(
        &h,
        support::pages::console::CONFLICT,
        "Alice from Nordlys is handling this chat",
    )
    .await;
    assert!(conflict.contains("not write"), "{conflict}");
    let reply = h.wait_css(support::pages::console::REPLY).await;
    assert!(!reply.is_enabled().await.unwrap(), "Bob's composer is off");
    assert!(
        !h.wait_css("[data-testid=send]")
            .await
            .is_enabled()
            .await
            .unwrap()
    );
    hidden(&h, support::pages::console::CLOSE_CHAT).await;
    text_of(&h, support::pages::console::TRANSCRIPT, order).await;
    shot(&h, "3-conflict").await;

    // Alice ends the chat with a reason: the visitor sees who ended it and why.
    to(&h, &alice).await;
    click(&h, support::pages::console::CLOSE_CHAT).await;
    fill(&h, "[data-testid=close-reason]", "Address changed").await;
    click(&h, "[data-testid=close-confirm]").await;
    text_of(&h, "[data-testid=closed-banner]", "Address changed").await;
    text_of(&h, support::pages::console::SESSION_STATUS, "Closed").await;
    let closed = h.wait_css(support::pages::console::REPLY).await;
    assert!(!closed.is_enabled().await.unwrap(), "nothing to write to");
    row(&h, "closed").await;
    title_is(&h, "(1) dgbot console").await; // the other visitor still waits
    shot(&h, "4-closed").await;
    to(&h, &visitor).await;
    h.enter_chat().await;
    let note = text_of(&h, support::pages::widget::LIVECHAT_CLOSED, ALICE).await;
    assert!(note.contains("Address changed"), "{note:?}");
    let session = h.state.store.session(&id).unwrap().unwrap();
    assert_eq!(session.status, LivechatStatus::Closed);
    assert_eq!(session.agent_id.as_deref(), Some("agent-alice"));

    // The other visitor's chat: what they write is shown as text, never as markup.
    to(&h, &alice).await;
    let markup = "<img src=x onerror=\"document.title='owned'\"> <b>bold?</b>";
    h.state
        .core
        .visitor_livechat_message(&other, vec![Part::text(markup)], None)
        .unwrap();
    let second = row(&h, "waiting").await;
    h.wait_css(&format!(
        "[data-testid=session][data-session-id='{second}']"
    ))
    .await
    .click()
    .await
    .unwrap();
    text_of(
        &h,
        support::pages::console::VISITOR_TITLE,
        "Visitor v_second",
    )
    .await;
    text_of(
        &h,
        &format!("{log} [data-testid=message][data-role=user]"),
        markup,
    )
    .await;
    assert_eq!(
        h.count(&format!(
            "{log} [data-testid=message] img, {log} [data-testid=message] b"
        ))
        .await,
        0
    );
    assert_eq!(
        h.count(&format!("{log} [data-testid=message][data-role=agent]"))
            .await,
        0,
        "nothing of Ada's chat"
    );
    text_of(&h, support::pages::console::SESSION_STATUS, "Waiting").await;

    // A reload of the console keeps the sign-in and the profile (session storage).
    to(&h, &alice).await;
    h.client.refresh().await.unwrap();
    text_of(&h, support::pages::console::ME_NAME, ALICE).await;
    row(&h, "closed").await;
    assert_ne!(h.client.title().await.unwrap(), "owned");
    h.finish().await;
}

/// The visitor of `key` asks for a person, from the chat's button.
fn hand_over(h: &Harness, key: &ConversationKey) {
    h.state
        .core
        .handover(
            key,
            HandoverRequest {
                platform: "website".into(),
                source: "manual_button".into(),
                part_id: None,
            },
        )
        .unwrap();
}

/// On the console's page: sign in with the API key as Alice and open the (only) waiting chat.
async fn open_waiting_chat(h: &Harness) {
    fill(h, support::pages::console::API_KEY, KEY).await;
    click(h, support::pages::console::SIGNIN_SUBMIT).await;
    fill(h, support::pages::console::AGENT_ID, "agent-alice").await;
    fill(h, "[data-testid=agent-name]", ALICE).await;
    click(h, support::pages::console::PROFILE_SUBMIT).await;
    let id = row(h, "waiting").await;
    h.wait_css(&format!("[data-testid=session][data-session-id='{id}']"))
        .await
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_renews_its_session_token_and_needs_no_storage() {
    // The default harness: the console's origin (127.0.0.1) gets no storage at all, so the
    // sign-in lives in the page's memory. The server's clock is manual, to expire tokens.
    let h = Harness::start_with(|c| {
        c.clock = dgbot_server::Clock::manual(std::time::SystemTime::now());
    })
    .await;
    let key = ConversationKey::new("demo-shop", "v_token_renewal");
    hand_over(&h, &key);
    h.state
        .core
        .visitor_livechat_message(&key, vec![Part::text("Is anyone there?")], None)
        .unwrap();

    h.client
        .goto(&format!("{}/agent/", h.widget_base))
        .await
        .unwrap();
    let stored = h
        .js(
            "try { sessionStorage.setItem('x', '1'); return true; } catch (e) { return false; }",
            vec![],
        )
        .await;
    assert_eq!(
        stored,
        json!(false),
        "the harness denies this origin storage"
    );
    open_waiting_chat(&h).await;
    let log = "[data-testid=transcript]";
    text_of(&h, log, "Is anyone there?").await;

    // Two hours later every session token the console holds is expired (they last one hour):
    // the server refuses them (401), the console mints another with the API key and goes on.
    h.state
        .core
        .clock()
        .advance(Duration::from_secs(2 * 60 * 60));
    h.state
        .core
        .visitor_livechat_message(&key, vec![Part::text("Hello?")], None)
        .unwrap();
    text_of(&h, log, "Hello?").await;
    let reply = "Yes! Sorry for the wait.";
    let composer = h.wait_css(support::pages::console::REPLY).await;
    composer.send_keys(reply).await.unwrap();
    composer
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    text_of(
        &h,
        &format!("{log} [data-testid=message][data-role=agent]"),
        reply,
    )
    .await;
    let session = h.state.store.latest_session(&key).unwrap().unwrap();
    let context = h.state.core.agent_context(&session).unwrap();
    assert!(
        context
            .transcript
            .iter()
            .any(|m| m.role == dgbot_protocol::Role::Agent && m.plain_text() == reply),
        "{:?}",
        context.transcript
    );
    assert_eq!(h.count("[data-testid=chat-error]:not([hidden])").await, 0);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_how_the_visitor_rated_each_answer() {
    use dgbot_protocol::api::{AnswerFeedbackRequest, FeedbackValue};
    use dgbot_protocol::{Message, Role};
    // Issue 27: a visitor who found an answer unhelpful, said why, then asked for a person.
    let h = Harness::start().await;
    let key = ConversationKey::new("demo-shop", "v_rated_answers");
    let said = |id: &str, role, text: &str| Message {
        message_id: id.into(),
        role,
        parts: vec![Part::text(text)],
        created_at: None,
        author: None,
        feedback: None,
    };
    h.state
        .store
        .push(
            &key,
            &said("msg_q1", Role::User, "How long does shipping take?"),
        )
        .unwrap();
    h.state
        .store
        .push(
            &key,
            &said("msg_a1", Role::Assistant, "Two to four business days."),
        )
        .unwrap();
    h.state
        .core
        .answer_feedback(
            &key,
            "msg_a1",
            AnswerFeedbackRequest {
                value: FeedbackValue::Down,
                reason: Some("incomplete".into()),
                comment: Some("Which carrier?".into()),
            },
        )
        .unwrap();
    hand_over(&h, &key);

    h.client
        .goto(&format!("{}/agent/", h.widget_base))
        .await
        .unwrap();
    open_waiting_chat(&h).await;
    let vote = text_of(&h, "[data-testid=answer-feedback]", "Which carrier?").await;
    assert!(vote.contains("Which carrier?"), "{vote}");
    let under = h
        .js(
            "const f = document.querySelector('[data-testid=answer-feedback]'); \
             return f.closest('[data-testid=message]').textContent;",
            vec![],
        )
        .await;
    assert!(
        under
            .as_str()
            .unwrap()
            .contains("Two to four business days."),
        "the vote sits under its answer: {under}"
    );
    h.finish().await;
}
