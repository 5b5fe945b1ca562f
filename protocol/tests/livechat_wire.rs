//! Golden-JSON tests for livechat (seed 002, "Livechat end-to-end"), built from the seed's own
//! examples where it shows one.

use dgbot_protocol::api::{ApiErrorCode, DeleteResponse};
use dgbot_protocol::livechat::HandoverRequest;
use dgbot_protocol::livechat::*;
use dgbot_protocol::message::{Author, FilePart};
use dgbot_protocol::{Message, Part, Role};
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
fn the_seeds_handover_request_and_response() {
    let req: HandoverRequest = round_trip(json!({
        "platform": "website", "source": "manual_button", "part_id": "part_human_1"
    }));
    assert_eq!(req.part_id.as_deref(), Some("part_human_1"));
    let session: LivechatSession = round_trip(json!({
        "livechat_session_id": "livechat_session_42",
        "status": "waiting",
        "platform": "website",
        "language": "english",
        "requested_at": "2025-06-15T14:30:10Z",
        "closed_at": null,
        "closed_by": null,
        "closed_by_agent_id": null,
        "close_reason": null
    }));
    assert_eq!(session.status, LivechatStatus::Waiting);
    let closed: LivechatSession = round_trip(json!({
        "livechat_session_id": "livechat_session_42", "status": "closed", "platform": "website",
        "language": "english", "requested_at": "2025-06-15T14:30:10Z",
        "closed_at": "2025-06-15T14:50:00Z", "closed_by": "agent",
        "closed_by_agent_id": "00000000-0000-4000-8000-0000000000a1",
        "close_reason": "Resolved"
    }));
    assert_eq!(closed.closed_by, Some(ClosedBy::Agent));
}

#[test]
fn the_seeds_customer_message_with_a_file() {
    let req: LivechatMessageRequest = round_trip(json!({
        "message": { "parts": [
            { "type": "text", "text": "Here is the invoice you asked for." },
            { "type": "file", "data": "JVBERi0xLjQKJeLjz9MKMSAwIG9iago8PC...", "mime": "application/pdf", "filename": "invoice.pdf" }
        ]},
        "context": { "page": "https://shop.example.com/orders/123" }
    }));
    let Part::File(file) = &req.message.parts[1] else {
        panic!("a file part")
    };
    assert_eq!(file.mime.as_deref(), Some("application/pdf"));
    assert_eq!(
        req.context.and_then(|c| c.page).as_deref(),
        Some("https://shop.example.com/orders/123")
    );
}

#[test]
fn the_seeds_stored_attachment() {
    let part: Part = round_trip(json!({
        "type": "file",
        "attachment_id": "attachment_123",
        "filename": "invoice.pdf",
        "mime_type": "application/pdf",
        "size_bytes": 48231,
        "url": "https://api.dialogintelligens.dk/api/v1/chat/livechat/attachments/attachment_123?token=...",
        "url_expires_at": "2025-06-15T14:46:00Z"
    }));
    let Part::File(FilePart {
        attachment_id,
        size_bytes,
        ..
    }) = &part
    else {
        panic!("a file part")
    };
    assert_eq!(
        (attachment_id.as_deref(), *size_bytes),
        (Some("attachment_123"), Some(48231))
    );
    assert!(matches!(&part, Part::File(f) if f.safe_url().is_some()));
    // An image attachment carries the same fields.
    round_trip::<Part>(json!({
        "type": "image", "url": "https://x.example/a?token=1", "filename": "damage.png",
        "attachment_id": "attachment_124", "mime_type": "image/png", "size_bytes": 10,
        "url_expires_at": "2025-06-15T14:46:00Z"
    }));
}

