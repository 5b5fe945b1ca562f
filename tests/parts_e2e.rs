//! Issue 3 end to end: every part type streamed from the real server renders in the real
//! widget; markers work; stream errors and killed connections keep the visitor's message.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use dgbot_protocol::message::{Block, ListItem, Part, RichText, Span};
use dgbot_protocol::stream::{PartEvent, rich_text_deltas};
use dgbot_protocol::{Delta, StreamEvent};
use dgbot_server::core::store::LivechatStore as _;
use dgbot_server::{ScriptedEvent, ScriptedReply};
use fantoccini::Locator;
use support::Harness;

fn sse(ev: StreamEvent) -> ScriptedEvent {
    ScriptedEvent::Sse(ev.name().to_owned(), ev.data())
}

/// The start of an answer: status events and the first words of a paragraph.
fn partial_answer(part_id: &str, text: &str) -> Vec<ScriptedEvent> {
    let part = RichText {
        part_id: part_id.into(),
        blocks: vec![Block::paragraph(vec![Span::text(text)])],
    };
    let mut events = vec![
        sse(StreamEvent::status("connected")),
        sse(StreamEvent::status("processing")),
    ];
    events.extend(
        rich_text_deltas(&part)
            .into_iter()
            .map(|d| sse(StreamEvent::delta(part_id, d))),
    );
    events
}

