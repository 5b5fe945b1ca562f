//! Arbitrary bytes through every other decoder of `dgbot-protocol`: the livechat bodies
//! (`livechat.rs`), the webhook bodies (`webhooks.rs`), the host ↔ iframe bridge
//! (`bridge.rs`), the request bodies and messages of `api.rs` and `message.rs`, the marker
//! form checks (`forms.rs`) and the URL allow-lists that keep script out of the widget.
//!
//! The first byte picks the decoder; the rest is the input. Nothing may panic; whatever decodes
//! must encode and decode again to the same value (what the server stores is what the widget
//! reads); a decoded host command must survive its own envelope; and an allow-listed link or
//! image source must really be `http(s)`/`mailto`/`tel` or a base64 raster image, with nothing
//! in it that could end an attribute.

#![no_main]

use std::collections::BTreeMap;
use std::fmt::Debug;

use dgbot_protocol::api::{
    ActionRequest, ApiError, AuthRequest, ChatConfig, HistoryPage, IdentifyRequest, RateRequest,
    SendMessageRequest,
};
use dgbot_protocol::bridge::{Envelope, FrameAction, HostCommand, SOURCE, VERSION};
use dgbot_protocol::forms::{check_attachments, check_fields, decoded_len, is_email};
use dgbot_protocol::livechat::{
    AgentCloseRequest, AgentContext, AgentMessageRequest, AgentProfileRequest, AgentTypingRequest,
    CloseRequest, FeedbackRequest, HandoverRequest, LivechatMessageRequest,
    LivechatMessageResponse, LivechatMessages, LivechatSession, LivechatSettings, LivechatState,
    SessionCount, SessionList, SessionToken, TypingRequest,
};
use dgbot_protocol::message::{
    AttachmentRules, FilePart, FormField, ImagePart, Message, Part, Span, is_safe_link,
};
use dgbot_protocol::webhooks::{EventDetail, EventList, WebhookConfig, WebhookView};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Decoded, then encoded and decoded again: the same value.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(text: &str) {
    let Ok(value) = serde_json::from_str::<T>(text) else {
        return;
    };
    let json = serde_json::to_string(&value).expect("what decodes encodes");
    let again: T = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{json} does not decode again: {e}"));
    assert_eq!(again, value, "{json}");
}

/// A host command that decodes is one the loader could have sent: its own envelope (with the
/// page) decodes to the same command.
fn host_command(text: &str) {
    let Some(message) = HostCommand::decode(text) else {
        return;
    };
    let mut v = serde_json::to_value(Envelope::new(&message.command)).unwrap();
    if let Some(page) = &message.page {
        assert!(page.starts_with("http://") || page.starts_with("https://"));
        v["page"] = page.clone().into();
    }
    assert_eq!(v["source"], SOURCE);
    assert_eq!(v["v"], VERSION);
    assert_eq!(HostCommand::decode(&v.to_string()), Some(message), "{v}");
}

/// Whatever the iframe posts reaches the host page as an object in our envelope.
fn frame_action(text: &str) {
    round_trip::<FrameAction>(text);
    if let Ok(action) = serde_json::from_str::<FrameAction>(text) {
        let posted = action.to_host("shopping_assistant", Some(1));
        assert_eq!(posted["source"], SOURCE, "{posted}");
        assert!(posted["action"].is_string(), "{posted}");
    }
}

