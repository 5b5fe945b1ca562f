//! What Dosti's two transports share: who the caller is (`apiKey` + `visitorId` → conversation
//! key), sending a visitor message (to the assistant, and to the agents' queue), and the
//! conversation as the REST pipeline shows it. Socket.IO and REST call the same functions, so a
//! message behaves the same whichever way it came (rate limits, validation, hand-over).

use std::sync::Arc;

use axum::http::StatusCode;
use dgbot_protocol::api::IdentifyRequest;
use dgbot_protocol::dosti::{ChatMessage, Failure, Sender};
use dgbot_protocol::livechat::{HandoverRequest, LivechatStatus};
use dgbot_protocol::message::TextPart;
use dgbot_protocol::{Message, Part, Role};

use crate::http::auth::key_in;
use crate::http::origin::origin_allowed;
use dgbot_core::model::Chatbot;
use dgbot_core::model::ids;
use dgbot_core::{ConversationKey, Core, CoreError, validation};

/// The `platform` of the livechat sessions Dosti visitors start (the agent console shows it).
pub const PLATFORM: &str = "dosti";
/// What the visitor said: "You", as the seed's poll example shows the visitor's own messages.
pub const VISITOR_SENDER_NAME: &str = "You";
/// An agent without a display name (the seed's example name for the support side).
pub const SUPPORT_NAME: &str = "Support";

/// A Dosti visitor: whose conversation, and the name they gave (`visitorName`).
#[derive(Debug, Clone)]
pub struct DostiVisitor {
    pub key: ConversationKey,
    pub name: Option<String>,
}

/// Which transport a message came by: the `source` of the hand-over it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    SocketIo,
    Rest,
}

impl Via {
    fn source(self) -> &'static str {
        match self {
            Via::SocketIo => "socket_io",
            Via::Rest => "rest",
        }
    }
}

/// The chatbot that `api_key` names: its public id or one of its `public_keys`. Public keys
/// are not secrets (they sit in page source); they only name the chatbot.
pub fn chatbot_for_key<'a>(core: &'a Core, api_key: &str) -> Option<&'a Chatbot> {
    core.chatbots()
        .iter()
        .find(|bot| bot.id == api_key || key_in(&bot.public_keys, api_key))
}

/// Check what a Dosti client says it is. `origin` is the request's `Origin` header unless the
/// request came from the server's own pages (`None`): a browser on a site the chatbot does not
/// allow is refused, as the widget's public auth refuses it; native apps and servers send no
/// `Origin` and are let in.
pub fn authenticate(
    core: &Core,
    api_key: Option<&str>,
    visitor_id: Option<&str>,
    visitor_name: Option<&str>,
    origin: Option<&str>,
) -> Result<DostiVisitor, CoreError> {
    let api_key = api_key.unwrap_or("").trim();
    if api_key.is_empty() {
        return Err(CoreError::Unauthorized(
            "apiKey is required: the chatbot's public id or a public key (dosti_pub_…)".into(),
        ));
    }
    let bot = chatbot_for_key(core, api_key).ok_or_else(|| {
        CoreError::Unauthorized(
            "Unknown apiKey: use the chatbot's public id or one of its public keys (dosti_pub_…)"
                .into(),
        )
    })?;
    if let Some(origin) = origin
        && !origin_allowed(&bot.allowed_origins, origin)
    {
        return Err(CoreError::Forbidden(format!(
            "This chatbot is not enabled on {origin:?}; add the origin to its allowed origins"
        )));
    }
    let visitor_id = visitor_id.unwrap_or("");
    if !ids::is_valid_visitor_id(visitor_id) {
        return Err(CoreError::invalid(
            "visitorId",
            "visitorId must be 8 to 64 letters, digits, '-' or '_' (e.g. android_user_789)",
        ));
    }
    Ok(DostiVisitor {
        key: ConversationKey::new(&bot.id, visitor_id),
        name: display_name(visitor_name)?,
    })
}

/// `visitorName`, trimmed; blank is no name.
fn display_name(name: Option<&str>) -> Result<Option<String>, CoreError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    validation::check_length("visitorName", name, validation::MAX_IDENTITY_CHARS)?;
    Ok(Some(name.to_owned()))
}

