//! Golden-JSON tests: the wire shapes round-trip exactly, and unknown types degrade quietly.

use dgbot_protocol::api::{ApiErrorBody, AuthRequest, SendMessageRequest};
use dgbot_protocol::bridge::{Envelope, FrameAction, HostCommand};
use dgbot_protocol::stream::{DoneEvent, StreamErrorCode};
use dgbot_protocol::*;
use serde_json::{Value, json};

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(golden: Value) -> T {
    let typed: T = serde_json::from_str(&golden.to_string()).expect("decodes");
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        golden,
        "re-encodes identically"
    );
    typed
}

#[test]
fn rich_text_message_round_trips() {
    let m: Message = round_trip(json!({
        "message_id": "msg_1", "role": "assistant",
        "parts": [{ "type": "rich_text", "part_id": "part_1", "blocks": [
            { "type": "paragraph", "spans": [
                { "type": "text", "text": "Standard shipping takes " },
                { "type": "bold", "text": "2–4 business days" },
                { "type": "strike", "text": "5 days" },
                { "type": "link", "text": "details", "url": "https://example.com/shipping" }
            ]},
            { "type": "bullet_list", "items": [
                { "spans": [{ "type": "text", "text": "Denmark" }] },
                { "spans": [{ "type": "text", "text": "Sweden" }] }
            ]}
        ]}]
    }));
    assert_eq!(
        m.plain_text(),
        "Standard shipping takes 2–4 business days5 daysdetails\nDenmark\nSweden"
    );
}

#[test]
fn seed_example_message_round_trips() {
    // Seed 002, "Example: a message with text and an action".
    let m: Message = round_trip(json!({
        "message_id": "msg_123", "role": "assistant",
        "parts": [
            { "type": "rich_text", "part_id": "part_1", "blocks": [
                { "type": "paragraph", "spans": [{ "type": "text", "text": "Need help with your order?" }] } ] },
            { "type": "show_contact_form", "part_id": "part_2", "fields": [
                { "key": "name", "label": "Your name", "required": true },
                { "key": "email", "label": "Email address", "type": "email", "required": true } ] },
            { "type": "rich_text", "part_id": "part_3", "blocks": [
                { "type": "paragraph", "spans": [{ "type": "text", "text": "Fill in the form and we will follow up." }] } ] }
        ]
    }));
    assert_eq!(m.parts.len(), 3);
    let Part::ShowContactForm(form) = &m.parts[1] else {
        panic!("{:?}", m.parts[1])
    };
    assert_eq!(form.fields[1].kind, message::FieldKind::Email);
    assert!(form.fields[0].required);
    assert_eq!(m.parts[0].part_id(), Some("part_1"));
    assert_eq!(m.parts[2].part_id(), Some("part_3"));
}

#[test]
fn unknown_part_block_and_span_types_degrade_quietly() {
    let m: Message = serde_json::from_str(&json!({
        "message_id": "m", "role": "agent", "future_field": 1,
        "parts": [
            { "type": "hologram", "part_id": "x", "depth": 3 },
            { "type": "rich_text", "part_id": "p", "blocks": [
                { "type": "quote", "spans": [] },
                { "type": "paragraph", "spans": [{ "type": "sparkle", "text": "still readable" }] } ] }
        ]
    }).to_string())
    .unwrap();
    assert_eq!(m.parts[0], Part::Unknown);
    let Part::RichText(rt) = &m.parts[1] else {
        panic!()
    };
    assert_eq!(rt.blocks[0], Block::Unknown);
    let Block::Paragraph { spans } = &rt.blocks[1] else {
        panic!()
    };
    assert_eq!(spans[0].kind, SpanKind::Unknown);
    assert_eq!(spans[0].text, "still readable");
}