/// What the polite live region says now (it is visually hidden, so its textContent rather
/// than WebDriver's visible text).
async fn announced(h: &Harness) -> serde_json::Value {
    h.js(
        "return document.querySelector('[data-testid=announcer]').textContent",
        vec![],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_part_type_renders_from_the_stream() {
    let h = Harness::start().await;
    h.open_chat().await;

    h.ask("Compare your lamps").await;
    let answer = h.last_answer().await;
    let table = answer
        .find(Locator::Css("[data-part=table]"))
        .await
        .unwrap();
    assert_eq!(table.attr("role").await.unwrap().as_deref(), Some("region"));
    assert_eq!(
        table
            .find_all(Locator::Css("tbody tr"))
            .await
            .unwrap()
            .len(),
        4,
        "the four lamps of the catalogue"
    );
    assert_eq!(
        table
            .find_all(Locator::Css("thead th"))
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        table.css_value("overflow-x").await.unwrap(),
        "auto",
        "tables scroll sideways"
    );

    h.ask("Which lamp do you recommend?").await;
    let answer = h.last_answer().await;
    let cards = answer
        .find_all(Locator::Css(support::pages::widget::PRODUCT))
        .await
        .unwrap();
    assert_eq!(cards.len(), 4, "the catalogue's four lamps, cheapest first");
    let card = cards[2].text().await.unwrap();
    assert!(
        card.contains("Aurora pendant lamp") && card.contains("1,299.00") && card.contains("DKK"),
        "{card}"
    );
    let img = cards[0].find(Locator::Css("img")).await.unwrap();
    assert_eq!(img.attr("loading").await.unwrap().as_deref(), Some("lazy"));

    h.ask("Show me a picture of the Fjord").await;
    let answer = h.last_answer().await;
    let img = answer
        .find(Locator::Css("[data-part=image] img"))
        .await
        .unwrap();
    assert_eq!(
        img.attr("alt").await.unwrap().as_deref(),
        Some("Fjord table lamp")
    );
    assert_eq!(img.attr("loading").await.unwrap().as_deref(), Some("lazy"));
    h.eventually("the image to load", || async {
        let w = h
            .client
            .execute(
                "return arguments[0].naturalWidth",
                vec![serde_json::to_value(&img).unwrap()],
            )
            .await
            .ok()?;
        (w.as_u64()? > 0).then_some(())
    })
    .await;

    h.ask("I need to open a support ticket").await;
    let answer = h.last_answer().await;
    let ticket = answer
        .find(Locator::Css("[data-part=show_support_ticket]"))
        .await
        .unwrap();
    assert!(
        ticket
            .find(Locator::Css("[data-testid=attachments]"))
            .await
            .is_ok()
    );
    assert!(ticket.text().await.unwrap().contains("What happened?"));

    h.ask("Here is a photo of the damage").await;
    let answer = h.last_answer().await;
    assert!(
        answer
            .find(Locator::Css(
                "[data-part=request_image_upload] [data-testid=image-input]"
            ))
            .await
            .is_ok()
    );

    // Livechat is live in the demo: the marker's button hands the visitor over (seed 002's
    // `POST /livechat/handover` with the marker's part_id), and the server has a waiting session.
    h.ask("Can I talk to a person?").await;
    let answer = h.last_answer().await;
    // The live region announces each finished answer once, as text (it is visually hidden, so
    // read its textContent rather than WebDriver's visible text).
    let text = announced(&h).await;
    assert!(text.as_str().unwrap().contains("colleague"), "{text}");

    h.press(
        &answer
            .find(Locator::Css(support::pages::widget::HANDOVER))
            .await
            .unwrap(),
    )
    .await;
    let status = answer
        .find(Locator::Css(
            "[data-part=request_human_agent] [role=status]",
        ))
        .await
        .unwrap();
    h.eventually("the queue note", || async {
        status.text().await.ok().filter(|t| t.contains("queue"))
    })
    .await;
    let waiting = h
        .state
        .store
        .sessions(
            "demo-shop",
            Some(dgbot_protocol::livechat::LivechatStatus::Waiting),
        )
        .unwrap();
    assert_eq!(waiting.len(), 1, "one waiting livechat session");
    assert!(
        waiting[0]
            .part_id
            .as_deref()
            .is_some_and(|p| p.contains("_part_"))
    );

    // Then the live region says, in words, that the visitor waits for a person.
    let text = announced(&h).await;
    assert!(
        text.as_str().unwrap().contains("waiting for a person"),
        "{text}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_form_round_trips_with_field_errors_first() {
    let h = Harness::start().await;
    h.open_chat().await;
    h.ask("Please contact me").await;
    h.last_answer().await;
    let submit = h.wait_css("[data-testid=form-submit]").await;
    submit.click().await.unwrap();
    // Required fields are checked before anything is sent.
    let name = h
        .client
        .find(Locator::Css(
            "[data-part=show_contact_form] input[name=name]",
        ))
        .await
        .unwrap();
    assert_eq!(
        name.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    let errors = h
        .client
        .find(Locator::Css("[data-part=show_contact_form] form"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(errors.contains("Your name is required"), "{errors}");

    name.send_keys("Jane Doe").await.unwrap();
    let email = h
        .client
        .find(Locator::Css(
            "[data-part=show_contact_form] input[name=email]",
        ))
        .await
        .unwrap();
    assert_eq!(email.attr("type").await.unwrap().as_deref(), Some("email"));
    email.send_keys("jane@").await.unwrap();
    submit.click().await.unwrap();
    assert_eq!(
        email.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    email.send_keys("example.com").await.unwrap();
    h.client
        .find(Locator::Css("[data-part=show_contact_form] textarea"))
        .await
        .unwrap()
        .send_keys("I need help with my order")
        .await
        .unwrap();
    submit.click().await.unwrap();
    let success = h
        .eventually("the form to be sent", || async {
            let el = h
                .client
                .find(Locator::Css("[data-testid=form-success]:not([hidden])"))
                .await
                .ok()?;
            let text = el.text().await.ok()?;
            (!text.is_empty()).then_some(text)
        })
        .await;
    assert!(success.contains("get back to you"), "{success}");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_error_and_a_killed_connection_keep_the_visitors_message() {
    let h = Harness::start_with(|config| {
        let mut failing = partial_answer("p1", "Let me check that for");
        failing.push(sse(StreamEvent::Error(dgbot_protocol::StreamErrorEvent {
            code: dgbot_protocol::stream::StreamErrorCode::GenerationFailed,
            message: "Failed to generate a response. Please try again.".into(),
            retryable: true,
        })));
        let mut dropping = partial_answer("p2", "Our opening hours are");
        dropping.push(ScriptedEvent::Drop);
        config.scripted_replies = vec![
            ScriptedReply {
                trigger: "where is my order".into(),
                events: failing,
            },
            ScriptedReply {
                trigger: "when do you open".into(),
                events: dropping,
            },
        ];
    })
    .await;
    h.open_chat().await;
    // The host page hears about both failures through DGbot.on("error").
    h.client.enter_parent_frame().await.unwrap();
    h.js(
        "window.__errors = []; DGbot.on('error', function (d) { __errors.push(d); });",
        vec![],
    )
    .await;
    h.enter_chat().await;

    h.ask("where is my order").await;
    let incomplete = h.wait_css(support::pages::widget::INCOMPLETE).await;
    assert!(
        incomplete
            .text()
            .await
            .unwrap()
            .contains("Failed to generate a response")
    );
    assert!(
        h.client
            .find(Locator::Css(support::pages::widget::RETRY))
            .await
            .is_ok(),
        "retryable: offers retry"
    );
    let answer = h
        .client
        .find(Locator::Css("[data-role=assistant]:not(.welcome) .bubble"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        answer, "Let me check that for",
        "the partial answer is kept"
    );
    let user = h
        .client
        .find(Locator::Css("[data-role=user]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(user, "where is my order");

    h.ask("when do you open").await;
    let dropped = h
        .eventually("the dropped answer to be marked", || async {
            let all = h
                .client
                .find_all(Locator::Css(support::pages::widget::INCOMPLETE))
                .await
                .ok()?;
            (all.len() == 2).then(|| all[1].clone())
        })
        .await;
    assert!(
        dropped.text().await.unwrap().contains("connection dropped"),
        "{:?}",
        dropped.text().await
    );
    assert_eq!(
        h.count("[data-role=user]").await,
        2,
        "both questions stay in the log"
    );
    assert_eq!(h.count(support::pages::widget::UNSENT).await, 0);
    h.client.enter_parent_frame().await.unwrap();
    let errors = h.js("return __errors;", vec![]).await;
    assert_eq!(
        errors[0],
        serde_json::json!({ "code": "generation_failed", "message": "Failed to generate a response. Please try again.", "retryable": true })
    );
    assert_eq!(
        (&errors[1]["code"], &errors[1]["retryable"]),
        (&serde_json::json!("network"), &serde_json::json!(true)),
        "{errors}"
    );
    h.enter_chat().await;

    // The widget keeps working: retry the first question (still scripted to fail) and ask a normal one.
    h.ask("What are your shipping times?").await;
    assert!(h.finished_answer().await.contains("business days"));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_click_navigates_the_host_page_and_custom_reaches_it() {
    let h = Harness::start().await;
    h.open_chat().await;
    h.client.enter_parent_frame().await.unwrap();
    h.client
        .execute("window.__custom = []; addEventListener('chat_custom', e => window.__custom.push(e.detail));", vec![])
        .await
        .unwrap();
    h.enter_chat().await;
    h.ask("Can I book a demo?").await;
    h.last_answer().await;
    h.client.enter_parent_frame().await.unwrap();
    let custom = h
        .eventually("the chat_custom event", || async {
            let v = h
                .client
                .execute("return window.__custom", vec![])
                .await
                .ok()?;
            (v.as_array()?.len() == 1).then_some(v)
        })
        .await;
    assert_eq!(custom[0]["key"], "book_demo");
    assert_eq!(custom[0]["payload"]["calendar"], "showroom");

    // Seed 002: productClick → chat_product_click (kept in localStorage: the page navigates away).
    h.client
        .execute("addEventListener('chat_product_click', e => localStorage.setItem('dgbot_test_click', JSON.stringify(e.detail)));", vec![])
        .await
        .unwrap();
    h.enter_chat().await;
    h.ask("Do you have a wool throw?").await;
    h.last_answer().await;
    h.client
        .find(Locator::Css(support::pages::widget::PRODUCT))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    h.client.enter_parent_frame().await.unwrap();
    let url = h
        .eventually("the host page to navigate", || async {
            let url = h.client.current_url().await.ok()?;
            url.as_str().contains("product=hygge").then_some(url)
        })
        .await;
    assert_eq!(
        url.as_str(),
        format!("{}/demo/?product=hygge", h.widget_base)
    );
    h.goto("/demo/demo.css").await;
    let clicked = h
        .js(
            "return JSON.parse(localStorage.getItem('dgbot_test_click'));",
            vec![],
        )
        .await;
    assert_eq!(
        clicked,
        serde_json::json!({ "chat_type": "shopping_assistant" })
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requested_photo_goes_out_with_the_next_message() {
    let h = Harness::start().await;
    h.open_chat().await;
    h.ask("Here is a photo of the damage").await;
    h.last_answer().await;
    // A 1×1 PNG.
    let png = [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0x0D, 0x49, 0x44,
        0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0, 0x05, 0, 0x01, 0xFF, 0x89,
        0x99, 0x3D, 0x1D, 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    let path = std::env::temp_dir().join(format!("dgbot-damage-{}.png", std::process::id()));
    std::fs::write(&path, png).unwrap();
    let input = h
        .client
        .find(Locator::Css("[data-testid=image-input]"))
        .await
        .unwrap();
    input.send_keys(path.to_str().unwrap()).await.unwrap();
    let chip = h.wait_css("[data-testid=pending-image]").await;
    assert!(chip.text().await.unwrap().contains(".png"));
    h.client
        .find(Locator::Css(support::pages::widget::SEND))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    h.eventually("the answer to the photo", || async {
        let all = h
            .client
            .find_all(Locator::Css(
                "[data-role=assistant] .bubble:not(.streaming)",
            ))
            .await
            .ok()?;
        all.last()?
            .text()
            .await
            .ok()?
            .contains("Thank you for the photo")
            .then_some(())
    })
    .await;
    let users = h
        .client
        .find_all(Locator::Css("[data-role=user]"))
        .await
        .unwrap();
    let sent = users
        .last()
        .unwrap()
        .find(Locator::Css("[data-part=image] img"))
        .await
        .unwrap();
    let src = sent.attr("src").await.unwrap().unwrap();
    assert!(
        src.starts_with("data:image/png;base64,"),
        "the visitor's photo shows in their message: {src}"
    );
    assert_eq!(h.count("[data-testid=pending-image]").await, 0);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_parts_reach_the_dom_as_text_and_the_widget_keeps_working() {
    let hostile = RichText {
        part_id: "h1".into(),
        blocks: vec![
            Block::paragraph(vec![
                Span::text(
                    "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">",
                ),
                Span::link("js", "javascript:window.__pwned=3"),
                Span::link("data", "data:text/html,<script>window.__pwned=4</script>"),
                Span::text("A".repeat(200_000)),
            ]),
            Block::BulletList {
                items: vec![
                    ListItem {
                        spans: vec![Span::bold("<b onclick=alert(1)>x</b>")]
                    };
                    50
                ],
            },
        ],
    };
    let mut events = vec![sse(StreamEvent::status("connected"))];
    events.extend(
        rich_text_deltas(&hostile)
            .into_iter()
            .map(|d| sse(StreamEvent::delta("h1", d))),
    );
    events.push(ScriptedEvent::Sse("part_delta".into(), "{not json".into()));
    events.push(ScriptedEvent::Sse(
        "part_delta".into(),
        r#"{"part_id":"ghost","delta":{"op":"text","text":"x"}}"#.into(),
    ));
    events.push(ScriptedEvent::Sse(
        "part".into(),
        format!("{{\"part\":{}}}", "[".repeat(5000)),
    ));
    events.push(ScriptedEvent::Sse("teleport".into(), "{}".into()));
    events.push(sse(StreamEvent::Part(PartEvent {
        part: Part::Image(dgbot_protocol::message::ImagePart {
            url: Some("javascript:window.__pwned=5".into()),
            ..Default::default()
        }),
    })));
    events.push(sse(StreamEvent::delta(
        "h1",
        Delta::Text {
            text: " end".into(),
        },
    )));
    let h = Harness::start_with(|config| {
        config.scripted_replies = vec![ScriptedReply {
            trigger: "hostile".into(),
            events,
        }];
    })
    .await;
    h.open_chat().await;
    h.ask("hostile").await;
    h.wait_css(support::pages::widget::INCOMPLETE).await; // no `done`: the answer ends cut off
    let answer = h
        .client
        .find(Locator::Css("[data-role=assistant]:not(.welcome)"))
        .await
        .unwrap();
    assert_eq!(
        answer
            .find_all(Locator::Css(
                "script, img[onerror], [onclick], a[href^=javascript], a[href^=data]"
            ))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        answer.find_all(Locator::Css("a")).await.unwrap().len(),
        0,
        "no allowed links in there"
    );
    assert_eq!(answer.find_all(Locator::Css("li")).await.unwrap().len(), 50);
    let text = h
        .client
        .execute(
            "return arguments[0].textContent",
            vec![serde_json::to_value(&answer).unwrap()],
        )
        .await
        .unwrap();
    let text = text.as_str().unwrap();
    assert!(
        text.contains("<script>window.__pwned=1</script>") && text.contains(" end"),
        "shown as text, later events applied"
    );
    // A huge unbroken string is shown capped (MAX_SPAN_BYTES), so it cannot stall the page.
    assert!(
        text.contains(&format!("{}…", "A".repeat(1000))) && !text.contains(&"A".repeat(20_001))
    );
    // (WebDriver's visible-text algorithm is very slow on 200,000 characters: read the placeholder alone.)
    let placeholder = answer
        .find(Locator::Css("[data-part=image]"))
        .await
        .unwrap();
    assert!(
        placeholder
            .text()
            .await
            .unwrap()
            .contains("This image can't be shown.")
    );
    let pwned = h
        .client
        .execute("return window.__pwned === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, serde_json::Value::Bool(true));

    h.ask("What are your shipping times?").await;
    assert!(h.finished_answer().await.contains("business days"));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_keeps_what_arrived_and_an_expired_token_is_renewed() {
    let mut slow = partial_answer("s1", "Once upon a time");
    for _ in 0..400 {
        slow.push(sse(StreamEvent::delta(
            "s1",
            Delta::Text {
                text: " and then".into(),
            },
        )));
    }
    let h = Harness::start_with(|config| {
        config.stream_delay = std::time::Duration::from_millis(20);
        config.token_ttl = std::time::Duration::from_secs(3);
        config.scripted_replies = vec![ScriptedReply {
            trigger: "tell me a long story".into(),
            events: slow,
        }];
    })
    .await;
    h.open_chat().await;
    h.ask("tell me a long story").await;
    let stop = h.wait_css("[data-testid=stop]").await;
    h.eventually("some of the answer", || async {
        let b = h
            .client
            .find(Locator::Css("[data-role=assistant]:not(.welcome) .bubble"))
            .await
            .ok()?;
        b.text().await.ok()?.contains("and then").then_some(())
    })
    .await;
    stop.click().await.unwrap();
    let incomplete = h.wait_css(support::pages::widget::INCOMPLETE).await;
    assert!(incomplete.text().await.unwrap().starts_with("Stopped."));
    assert_eq!(
        h.count(support::pages::widget::RETRY).await,
        0,
        "a stop is not offered as a retry"
    );
    let kept = h
        .client
        .find(Locator::Css("[data-role=assistant]:not(.welcome) .bubble"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(kept.starts_with("Once upon a time and then"), "{kept}");
    assert_eq!(
        h.count(support::pages::widget::SEND).await,
        1,
        "the composer is back"
    );

    // The 3-second visitor token has expired: the widget gets a new one and the message goes out.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    h.ask("What are your shipping times?").await;
    h.eventually("the answer after renewing the token", || async {
        let all = h
            .client
            .find_all(Locator::Css(
                "[data-testid=message][data-role=assistant] .bubble:not(.streaming)",
            ))
            .await
            .ok()?;
        (all.len() == 2 && all[1].text().await.ok()?.contains("business days")).then_some(())
    })
    .await;
    assert_eq!(h.count(support::pages::widget::UNSENT).await, 0);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_indicator_then_follow_the_answer_unless_the_visitor_scrolls_up() {
    let mut slow = vec![sse(StreamEvent::status("connected"))];
    slow.extend((0..30).map(|_| sse(StreamEvent::status("processing")))); // ~0.6 s before the first token
    slow.extend(partial_answer("s1", "Line").into_iter().skip(2));
    for i in 0..900 {
        // ~20 s: still growing whenever the test looks
        if i % 10 == 0 {
            slow.push(sse(StreamEvent::delta(
                "s1",
                Delta::Block {
                    block: Block::paragraph(vec![]),
                },
            )));
            slow.push(sse(StreamEvent::delta(
                "s1",
                Delta::Span {
                    span: Span::text("More"),
                },
            )));
        }
        slow.push(sse(StreamEvent::delta(
            "s1",
            Delta::Text {
                text: " words".into(),
            },
        )));
    }
    let h = Harness::start_with(|config| {
        config.stream_delay = std::time::Duration::from_millis(20);
        config.scripted_replies = vec![ScriptedReply {
            trigger: "long answer please".into(),
            events: slow,
        }];
    })
    .await;
    h.open_chat().await;
    h.ask("long answer please").await;
    h.wait_css("[data-testid=typing]").await;
    let log = h
        .client
        .find(Locator::Css("[data-testid=log]"))
        .await
        .unwrap();
    let log_json = serde_json::to_value(&log).unwrap();
    let metrics = || async {
        let v = h
            .client
            .execute(
                "const l = arguments[0]; return [l.scrollTop, l.scrollHeight, l.clientHeight];",
                vec![log_json.clone()],
            )
            .await
            .unwrap();
        (
            v[0].as_f64().unwrap(),
            v[1].as_f64().unwrap(),
            v[2].as_f64().unwrap(),
        )
    };
    // While the answer grows, the log follows it to the bottom.
    h.eventually("the log to overflow and follow", || async {
        let (top, height, client) = metrics().await;
        (height > client * 1.5 && height - top - client < 60.0).then_some(())
    })
    .await;
    assert_eq!(
        h.count("[data-testid=typing]").await,
        0,
        "the typing indicator goes with the first token"
    );
    // The visitor scrolls up to read (a wheel turned up): the log stays where they put it.
    h.client
        .execute(
            "arguments[0].dispatchEvent(new WheelEvent('wheel', { deltaY: -2000, bubbles: true })); \
             arguments[0].scrollTop = 0; arguments[0].dispatchEvent(new Event('scroll'));",
            vec![log_json.clone()],
        )
        .await
        .unwrap();
    let (_, height_then, _) = metrics().await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let (top, height_now, _) = metrics().await;
    assert!(height_now > height_then, "the answer kept growing");
    assert!(top < 5.0, "no jump back to the bottom: scrollTop {top}");
    // While the visitor reads back, the answer is applied four times a second, not ten
    // (src/logic/answer.rs, `BATCH_AWAY_MS`): count the log's updates over two seconds (mutations less
    // than 25 ms apart are one update: Leptos applies a batch in a few microtasks). A loaded
    // machine only makes timers later, so the bound holds however slow the run.
    let updates = h
        .client
        .execute_async(
            "const [log, done] = arguments; let n = 0, last = 0; \
             const o = new MutationObserver(() => { \
               const t = performance.now(); if (t - last > 25) n++; last = t; }); \
             o.observe(log, { childList: true, subtree: true, characterData: true }); \
             setTimeout(() => { o.disconnect(); done(n); }, 2000);",
            vec![log_json.clone()],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    assert!(
        (1..=12).contains(&updates),
        "the answer grows, at most ~4 updates a second while read back: {updates} in 2 s"
    );
    h.finish().await;
}

/// Tables, products and forms come in lazily loaded chunks (`lazy!`): one that cannot be
/// fetched leaves the answer's text in place and offers "Try again", which loads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_whose_chunk_cannot_load_offers_to_try_again() {
    let h = Harness::start().await;
    // The app top-level, so DevTools' network blocking applies to it.
    h.block_urls(&["*/chat/split_parts-*"]).await;
    h.open_chat_page().await;
    h.ask("Compare your lamps").await;
    let text = h.finished_answer().await;
    assert!(text.contains("Here is how our lamps compare"), "{text}");
    let retry = h.wait_css("[data-testid=chunk-error] button").await;
    assert_eq!(h.count("[data-part=table]").await, 0);

    h.block_urls(&[]).await;
    retry.click().await.unwrap();
    let table = h.wait_css("[data-part=table]").await;
    assert_eq!(
        table
            .find_all(Locator::Css("tbody tr"))
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(h.count("[data-testid=chunk-error]").await, 0);
    h.finish().await;
}

/// Asking and drawing the answer come in the `text` chunk, fetched when the visitor starts
/// typing. When it cannot be fetched the question stays in the log, unsent, and "Send again"
/// asks it once the chunk can load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_whose_chunk_cannot_load_stays_unsent_and_sends_again() {
    let h = Harness::start().await;
    h.block_urls(&["*/chat/split_text-*"]).await;
    h.open_chat_page().await;
    h.ask("What are your shipping times?").await;
    let unsent = h.wait_css(support::pages::widget::UNSENT).await;
    assert!(
        unsent.text().await.unwrap().contains("could not load"),
        "the visitor is told why"
    );
    let user = h.wait_css(support::pages::widget::VISITOR_MESSAGE).await;
    assert!(user.text().await.unwrap().contains("shipping times"));
    assert_eq!(
        h.count(support::pages::widget::ANSWER).await,
        0,
        "no answer"
    );

    h.block_urls(&[]).await;
    h.wait_css("[data-testid=resend]")
        .await
        .click()
        .await
        .unwrap();
    assert!(h.finished_answer().await.contains("business days"));
    assert_eq!(h.count(support::pages::widget::UNSENT).await, 0);
    assert_eq!(
        h.count(support::pages::widget::VISITOR_MESSAGE).await,
        1,
        "asked once"
    );
    h.finish().await;
}

/// The answer is read off the chat's main thread by the stream worker (worker/sse-worker.js):
/// the page itself makes no `POST /messages`. When the worker's script cannot load, the chat
/// reads the stream itself, and the visitor sees no difference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_stream_through_the_worker_or_without_it() {
    let h = Harness::start().await;
    let page_posts = "return performance.getEntriesByType('resource').filter(e => /\\/api\\/v1\\/chat\\/messages$/.test(e.name)).length";
    h.open_chat_page().await;
    h.ask("What are your shipping times?").await;
    assert!(h.finished_answer().await.contains("business days"));
    assert_eq!(h.js(page_posts, vec![]).await, 0, "the worker fetched it");
    let worker_loaded = "return performance.getEntriesByType('resource').some(e => e.name.includes('/chat/sse-worker-'))";
    assert_eq!(h.js(worker_loaded, vec![]).await, true);

    // A worker script that cannot load (a deploy in between, say): the page names one that
    // is not there.
    h.cdp("Page.enable", serde_json::json!({})).await;
    h.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({ "source": "Object.defineProperty(window, '__dgw', { get() { return '/chat/sse-worker-0000000000000000.js'; }, set() {} });" }),
    )
    .await;
    h.open_chat_page().await;
    h.ask("When are you open?").await;
    let answer = h.finished_answer().await;
    assert!(!answer.is_empty());
    assert_eq!(h.js(page_posts, vec![]).await, 1, "read on the main thread");
    h.finish().await;
}

/// The log follows the conversation to its end, question after question, also when a part
/// arrives from a lazily loaded chunk after its answer, and when messages that scrolled out
/// of view shrink to their placeholder size: only the visitor scrolling stops the follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_follows_the_conversation_to_its_end() {
    let h = Harness::start().await;
    h.open_chat().await;
    let at_end = || async {
        let gap = h
            .js(
                "const l = document.querySelector('[data-testid=log]'); return l.scrollHeight - l.scrollTop - l.clientHeight;",
                vec![],
            )
            .await;
        (gap.as_f64()? < 2.0).then_some(())
    };
    for question in [
        "What are your shipping times?",
        "When are you open?",
        "Compare your lamps",
        "Can I talk to a person?",
    ] {
        h.ask(question).await;
        h.last_answer().await;
        h.eventually(&format!("the log at its end after {question:?}"), at_end)
            .await;
    }
    h.wait_css(support::pages::widget::HANDOVER).await;
    h.finish().await;
}

/// Issue 17, narrow screens: on a 320 px and a 390 px phone a table wider than its bubble
/// scrolls sideways in its own region and says so (a shadow at the edge with more beyond it);
/// every cell can be scrolled into view whole and none is cut; short cells keep to one line
/// (the header row is as low as a row can be), and a row is at most two lines high.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_a_wide_table_scrolls_shows_that_it_does_and_cuts_nothing() {
    let h = Harness::start().await;
    for width in [320, 390] {
        h.cdp(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({ "width": width, "height": 740, "deviceScaleFactor": 1, "mobile": true }),
        )
        .await;
        h.open_chat_page().await;
        h.ask("Compare your lamps").await;
        h.finished_answer().await;
        let seen = h
            .js(
                r#"
                const wrap = document.querySelector('[data-part=table]');
                const box = wrap.getBoundingClientRect();
                const shadows = getComputedStyle(wrap).backgroundImage.split('radial-gradient').length - 1;
                const before = wrap.scrollLeft;
                const problems = [];
                for (const cell of wrap.querySelectorAll('th, td')) {
                    cell.scrollIntoView({ block: 'nearest', inline: 'nearest' });
                    const c = cell.getBoundingClientRect();
                    if (c.left < box.left - 1 || c.right > box.right + 1)
                        problems.push('not whole in view: ' + cell.textContent);
                    if (cell.scrollWidth > cell.clientWidth + 1)
                        problems.push('cut: ' + cell.textContent);
                }
                const rows = [...wrap.querySelectorAll('tr')].map(r => r.getBoundingClientRect().height);
                const header = wrap.querySelector('thead tr').getBoundingClientRect().height;
                wrap.scrollLeft = before;
                const msg = wrap.closest('[data-testid=message]');
                const log = getComputedStyle(msg.parentElement);
                const room = msg.parentElement.clientWidth - parseFloat(log.paddingLeft) - parseFloat(log.paddingRight);
                return {
                    // The message takes the room the log gives it (94 %), not its text's width.
                    roomy: msg.getBoundingClientRect().width > 0.9 * room,
                    overflows: wrap.scrollWidth > wrap.clientWidth + 1,
                    inside_viewport: box.left >= 0 && box.right <= innerWidth,
                    shadows, problems,
                    tallest_row: Math.max(...rows), shortest_row: Math.min(...rows), header,
                };
                "#,
                vec![],
            )
            .await;
        assert_eq!(
            seen["overflows"], true,
            "{width} px: the table is wider than its bubble: {seen}"
        );
        assert_eq!(
            seen["roomy"], true,
            "{width} px: the table uses the width: {seen}"
        );
        assert_eq!(
            seen["inside_viewport"], true,
            "{width} px: the region itself fits: {seen}"
        );
        assert_eq!(
            seen["shadows"], 2,
            "{width} px: edge shadows say there is more: {seen}"
        );
        assert_eq!(
            seen["problems"],
            serde_json::json!([]),
            "{width} px: {seen}"
        );
        let (tallest, shortest) = (
            seen["tallest_row"].as_f64().unwrap(),
            seen["shortest_row"].as_f64().unwrap(),
        );
        assert_eq!(
            seen["header"].as_f64().unwrap(),
            shortest,
            "{width} px: headers keep to one line: {seen}"
        );
        assert!(
            tallest < shortest * 1.8,
            "{width} px: no row over two lines: {seen}"
        );
        if let Ok(dir) = std::env::var("DGBOT_SHOTS") {
            let png = h.client.screenshot().await.unwrap();
            std::fs::write(format!("{dir}/table-{width}.png"), png).unwrap();
        }
    }
    h.cdp(
        "Emulation.clearDeviceMetricsOverride",
        serde_json::json!({}),
    )
    .await;
    h.finish().await;
}