/// Keep `visitorName` as the conversation's (unverified) identity, so the agent console shows
/// the visitor by name. An identity from elsewhere (the widget's `identify`, a verified one) is
/// left alone; on a chatbot that requires verified identities the name is not kept. Best
/// effort: a visitor's message never fails over their name.
pub fn remember_name(core: &Core, visitor: &DostiVisitor) {
    let Some(name) = &visitor.name else { return };
    let key = &visitor.key;
    match core.identity(key) {
        Ok(Some((who, verified)))
            if verified || who.user_id != key.visitor_id || who.name.as_deref() == Some(name) =>
        {
            return;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!("dosti: identity of {}: {e}", key.visitor_id);
            return;
        }
    }
    let user = IdentifyRequest {
        user_id: key.visitor_id.clone(),
        name: Some(name.clone()),
        email: None,
        user_hash: None,
        token: None,
    };
    let _ = core.identify(key, user);
}

/// Send the visitor's `text`. While an agent has the chat it goes to the agent (seed 002's
/// livechat message); otherwise the assistant answers it, and the conversation enters the
/// agents' queue (a `waiting` livechat session) if it is not there yet: the seed's "sending
/// shows the visitor in the Agent Console and alerts the agents". The answer is streamed to
/// the conversation's hub (Socket.IO clients hear it) and stored (polls see it).
///
/// Returns the visitor's message as a poll shows it.
pub fn send(
    core: &Arc<Core>,
    visitor: &DostiVisitor,
    text: &str,
    via: Via,
) -> Result<ChatMessage, CoreError> {
    let parts = vec![Part::Text(TextPart { text: text.into() })];
    validation::visitor_text(&parts).map_err(dosti_fields)?;
    remember_name(core, visitor);
    let key = &visitor.key;
    let status = core.current_session(key)?.map(|s| s.status);
    let message_id = match status {
        Some(LivechatStatus::Active) => to_agent(core, key, parts)?,
        _ => {
            if status != Some(LivechatStatus::Waiting) {
                enter_queue(core, key, via);
            }
            match to_assistant(core, key, parts.clone()) {
                // An agent took the chat in between: the message is theirs.
                Err(CoreError::Conflict(_)) => to_agent(core, key, parts)?,
                sent => sent?,
            }
        }
    };
    conversation(core, key, None)?
        .into_iter()
        .rfind(|m| m.id == message_id)
        .ok_or_else(|| CoreError::NotFound("The message was not kept; send it again".into()))
}

/// Start a `waiting` livechat session. When livechat is off or offline the hand-over is
/// refused and the assistant alone answers: that is not the visitor's error.
fn enter_queue(core: &Core, key: &ConversationKey, via: Via) {
    let request = HandoverRequest {
        platform: PLATFORM.into(),
        source: via.source().into(),
        part_id: None,
    };
    match core.handover(key, request) {
        Ok(_) | Err(CoreError::Forbidden(_)) => {}
        Err(e) => tracing::warn!("dosti: hand-over of {}: {e}", key.visitor_id),
    }
}

/// To the assistant: the message is stored before this returns; the answer is drained here
/// (no one reads it from this side: listeners hear it on the hub) so that it completes and is
/// stored even when the sender has gone.
fn to_assistant(
    core: &Arc<Core>,
    key: &ConversationKey,
    parts: Vec<Part>,
) -> Result<String, CoreError> {
    let client_id = ids::new_id("dosti");
    let mut answer = core
        .post_message(key, parts, Some(&client_id))
        .map_err(dosti_fields)?;
    tokio::spawn(async move { while answer.recv().await.is_some() {} });
    let sent = core
        .sent_message(key, &client_id)?
        .ok_or_else(|| CoreError::NotFound("The message was not kept; send it again".into()))?;
    Ok(sent.message_id)
}

/// To the agent who has the chat.
fn to_agent(core: &Core, key: &ConversationKey, parts: Vec<Part>) -> Result<String, CoreError> {
    let (message, _) = core
        .visitor_livechat_message(key, parts, None)
        .map_err(dosti_fields)?;
    Ok(message.message_id)
}

/// Field paths in Dosti's terms: the text of `message.parts.0.text` is Dosti's `message`.
fn dosti_fields(e: CoreError) -> CoreError {
    match e {
        CoreError::Validation(mut fields) => {
            for f in &mut fields {
                if f.field.starts_with("message.parts") {
                    f.field = "message".into();
                }
            }
            CoreError::Validation(fields)
        }
        other => other,
    }
}