/// The allow-lists: a link the widget keeps is http(s), mailto or tel, with no white space or
/// control character (nothing that ends an attribute or hides a scheme); an image source is
/// http(s) or a base64 PNG, JPEG, WebP or GIF.
fn links(text: &str) {
    let clean = |u: &str| !u.chars().any(|c| c.is_control() || c.is_whitespace());
    if is_safe_link(text) {
        let lower = text.to_ascii_lowercase();
        assert!(
            ["http://", "https://", "mailto:", "tel:"]
                .iter()
                .any(|s| lower.starts_with(s))
                && clean(text),
            "{text:?}"
        );
    }
    let span = Span::link("x", text);
    assert_eq!(span.safe_url().is_some(), is_safe_link(text));
    let file = FilePart {
        url: Some(text.to_owned()),
        ..Default::default()
    };
    if let Some(url) = file.safe_url() {
        assert!(url.to_ascii_lowercase().starts_with("http") && clean(url), "{url:?}");
    }
    let by_url = ImagePart {
        url: Some(text.to_owned()),
        ..Default::default()
    };
    if let Some(src) = by_url.safe_src() {
        assert!(src.to_ascii_lowercase().starts_with("http") && clean(&src), "{src:?}");
    }
    // Base64 data with a type: the text up to the first `|` is the type, the rest the data.
    let (mime, data) = text.split_once('|').unwrap_or(("image/png", text));
    let by_data = ImagePart {
        data: Some(data.to_owned()),
        mime: Some(mime.to_owned()),
        ..Default::default()
    };
    if let Some(src) = by_data.safe_src() {
        let (head, body) = src.split_once(',').expect("a data: URL");
        assert!(
            [
                "data:image/png;base64",
                "data:image/jpeg;base64",
                "data:image/webp;base64",
                "data:image/gif;base64"
            ]
            .contains(&head),
            "{src:?}"
        );
        assert!(
            body.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')),
            "{src:?}"
        );
    }
}

/// The marker form checks on anything: no panic, and errors name the action's fields.
fn forms(text: &str) {
    let _ = is_email(text);
    let _ = decoded_len(text);
    if let Ok((fields, values)) =
        serde_json::from_str::<(Vec<FormField>, BTreeMap<String, String>)>(text)
    {
        for e in check_fields(&fields, &values) {
            assert!(e.field.starts_with("action.fields."), "{e:?}");
        }
    }
    if let Ok((rules, attachments)) = serde_json::from_str::<(AttachmentRules, _)>(text) {
        let attachments: Vec<dgbot_protocol::api::Attachment> = attachments;
        for e in check_attachments(&rules, &attachments) {
            assert!(e.field.starts_with("action.attachments"), "{e:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        // Not UTF-8, as a server reads a body: bytes that are not UTF-8 may sit in a field that
        // is skipped (serde_json does not check what it skips), never in a value that is kept.
        if let Ok(v) = serde_json::from_slice::<LivechatMessageRequest>(rest) {
            round_trip::<LivechatMessageRequest>(&serde_json::to_string(&v).unwrap());
        }
        if let Ok(v) = serde_json::from_slice::<WebhookConfig>(rest) {
            round_trip::<WebhookConfig>(&serde_json::to_string(&v).unwrap());
        }
        return;
    };
    match which % 32 {
        0 => round_trip::<LivechatMessageRequest>(text),
        1 => round_trip::<LivechatMessageResponse>(text),
        2 => round_trip::<LivechatMessages>(text),
        3 => round_trip::<LivechatState>(text),
        4 => round_trip::<LivechatSession>(text),
        5 => round_trip::<LivechatSettings>(text),
        6 => round_trip::<AgentContext>(text),
        7 => round_trip::<AgentMessageRequest>(text),
        8 => round_trip::<AgentTypingRequest>(text),
        9 => round_trip::<AgentCloseRequest>(text),
        10 => round_trip::<AgentProfileRequest>(text),
        11 => round_trip::<HandoverRequest>(text),
        12 => round_trip::<TypingRequest>(text),
        13 => round_trip::<CloseRequest>(text),
        14 => round_trip::<FeedbackRequest>(text),
        15 => round_trip::<SessionList>(text),
        16 => round_trip::<SessionCount>(text),
        17 => round_trip::<SessionToken>(text),
        18 => round_trip::<WebhookConfig>(text),
        19 => round_trip::<WebhookView>(text),
        20 => round_trip::<EventList>(text),
        21 => round_trip::<EventDetail>(text),
        22 => host_command(text),
        23 => frame_action(text),
        24 => round_trip::<Message>(text),
        25 => round_trip::<Part>(text),
        26 => round_trip::<SendMessageRequest>(text),
        27 => round_trip::<ActionRequest>(text),
        28 => {
            round_trip::<IdentifyRequest>(text);
            round_trip::<RateRequest>(text);
            round_trip::<AuthRequest>(text);
            round_trip::<ApiError>(text);
        }
        29 => {
            round_trip::<ChatConfig>(text);
            round_trip::<HistoryPage>(text);
        }
        30 => links(text),
        _ => forms(text),
    }
});
