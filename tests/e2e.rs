//! End to end in headless Chromium: the demo host page, the loader, the iframe app and the
//! server together. Run by `cargo xtask test` after it builds the release widget.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use fantoccini::Locator;
use support::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bubble_opens_the_chat_and_a_question_streams_an_answer() {
    let h = Harness::start().await;
    h.client
        .goto(&format!("{}/demo/", h.host_base))
        .await
        .unwrap();

    let launcher = h.launcher().await;
    assert_eq!(
        launcher.attr("aria-label").await.unwrap().as_deref(),
        Some("Open chat")
    );
    assert!(!h.panel_open().await);
    launcher.click().await.unwrap();
    assert!(h.panel_open().await);
    // The launcher's name says what it does now (it toggles the window).
    assert_eq!(
        h.launcher()
            .await
            .attr("aria-label")
            .await
            .unwrap()
            .as_deref(),
        Some("Close chat")
    );

    h.enter_chat().await;
    let name = h.wait_css("[data-testid=bot-name]").await;
    h.eventually("the config", || async {
        (name.text().await.ok()? == "Nordlys Assistant").then_some(())
    })
    .await;
    let welcome = h
        .wait_css(support::pages::widget::WELCOME)
        .await
        .text()
        .await
        .unwrap();
    assert!(welcome.contains("shipping"), "{welcome}");

    h.ask("What are your shipping times?").await;
    let answer = h.finished_answer().await;
    assert!(
        answer.contains("Standard shipping takes 2–4 business days"),
        "{answer}"
    );
    assert!(
        answer.contains("tracking link"),
        "bullet list rendered: {answer}"
    );

    let user = h
        .client
        .find(Locator::Css(support::pages::widget::VISITOR_MESSAGE))
        .await
        .unwrap();
    assert_eq!(user.text().await.unwrap(), "What are your shipping times?");
    let bold = h
        .client
        .find(Locator::Css("[data-role=assistant] strong"))
        .await
        .unwrap();
    // The quoted section under its heading, in bold (issue 26).
    assert_eq!(bold.text().await.unwrap(), "Shipping and delivery");
    let link = h
        .client
        .find(Locator::Css("[data-role=assistant] a"))
        .await
        .unwrap();
    // Its source: the shop's help page the answer quotes.
    assert_eq!(
        link.attr("href").await.unwrap(),
        Some(format!("{}/demo/help/shipping", h.widget_base))
    );
    assert_eq!(
        link.attr("rel").await.unwrap().as_deref(),
        Some("noopener noreferrer")
    );
    assert_eq!(
        link.attr("target").await.unwrap().as_deref(),
        Some("_blank")
    );
    let log = h.client.find(Locator::Css("[role=log]")).await.unwrap();
    assert_eq!(
        log.attr("aria-busy").await.unwrap().as_deref(),
        Some("false")
    );

    // Escape inside the chat closes the window; the launcher opens it again.
    h.client
        .find(Locator::Css(support::pages::widget::COMPOSER))
        .await
        .unwrap()
        .send_keys(&char::from(fantoccini::key::Key::Escape).to_string())
        .await
        .unwrap();
    h.client.enter_parent_frame().await.unwrap();
    h.eventually("Escape to close the window", || async {
        (!h.panel_open().await).then_some(())
    })
    .await;
    h.launcher().await.click().await.unwrap();
    assert!(h.panel_open().await);
    h.enter_chat().await;
    assert_eq!(
        h.client
            .find_all(Locator::Css(support::pages::widget::MESSAGE))
            .await
            .unwrap()
            .len(),
        2,
        "reopening keeps the conversation"
    );

    // The close button in the chat header closes the window on the host page.
    h.client
        .find(Locator::Css("[data-testid=close]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    h.client.enter_parent_frame().await.unwrap();
    h.eventually("the window to close", || async {
        (!h.panel_open().await).then_some(())
    })
    .await;
    assert_eq!(
        h.launcher()
            .await
            .attr("aria-label")
            .await
            .unwrap()
            .as_deref(),
        Some("Open chat")
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_message_stays_in_the_log_marked_unsent() {
    let h = Harness::start().await;
    h.client
        .goto(&format!("{}/demo/", h.host_base))
        .await
        .unwrap();
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.wait_css(support::pages::widget::WELCOME).await;

    // Over the server's 4,000-character limit: a 422 with a field error, before any stream.
    let long = "a".repeat(4100);
    let composer = h.wait_css(support::pages::widget::COMPOSER).await;
    h.client
        .execute(
            "const t = arguments[0]; t.value = arguments[1]; t.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![serde_json::to_value(&composer).unwrap(), long.clone().into()],
        )
        .await
        .unwrap();
    composer
        .send_keys(&char::from(fantoccini::key::Key::Enter).to_string())
        .await
        .unwrap();

    let unsent = h.wait_css(support::pages::widget::UNSENT).await;
    let why = unsent.text().await.unwrap();
    assert!(why.contains("Not sent"), "{why}");
    let user = h
        .client
        .find(Locator::Css(support::pages::widget::VISITOR_MESSAGE))
        .await
        .unwrap();
    assert!(
        user.text()
            .await
            .unwrap()
            .trim_end_matches(|c: char| !c.is_alphabetic())
            .len()
            >= 4100
    );
    assert!(
        h.client
            .find_all(Locator::Css("[data-role=assistant]:not(.welcome)"))
            .await
            .unwrap()
            .is_empty()
    );

    // The chat keeps working afterwards.
    h.ask("When are you open?").await;
    assert!(h.finished_answer().await.contains("Saturday"));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_script_tag_does_not_make_a_second_widget() {
    let h = Harness::start().await;
    h.client
        .goto(&format!("{}/demo/", h.host_base))
        .await
        .unwrap();
    h.launcher().await;
    h.client
        .execute(
            "const s = document.createElement('script'); s.src = arguments[0]; s.dataset.chatbotId = 'demo-shop'; document.body.appendChild(s);",
            vec![format!("{}/widget.js", h.widget_base).into()],
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        h.client
            .find_all(Locator::Id("dgbot-root"))
            .await
            .unwrap()
            .len(),
        1
    );
    h.finish().await;
}

/// Retakes docs/screenshot.png for the README: `cargo xtask screenshot`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes docs/screenshot.png; run with cargo xtask screenshot"]
async fn readme_screenshot() {
    let h = Harness::start().await;
    h.client.set_window_size(1280, 900).await.unwrap();
    h.client
        .goto(&format!("{}/demo/", h.host_base))
        .await
        .unwrap();
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.wait_css(support::pages::widget::WELCOME).await;
    h.ask("What are your shipping times?").await;
    h.finished_answer().await;
    h.client.enter_parent_frame().await.unwrap();
    let png = h.client.screenshot().await.unwrap();
    std::fs::write(support::repo_root().join("docs/screenshot.png"), png).unwrap();
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conversation_comes_back_after_a_reload_and_on_another_page() {
    let h = Harness::start().await;
    h.open_chat().await;
    h.ask("Can I book a demo?").await; // a custom marker: must not reach the host page again on reload
    h.finished_answer().await;
    h.ask("What are your shipping times?").await;
    h.finished_answer().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await; // the server stores a reply as its stream ends

    for page in ["/demo/", "/demo/?product=aurora"] {
        h.client
            .goto(&format!("{}{page}", h.host_base))
            .await
            .unwrap();
        h.client
            .execute(
                "window.__custom = 0; addEventListener('chat_custom', () => window.__custom++);",
                vec![],
            )
            .await
            .unwrap();
        h.launcher().await.click().await.unwrap();
        h.enter_chat().await;
        let restored = h
            .eventually("the restored conversation", || async {
                let all = h
                    .client
                    .find_all(Locator::Css(support::pages::widget::MESSAGE))
                    .await
                    .ok()?;
                (all.len() == 4).then_some(all)
            })
            .await;
        assert_eq!(restored[0].text().await.unwrap(), "Can I book a demo?");
        assert!(restored[3].text().await.unwrap().contains("business days"));
        h.client.enter_parent_frame().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            h.client
                .execute("return window.__custom", vec![])
                .await
                .unwrap(),
            0,
            "restored markers do not fire again"
        );
    }
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visitor_can_rate_the_chat_and_delete_their_data() {
    let h = Harness::start().await;
    h.open_chat().await;
    h.ask("What are your shipping times?").await;
    h.finished_answer().await;

    h.client
        .find(Locator::Css(support::pages::widget::RATE))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let send = h.wait_css("[data-testid=rate-send]").await;
    assert_eq!(
        send.prop("disabled").await.unwrap().as_deref(),
        Some("true"),
        "a rating must be chosen first"
    );
    h.client
        .find(Locator::Css("[data-testid=star-4]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    h.client
        .find(Locator::Css("[data-testid=rate-feedback]"))
        .await
        .unwrap()
        .send_keys("Quick and helpful")
        .await
        .unwrap();
    send.click().await.unwrap();
    let status = h
        .client
        .find(Locator::Css("[data-testid=tool-status]"))
        .await
        .unwrap();
    h.eventually("the thank-you", || async {
        status
            .text()
            .await
            .ok()?
            .contains("Thank you")
            .then_some(())
    })
    .await;
    assert_eq!(h.count(support::pages::widget::RATE_PANEL).await, 0);

    h.delete_my_data().await;
    assert_eq!(
        h.count(support::pages::widget::MESSAGE).await,
        0,
        "the log starts fresh"
    );

    // A reload brings nothing back, and the chat works for the new visitor.
    h.client
        .goto(&format!("{}/demo/", h.host_base))
        .await
        .unwrap();
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.wait_css(support::pages::widget::WELCOME).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(h.count(support::pages::widget::MESSAGE).await, 0);
    h.ask("When are you open?").await;
    assert!(h.finished_answer().await.contains("Saturday"));
    h.finish().await;
}

/// Seed 002's `429 rate_limited`: the widget waits as long as `Retry-After` says, tells the
/// visitor, and sends again; the message is delivered and answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_message_waits_and_goes_out() {
    let h = Harness::start_custom(
        |_| {},
        |bot| {
            bot.rate_limit = dgbot_server::config::RateLimit {
                messages: 1,
                per_seconds: 3,
            }
        },
    )
    .await;
    h.open_chat().await;
    h.ask("What are your opening hours?").await;
    h.finished_answer().await;
    h.ask("Can I pay with MobilePay?").await;
    let busy = h
        .wait_css(support::pages::widget::UNSENT)
        .await
        .text()
        .await
        .unwrap();
    assert!(busy.contains("The chat is busy; trying again in"), "{busy}");
    let answer = h.finished_answer().await;
    assert!(answer.contains("MobilePay"), "{answer}");
    assert_eq!(
        h.count(support::pages::widget::UNSENT).await,
        0,
        "delivered in the end"
    );
    h.finish().await;
}