/// The conversation as the REST pipeline shows it, oldest first; only messages newer than
/// `after` (milliseconds) when given. Every message the visitor, the assistant or an agent
/// wrote, as text (`Message::plain_text`); one with no text at all (a bare form marker) is
/// left out.
pub fn conversation(
    core: &Core,
    key: &ConversationKey,
    after: Option<u64>,
) -> Result<Vec<ChatMessage>, CoreError> {
    let bot_name = core.chatbot_of(key)?.config.name.clone();
    let stored = core.transcript(key)?;
    let stamps = timestamps(&stored);
    Ok(stored
        .iter()
        .zip(stamps)
        .filter(|(_, at)| after.is_none_or(|after| *at > after))
        .filter_map(|(m, at)| chat_message(m, at, &bot_name))
        .collect())
}

/// Each message's timestamp in milliseconds, strictly increasing in the order they were
/// stored. The store keeps whole seconds; messages within one second are a millisecond apart,
/// so `lastTimestamp` = the newest timestamp a client has seen never skips a message stored
/// after it. A message's timestamp depends only on those before it, so it never changes.
pub fn timestamps(messages: &[Message]) -> Vec<u64> {
    let mut last = 0u64;
    messages
        .iter()
        .map(|m| {
            let at = m
                .created_at
                .as_deref()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .map(|t| t.as_millisecond().max(0) as u64)
                .unwrap_or(0);
            last = at.max(last + 1);
            last
        })
        .collect()
}

fn chat_message(m: &Message, timestamp: u64, bot_name: &str) -> Option<ChatMessage> {
    let (sender, sender_name) = match m.role {
        Role::User => (Sender::Visitor, VISITOR_SENDER_NAME.to_owned()),
        Role::Agent => (Sender::Agent, agent_name(m)),
        Role::Assistant => (Sender::Agent, bot_name.to_owned()),
        Role::System => return None,
    };
    let text = m.plain_text();
    (!text.trim().is_empty()).then(|| ChatMessage {
        id: m.message_id.clone(),
        sender,
        sender_name,
        message: text,
        timestamp,
    })
}

/// An agent's display name.
pub fn agent_name(m: &Message) -> String {
    m.author
        .as_ref()
        .map(|a| a.display_name.clone())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| SUPPORT_NAME.into())
}

/// A core error as Dosti's failure, with its HTTP status (the REST pipeline's) and the
/// seed 002 code. A database failure is logged; the client sees a generic message.
pub fn failure(e: &CoreError) -> (StatusCode, Failure) {
    let error = match e {
        CoreError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => crate::http::error::message_of(other),
    };
    let code = crate::http::error::code_of(e);
    let mut failure = Failure::new(code_name(code), error);
    if let CoreError::RateLimited(secs) = e {
        failure.retry_after = Some(*secs);
    }
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, failure)
}

/// Seed 002's code name (`validation`, `rate_limited`, …).
fn code_name(code: dgbot_protocol::ApiErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "internal".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(created_at: &str) -> Message {
        Message {
            message_id: ids::new_id("msg"),
            role: Role::User,
            parts: vec![],
            created_at: Some(created_at.into()),
            author: None,
            feedback: None,
        }
    }

    #[test]
    fn timestamps_increase_within_a_second_and_never_go_back() {
        let messages = [
            at("2026-06-16T16:00:00Z"),
            at("2026-06-16T16:00:00Z"),
            at("2026-06-16T16:00:01Z"),
            at("2026-06-16T15:59:59Z"), // a clock that went back
            at("garbage"),
        ];
        let base = 1_781_625_600_000;
        assert_eq!(
            timestamps(&messages),
            [base, base + 1, base + 1000, base + 1001, base + 1002]
        );
        // Adding a message changes none of the earlier ones.
        assert_eq!(timestamps(&messages[..2]), [base, base + 1]);
    }

    #[test]
    fn validation_names_dostis_field() {
        let e = dosti_fields(CoreError::invalid(
            "message.parts.0.text",
            "Text is required",
        ));
        let (status, failure) = failure(&e);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(failure.error, "message: Text is required");
        assert_eq!(failure.code, "validation");
        let (status, limited) = super::failure(&CoreError::RateLimited(12));
        assert_eq!(
            (status.as_u16(), limited.retry_after, limited.code.as_str()),
            (429, Some(12), "rate_limited")
        );
    }
}