#[test]
fn stream_events_match_the_seed() {
    let err = StreamEvent::decode(
        "error",
        r#"{"code":"generation_failed","message":"Failed to generate a response. Please try again.","retryable":true}"#,
    )
    .unwrap()
    .unwrap();
    let StreamEvent::Error(e) = &err else {
        panic!()
    };
    assert_eq!(e.code, StreamErrorCode::GenerationFailed);
    assert!(e.retryable);
    assert_eq!(
        err.to_sse(),
        "event: error\ndata: {\"code\":\"generation_failed\",\"message\":\"Failed to generate a response. Please try again.\",\"retryable\":true}\n\n"
    );

    let future = StreamEvent::decode(
        "error",
        r#"{"code":"quota","message":"m","retryable":false}"#,
    )
    .unwrap();
    assert!(matches!(
        future,
        Some(StreamEvent::Error(StreamErrorEvent {
            code: StreamErrorCode::Unknown,
            ..
        }))
    ));
    assert_eq!(
        StreamEvent::decode("heartbeat", "{}").unwrap(),
        None,
        "unknown event names are ignored"
    );
    assert!(
        StreamEvent::decode("part_delta", "{not json").is_err(),
        "malformed data is an error, not a panic"
    );

    let status = StreamEvent::status("connected");
    assert_eq!(
        status.to_sse(),
        "event: status\ndata: {\"status\":\"connected\"}\n\n"
    );
}