#[test]
fn the_seeds_agent_requests() {
    let m: AgentMessageRequest = round_trip(json!({
        "agent_id": "00000000-0000-4000-8000-0000000000a1",
        "message": { "parts": [{ "type": "text", "text": "Hi, I'm Alice. I can help from here." }] }
    }));
    assert_eq!(m.message.parts.len(), 1);
    round_trip::<AgentTypingRequest>(json!({ "agent_id": "a1", "is_typing": true }));
    round_trip::<AgentCloseRequest>(json!({ "agent_id": "a1", "reason": "Resolved" }));
    round_trip::<TypingRequest>(json!({ "is_typing": false }));
    round_trip::<CloseRequest>(json!({ "reason": "Conversation completed" }));
    round_trip::<FeedbackRequest>(json!({ "rating": 5, "comment": "Quick and kind" }));
    round_trip::<AgentProfileRequest>(
        json!({ "display_name": "Alice", "avatar_url": "https://x.example/a.png" }),
    );
}

#[test]
fn agent_messages_name_their_author() {
    let m: Message = round_trip(json!({
        "message_id": "msg_9", "role": "agent",
        "parts": [{ "type": "text", "text": "Hi" }],
        "created_at": "2025-06-15T14:31:00Z",
        "author": { "agent_id": "agent-alice", "display_name": "Alice from Nordlys" }
    }));
    assert_eq!(m.role, Role::Agent);
    assert_eq!(
        m.author,
        Some(Author {
            agent_id: "agent-alice".into(),
            display_name: "Alice from Nordlys".into(),
            avatar_url: None
        })
    );
}

#[test]
fn state_settings_sessions_and_tokens() {
    let state: LivechatState = round_trip(json!({
        "status": "closed",
        "session": {
            "livechat_session_id": "s1", "status": "closed", "platform": "website",
            "language": "danish", "requested_at": "2026-11-23T10:00:00Z",
            "closed_at": "2026-11-23T10:05:00Z", "closed_by": "visitor",
            "closed_by_agent_id": null, "close_reason": "Conversation completed"
        },
        "agent": { "agent_id": "agent-alice", "display_name": "Alice", "avatar_url": "https://x.example/a.png" },
        "agent_typing": false,
        "state_version": 7,
        "updated_at": "2026-11-23T10:05:00Z",
        "feedback": { "status": "pending" }
    }));
    assert_eq!(
        state.feedback.map(|f| f.status),
        Some(FeedbackStatus::Pending)
    );
    let settings: LivechatSettings = round_trip(json!({
        "enabled": true,
        "working_hours": [{ "day": "monday", "start": "09:00", "end": "17:00" }],
        "timezone": "Europe/Copenhagen",
        "manual_override": "offline",
        "attachments_enabled": true,
        "max_attachment_size_bytes": 10485760,
        "attachment_retention_days": 30
    }));
    assert_eq!(settings.working_hours.len(), 1);
    assert!(
        serde_json::from_value::<LivechatSettings>(json!({ "enabled": true, "enabeld": false }))
            .is_err(),
        "a typo in the settings is an error, not ignored"
    );
    let list: SessionList = round_trip(json!({ "sessions": [{
        "livechat_session_id": "s1", "status": "waiting", "platform": "website",
        "language": "english", "requested_at": "2026-11-23T10:00:00Z", "closed_at": null,
        "closed_by": null, "closed_by_agent_id": null, "close_reason": null,
        "visitor_id": "v_1", "agent_id": null, "turn": "agent", "state_version": 1,
        "updated_at": "2026-11-23T10:00:00Z"
    }]}));
    assert_eq!(list.sessions[0].turn.as_deref(), Some("agent"));
    round_trip::<SessionCount>(json!({ "count": 3 }));
    round_trip::<SessionToken>(json!({ "token": "lcs_x", "expires_at": "2026-11-23T11:00:00Z" }));
    round_trip::<LivechatMessages>(json!({ "messages": [], "state_version": 3 }));
}

#[test]
fn conflict_is_409_and_deletion_counts_livechat() {
    assert_eq!(ApiErrorCode::Conflict.status(), 409);
    assert_eq!(
        serde_json::to_value(ApiErrorCode::Conflict).unwrap(),
        "conflict"
    );
    let d: DeleteResponse =
        serde_json::from_value(json!({ "messages": 1, "submissions": 0, "ratings": 0 })).unwrap();
    assert_eq!(
        (d.livechat_sessions, d.attachments),
        (0, 0),
        "older servers' answers decode"
    );
}
