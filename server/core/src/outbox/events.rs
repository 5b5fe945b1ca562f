//! What each event says: the payload fields the core hands to [`Core::emit`] at each point of
//! the livechat lifecycle and on deletion (seed 002's event table; shapes in docs/protocol.md).

use dgbot_protocol::{Message, Part};
use serde_json::{Map, Value, json};

use super::*;
use crate::model::Session;
use crate::{ConversationKey, Core};

/// A message for a webhook: as stored, without base64 `data` (attachments are referenced by
/// `attachment_id`; a photo sent to the assistant is named, not copied).
pub fn message_json(m: &Message) -> Value {
    let mut m = m.clone();
    for part in &mut m.parts {
        match part {
            Part::Image(i) => i.data = None,
            Part::File(f) => f.data = None,
            _ => {}
        }
    }
    serde_json::to_value(&m).unwrap_or_else(|e| {
        tracing::error!("message {} as JSON: {e}", m.message_id);
        Value::Null
    })
}

fn session_json(s: &Session) -> Value {
    json!({
        "id": s.id,
        "status": s.status,
        "platform": s.platform,
        "source": s.source,
        "part_id": s.part_id,
        "language": s.language,
        "requested_at": s.requested_at,
        "agent_id": s.agent_id,
        "closed_at": s.closed_at,
        "closed_by": s.closed_by,
        "closed_by_agent_id": s.closed_by_agent_id,
        "close_reason": s.close_reason,
    })
}

impl Core {
    /// Who the visitor is: the id (our conversation is per visitor, so `session_id` is the
    /// same id), and the identity from `identify()` when there is one, labelled unverified.
    pub fn visitor_json(&self, key: &ConversationKey) -> Value {
        let identity = crate::logged(
            "webhook: the visitor's identity",
            self.store.identity_of(key),
        );
        json!({
            "id": key.visitor_id,
            "session_id": key.visitor_id,
            "user_id": identity.as_ref().map(|(i, _)| i.user_id.clone()),
            "name": identity.as_ref().and_then(|(i, _)| i.name.clone()),
            "email": identity.as_ref().and_then(|(i, _)| i.email.clone()),
            "verified": identity.is_some_and(|(_, v)| v),
        })
    }

    /// The values the visitor gave (submitted form fields), by key.
    pub fn session_values(&self, key: &ConversationKey) -> Map<String, Value> {
        let mut values = Map::new();
        for submission in crate::logged(
            "webhook: the visitor's forms",
            self.store.submissions_of(key),
        ) {
            if let Ok(Value::Object(action)) = serde_json::to_value(&submission.action)
                && let Some(Value::Object(fields)) = action.get("fields")
            {
                values.extend(fields.clone());
            }
        }
        values
    }

    /// `livechat.handover.requested`: the visitor, session values, language, the conversation
    /// so far, and the session (its short-lived `token` is added at each delivery).
    pub fn emit_handover(&self, s: &Session) {
        let context: Vec<Value> = crate::logged(
            "webhook: the conversation before the hand-over",
            self.store.messages(&s.key),
        )
        .iter()
        .rev()
        .take(50)
        .rev()
        .map(message_json)
        .collect();
        self.emit(
            &s.key.chatbot_id,
            WebhookEvent::HandoverRequested,
            json!({
                "visitor": self.visitor_json(&s.key),
                "language": s.language,
                "session_values": self.session_values(&s.key),
                "livechat_session": session_json(s),
                "context": { "messages": context },
            }),
        );
    }

    /// A message in a session: the visitor's while waiting or active, or the assistant's while
    /// the visitor waits.
    pub fn emit_message(&self, s: &Session, event: WebhookEvent, m: &Message) {
        self.emit(
            &s.key.chatbot_id,
            event,
            json!({
                "visitor": self.visitor_json(&s.key),
                "livechat_session": { "id": s.id, "status": s.status },
                "message": message_json(m),
            }),
        );
    }

    pub fn emit_session(&self, s: &Session, event: WebhookEvent, extra: Value) {
        let mut fields = json!({
            "visitor": { "id": s.key.visitor_id, "session_id": s.key.visitor_id },
            "livechat_session": session_json(s),
        });
        if let (Some(f), Value::Object(extra)) = (fields.as_object_mut(), extra) {
            f.extend(extra);
        }
        self.emit(&s.key.chatbot_id, event, fields);
    }

    /// `visitor.data.deleted`, after the data is gone.
    pub fn emit_deleted(
        &self,
        key: &ConversationKey,
        counts: &dgbot_protocol::api::DeleteResponse,
    ) {
        self.emit(
            &key.chatbot_id,
            WebhookEvent::VisitorDataDeleted,
            json!({
                "visitor": { "id": key.visitor_id, "session_id": key.visitor_id },
                "deletion": { "reason": "user_request", "counts": counts },
            }),
        );
    }
}