#[test]
fn part_delta_golden() {
    let ev = StreamEvent::delta(
        "part_1",
        Delta::Text {
            text: " shipping".into(),
        },
    );
    assert_eq!(
        ev.data(),
        r#"{"part_id":"part_1","delta":{"op":"text","text":" shipping"}}"#
    );
    let start: Value = serde_json::from_str(
        &StreamEvent::delta(
            "p",
            Delta::Start {
                part: Part::RichText(RichText {
                    part_id: "p".into(),
                    blocks: vec![],
                }),
            },
        )
        .data(),
    )
    .unwrap();
    assert_eq!(
        start,
        json!({"part_id":"p","delta":{"op":"start","part":{"type":"rich_text","part_id":"p","blocks":[]}}})
    );
    let unknown = StreamEvent::decode(
        "part_delta",
        r#"{"part_id":"p","delta":{"op":"teleport","x":1}}"#,
    )
    .unwrap()
    .unwrap();
    assert!(matches!(unknown, StreamEvent::PartDelta(d) if d.delta == Delta::Unknown));
    let missing = StreamEvent::decode("part_delta", r#"{"part_id":"p","delta":{"op":"text"}}"#)
        .unwrap()
        .unwrap();
    assert!(
        matches!(missing, StreamEvent::PartDelta(d) if d.delta == Delta::Unknown),
        "an op without its operand is ignored"
    );
    for delta in [
        Delta::Start {
            part: Part::RichText(RichText {
                part_id: "p".into(),
                blocks: vec![],
            }),
        },
        Delta::Block {
            block: Block::BulletList { items: vec![] },
        },
        Delta::Item {
            item: message::ListItem::default(),
        },
        Delta::Span {
            span: Span::link("a", "https://a.dk"),
        },
        Delta::Text { text: "x".into() },
    ] {
        let back: Delta = serde_json::from_str(&serde_json::to_string(&delta).unwrap()).unwrap();
        assert_eq!(back, delta, "every op round-trips");
    }
}

#[test]
fn api_error_envelope_matches_the_seed() {
    let e: ApiError = round_trip(
        json!({ "error": { "code": "validation", "message": "Validation failed",
        "params": [{ "field": "message.parts.0.text", "message": "Text is required" }] } }),
    );
    assert_eq!(e.error.code.status(), 422);
    let e: ApiError =
        round_trip(json!({ "error": { "code": "rate_limited", "message": "Slow down" } }));
    assert_eq!(e.error.code.status(), 429);
    let future: ApiError =
        serde_json::from_value(json!({ "error": { "code": "teapot", "message": "?" } })).unwrap();
    assert_eq!(
        future.error,
        ApiErrorBody {
            code: ApiErrorCode::Unknown,
            message: "?".into(),
            params: None
        }
    );
    for (code, status) in [
        ("unauthorized", 401),
        ("forbidden", 403),
        ("not_found", 404),
        ("internal", 500),
    ] {
        let e: ApiError =
            serde_json::from_value(json!({ "error": { "code": code, "message": "" } })).unwrap();
        assert_eq!(e.error.code.status(), status);
    }
}

#[test]
fn request_bodies_match_the_seed() {
    // The seed's fetchEventSource body, and the seed's curl body for /auth.
    let req: SendMessageRequest = round_trip(json!({
        "message": { "parts": [{ "type": "text", "text": "What is your return policy?" }] },
        "context": { "page": "https://shop.example.com/" }
    }));
    assert_eq!(
        req.message.parts[0],
        Part::text("What is your return policy?")
    );
    let auth: AuthRequest = round_trip(json!({ "chatbot_id": "shop-bot" }));
    assert_eq!(auth.host_origin, None);
    let done: DoneEvent =
        round_trip(json!({ "message": { "message_id": "m", "role": "assistant", "parts": [] } }));
    // A part whose type is known but whose fields are not: an error, not a silent Unknown.
    assert!(serde_json::from_str::<Part>(r#"{"type":"rich_text"}"#).is_err());
    assert!(serde_json::from_str::<Part>(r#"{"no_type":1}"#).is_err());
    assert_eq!(
        serde_json::from_str::<Part>(r#"{"type":"hologram","blocks":"not a list"}"#).unwrap(),
        Part::Unknown
    );
    assert_eq!(done.message.role, Role::Assistant);
}

#[test]
fn a_visitors_message_encodes_each_part_as_part_does() {
    // `InputMessage` has its own encoder (text, image and file only): each part comes out as the
    // derived `Part` encoder writes it, and decodes back to itself.
    let parts = json!([
        { "type": "text", "text": "Here is the crack" },
        { "type": "image", "data": "iVBORw0KGgo=", "mime": "image/png" },
        { "type": "file", "data": "JVBERi0=", "mime": "application/pdf", "filename": "receipt.pdf" }
    ]);
    let req: SendMessageRequest = round_trip(json!({ "message": { "parts": parts } }));
    for (part, golden) in req.message.parts.iter().zip(parts.as_array().unwrap()) {
        assert_eq!(&serde_json::to_value(part).unwrap(), golden);
    }
    // A part a visitor does not send goes out as its type alone.
    let table: Part =
        serde_json::from_value(json!({ "type": "table", "part_id": "t1", "rows": [] })).unwrap();
    let req = SendMessageRequest {
        message: dgbot_protocol::api::InputMessage { parts: vec![table] },
        context: None,
        replaces: None,
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({ "message": { "parts": [{ "type": "table" }] } })
    );
}

#[test]
fn bridge_envelope_keeps_action_at_top_level() {
    let v = serde_json::to_value(Envelope::new(FrameAction::CloseChat)).unwrap();
    assert_eq!(
        v,
        json!({ "source": "dgbot", "v": 1, "action": "closeChat" })
    );
    let v = serde_json::to_value(Envelope::new(FrameAction::Navigate {
        url: "https://a.dk/p".into(),
    }))
    .unwrap();
    assert_eq!(
        v,
        json!({ "source": "dgbot", "v": 1, "action": "navigate", "url": "https://a.dk/p" })
    );
    let v = serde_json::to_value(Envelope::new(FrameAction::ProductRecommendation {
        urls: Some(vec!["https://a.dk/p".into()]),
    }))
    .unwrap();
    assert_eq!(
        v,
        json!({ "source": "dgbot", "v": 1, "action": "productRecommendation", "urls": ["https://a.dk/p"] })
    );
    for (action, name) in [
        (FrameAction::ProductClick, "productClick"),
        (FrameAction::ContactFormShown, "contactFormShown"),
        (FrameAction::AssistantFirstToken, "assistantFirstToken"),
        (FrameAction::ToggleSize, "toggleSize"),
        (FrameAction::ExpandChat, "expandChat"),
        (FrameAction::CollapseChat, "collapseChat"),
        (FrameAction::StreamStart, "stream_start"),
    ] {
        assert_eq!(
            serde_json::to_value(Envelope::new(action)).unwrap()["action"],
            name
        );
    }
    let v = serde_json::to_value(Envelope::new(FrameAction::Custom {
        part_id: "c".into(),
        key: "book_demo".into(),
        payload: Some(json!({"a": 1})),
    }))
    .unwrap();
    assert_eq!(
        v,
        json!({ "source": "dgbot", "v": 1, "action": "custom", "part_id": "c", "key": "book_demo", "payload": {"a": 1} })
    );
}

/// Seed 002's postMessage table: the extra fields keep the seed's spelling.
#[test]
fn frame_actions_carry_the_seed_fields() {
    let v = serde_json::to_value(Envelope::new(FrameAction::FirstMessageSent {
        chatbot_id: "shop".into(),
    }))
    .unwrap();
    assert_eq!(
        v,
        json!({ "source": "dgbot", "v": 1, "action": "firstMessageSent", "chatbotID": "shop" })
    );
    let v = serde_json::to_value(FrameAction::ConversationClassified {
        emne: Some("Order".into()),
    })
    .unwrap();
    assert_eq!(
        v,
        json!({ "action": "conversationClassified", "emne": "Order" })
    );
    let v = serde_json::to_value(FrameAction::ConversationClassified { emne: None }).unwrap();
    assert_eq!(
        v,
        json!({ "action": "conversationClassified", "emne": null })
    );
    let v = serde_json::to_value(FrameAction::PurchaseReported {
        chatbot_id: "shop".into(),
        total_price: 499.5,
        currency: "DKK".into(),
    })
    .unwrap();
    assert_eq!(
        v,
        json!({ "action": "purchaseReported", "chatbotID": "shop", "totalPrice": 499.5, "currency": "DKK" })
    );
    let v = serde_json::to_value(FrameAction::Ready {
        chat_type: Some("shopping_assistant".into()),
    })
    .unwrap();
    assert_eq!(
        v,
        json!({ "action": "ready", "chat_type": "shopping_assistant" })
    );
    let v = serde_json::to_value(FrameAction::StreamChunk {
        content: "Hi".into(),
    })
    .unwrap();
    assert_eq!(v, json!({ "action": "stream_chunk", "content": "Hi" }));
    let v = serde_json::to_value(FrameAction::Message { text: "Hi".into() }).unwrap();
    assert_eq!(v, json!({ "action": "message", "text": "Hi" }));
}

/// Seed 002's "Mapping to CustomEvents" and "Event Detail Payloads", as the loader dispatches them.
#[test]
fn host_messages_carry_the_seed_custom_events() {
    let st = "shopping_assistant";
    let v = FrameAction::AssistantFirstToken.to_host(st, Some(1234));
    assert_eq!(
        v,
        json!({ "source": "dgbot", "v": 1, "action": "assistantFirstToken", "event": "chat_response",
        "detail": { "chat_type": st, "response_latency_ms": 1234 } })
    );
    for (action, event) in [
        (FrameAction::ProductClick, "chat_product_click"),
        (FrameAction::ContactFormShown, "chat_contact_form_shown"),
        (
            FrameAction::ProductRecommendation { urls: None },
            "chat_recommendation",
        ),
    ] {
        let v = action.to_host(st, None);
        assert_eq!(
            (v["event"].as_str(), &v["detail"]),
            (Some(event), &json!({ "chat_type": st }))
        );
    }
    let v = FrameAction::ConversationClassified {
        emne: Some("Order".into()),
    }
    .to_host(st, None);
    assert_eq!(
        (&v["emne"], &v["detail"]),
        (
            &json!("Order"),
            &json!({ "chat_type": st, "classification": "Order" })
        )
    );
    let v = FrameAction::ConversationClassified { emne: None }.to_host(st, None);
    assert_eq!(
        v["detail"],
        json!({ "chat_type": st, "classification": null })
    );
    let v = FrameAction::Custom {
        part_id: "p".into(),
        key: "k".into(),
        payload: None,
    }
    .to_host(st, None);
    assert_eq!(
        (v["event"].as_str(), &v["detail"]),
        (Some("chat_custom"), &json!({ "part_id": "p", "key": "k" }))
    );
    // Actions with no CustomEvent: seed ones are left as the seed has them, ours get `detail`.
    for action in [
        FrameAction::CloseChat,
        FrameAction::ToggleSize,
        FrameAction::FirstMessageSent {
            chatbot_id: "s".into(),
        },
    ] {
        let v = action.to_host(st, None);
        assert!(v.get("event").is_none() && v.get("detail").is_none(), "{v}");
    }
    let v = FrameAction::StreamChunk {
        content: "Hej".into(),
    }
    .to_host(st, None);
    assert_eq!(
        v,
        json!({ "source": "dgbot", "v": 1, "action": "stream_chunk", "content": "Hej", "detail": { "content": "Hej" } })
    );
    assert_eq!(
        FrameAction::StreamStart.to_host(st, None)["detail"],
        json!({})
    );
}

#[test]
fn host_commands_decode_strictly() {
    let cmd = json!({ "source": "dgbot", "v": 1, "action": "sendMessage", "message": "hi", "page": "https://shop.dk/a?b=1" });
    let m = HostCommand::decode(&cmd.to_string()).unwrap();
    assert_eq!(
        m.command,
        HostCommand::SendMessage {
            message: "hi".into()
        }
    );
    assert_eq!(m.page.as_deref(), Some("https://shop.dk/a?b=1"));
    let v = serde_json::to_value(Envelope::new(HostCommand::SendMessage {
        message: "hi".into(),
    }))
    .unwrap();
    assert_eq!(
        v,
        json!({ "source": "dgbot", "v": 1, "action": "sendMessage", "message": "hi" })
    );
    assert_eq!(
        HostCommand::decode(r#"{"source":"dgbot","v":1,"action":"opened"}"#)
            .unwrap()
            .command,
        HostCommand::Opened
    );
    // Seed 002's Option 4, posted by hand without our envelope.
    assert_eq!(
        HostCommand::decode(r#"{"action":"sendMessage","message":"hej"}"#)
            .unwrap()
            .command,
        HostCommand::SendMessage {
            message: "hej".into()
        }
    );
    let m = HostCommand::decode(
        r#"{"action":"identify","user":{"user_id":"u1","email":"a@b.dk","user_hash":"ab"}}"#,
    )
    .unwrap();
    assert!(
        matches!(m.command, HostCommand::Identify { user } if user.user_id == "u1" && user.name.is_none())
    );
    let m =
        HostCommand::decode(r#"{"action":"reportPurchase","totalPrice":12.5,"currency":"EUR"}"#)
            .unwrap();
    assert_eq!(
        m.command,
        HostCommand::ReportPurchase {
            total_price: 12.5,
            currency: "EUR".into()
        }
    );
    assert_eq!(
        HostCommand::decode(r#"{"action":"page","page":"javascript:alert(1)"}"#)
            .unwrap()
            .page,
        None
    );
    for foreign in [
        r#"{"source":"other","v":1,"action":"opened"}"#,
        r#"{"source":"dgbot","v":2,"action":"opened"}"#,
        r#"{"source":"dgbot","v":1,"action":"sendMessage"}"#,
        r#"{"action":"reportPurchase","totalPrice":-1,"currency":"EUR"}"#,
        r#"{"action":"reportPurchase","totalPrice":1,"currency":"euro"}"#,
        r#"{"action":"identify","user":{"name":"no id"}}"#,
        r#"{"source":"dgbot","v":1,"action":"selfDestruct"}"#,
        "null",
        "[1,2]",
        r#"{"message":"no action"}"#,
    ] {
        assert_eq!(HostCommand::decode(foreign), None, "{foreign}");
    }
}

#[test]
fn link_allow_list() {
    for ok in [
        "https://a.dk/x",
        "http://a",
        "mailto:a@b.dk",
        "tel:+4512345678",
        "HTTPS://A.DK",
    ] {
        assert!(message::is_safe_link(ok), "{ok}");
    }
    for bad in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>",
        "vbscript:x",
        "//evil.com",
        "/relative",
        "https:",
        "java\nscript:alert(1)",
        " https://a.dk",
        "https://a.dk/\u{0}",
    ] {
        assert!(!message::is_safe_link(bad), "{bad:?}");
    }
    assert_eq!(Span::link("x", "javascript:alert(1)").safe_url(), None);
}

#[test]
fn every_part_type_round_trips() {
    let parts = json!([
        { "type": "image", "part_id": "i", "url": "https://cdn.example.com/a.jpg", "alt": "A lamp", "width": 640, "height": 480 },
        { "type": "image", "data": "iVBORw0KGgo=", "mime": "image/png", "filename": "damage.png" },
        { "type": "table", "part_id": "t", "caption": "Compare",
          "columns": [{ "blocks": [{ "type": "paragraph", "spans": [{ "type": "text", "text": "Lamp" }] }] }],
          "rows": [[{ "blocks": [{ "type": "paragraph", "spans": [{ "type": "bold", "text": "Aurora" }] }] }]] },
        { "type": "products", "part_id": "p", "products": [
            { "product_id": "aurora", "title": "Aurora pendant lamp", "url": "https://shop.example.com/aurora",
              "image_url": "https://cdn.example.com/aurora.jpg", "price": 1299.0, "currency": "DKK" } ] },
        { "type": "show_support_ticket", "part_id": "s",
          "fields": [{ "key": "subject", "label": "Subject", "required": true },
                     { "key": "description", "label": "What happened?", "type": "textarea", "required": true }],
          "attachments": { "max_files": 3, "max_size_bytes": 5242880, "accepted_types": ["image/png", "application/pdf"] } },
        { "type": "request_image_upload", "part_id": "u", "prompt": "A photo of the damage",
          "constraints": { "max_size_bytes": 5242880, "accepted_types": ["image/jpeg", "image/png"] } },
        { "type": "request_human_agent", "part_id": "h", "reason": "Complaint" },
        { "type": "custom", "part_id": "c", "key": "book_demo", "payload": { "slot": "2026-12-01T10:00" } },
        { "type": "custom", "part_id": "c2", "key": "ping" }
    ]);
    let parsed: Vec<Part> = round_trip(parts);
    let names: Vec<&str> = parsed.iter().map(Part::type_name).collect();
    assert_eq!(
        names,
        [
            "image",
            "image",
            "table",
            "products",
            "show_support_ticket",
            "request_image_upload",
            "request_human_agent",
            "custom",
            "custom"
        ]
    );
    assert_eq!(parsed[3].part_id(), Some("p"));
    assert_eq!(parsed[1].part_id(), None);
}

#[test]
fn image_sources_are_allow_listed() {
    use dgbot_protocol::message::ImagePart;
    let url = |u: &str| {
        ImagePart {
            url: Some(u.into()),
            ..Default::default()
        }
        .safe_src()
    };
    assert_eq!(
        url("https://cdn.example.com/a.jpg").as_deref(),
        Some("https://cdn.example.com/a.jpg")
    );
    assert_eq!(url("javascript:alert(1)"), None);
    assert_eq!(
        url("data:image/svg+xml,<svg onload=alert(1)>"),
        None,
        "data: only from our own base64 field"
    );
    let data = |d: &str, m: &str| {
        ImagePart {
            data: Some(d.into()),
            mime: Some(m.into()),
            ..Default::default()
        }
        .safe_src()
    };
    assert_eq!(
        data("iVBORw0KGgo=", "image/png").as_deref(),
        Some("data:image/png;base64,iVBORw0KGgo=")
    );
    assert_eq!(data("PHN2Zz4=", "image/svg+xml"), None, "no SVG");
    assert_eq!(data("abc\"onerror=", "image/png"), None);
}
