//! Livechat, seed 002 ("Livechat end-to-end", "Livechat state model"): the hand-over from the
//! assistant to a person, for its three actors. The visitor requests a hand-over, waits (the
//! assistant keeps answering), writes to the agent, types, closes and rates. The agent system,
//! with a token scoped to one session, reads the context, writes, types and closes; its first
//! message or typing update assigns the agent. The setup backend, with the API key, keeps agent
//! profiles and settings, lists sessions and mints session tokens.
//!
//! `inactive -> waiting -> active -> closed`; every change raises `state_version`.

mod agent;
pub mod attachments;
mod setup;
mod visitor;

use std::time::Duration;

use dgbot_protocol::livechat::{ClosedBy, FeedbackStatus, LivechatSession, LivechatStatus};
use dgbot_protocol::message::Author;
use dgbot_protocol::{Message, Part, Role};
use sha2::{Digest, Sha256};

use crate::hub::ConversationEvent;
use crate::model::Session;
use crate::model::ids;
use crate::{Core, CoreError, validation};

/// How long a typing indicator lasts without a new `is_typing: true`.
pub const TYPING_TTL: Duration = Duration::from_secs(15);
/// The longest a `GET /livechat/messages?wait=` is held.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// Longest `platform`, `source`, `reason`, agent id or display name accepted, in characters.
const MAX_LABEL_CHARS: usize = 200;

/// The conversation's language by name, as the seed's hand-over response shows it.
fn language_name(code: &str) -> String {
    match code.split(['-', '_']).next().unwrap_or("") {
        "en" => "english",
        "da" => "danish",
        "de" => "german",
        "sv" => "swedish",
        "nb" | "nn" | "no" => "norwegian",
        "fi" => "finnish",
        "nl" => "dutch",
        "fr" => "french",
        "es" => "spanish",
        "it" => "italian",
        "pl" => "polish",
        "ar" => "arabic",
        "he" | "iw" => "hebrew",
        other => return other.to_owned(),
    }
    .to_owned()
}

fn wire(s: &Session) -> LivechatSession {
    LivechatSession {
        livechat_session_id: s.id.clone(),
        status: s.status,
        platform: s.platform.clone(),
        language: s.language.clone(),
        requested_at: s.requested_at.clone(),
        closed_at: s.closed_at.clone(),
        closed_by: s.closed_by,
        closed_by_agent_id: s.closed_by_agent_id.clone(),
        close_reason: s.close_reason.clone(),
    }
}

fn label(field: &str, value: &str) -> Result<(), CoreError> {
    if value.trim().is_empty() {
        return Err(CoreError::invalid(field, format!("{field} is required")));
    }
    validation::check_length(field, value, MAX_LABEL_CHARS)
}

/// Whose move it is: `agent` when the visitor wrote last or no one has yet, `visitor` when the
/// agent did; none once closed.
pub fn turn(s: &Session) -> Option<&'static str> {
    match (s.status, s.last_author.as_deref()) {
        (LivechatStatus::Closed | LivechatStatus::Inactive, _) => None,
        (_, Some("agent")) => Some("visitor"),
        _ => Some("agent"),
    }
}

impl Core {
    fn publish_state(&self, s: &Session) {
        self.hub.publish(
            &s.key,
            ConversationEvent::Livechat {
                status: s.status,
                state_version: s.state_version,
            },
        );
    }

    fn typing(&self, until: u64) -> bool {
        until > self.clock.unix()
    }

    fn agent_profile(&self, s: &Session) -> Result<Option<Author>, CoreError> {
        match &s.agent_id {
            Some(id) => Ok(self.store.agent(&s.key.chatbot_id, id)?),
            None => Ok(None),
        }
    }

    /// Check and keep a livechat message by `role`; attachments are stored and signed.
    fn livechat_message(
        &self,
        s: &Session,
        role: Role,
        author: Option<Author>,
        mut parts: Vec<Part>,
        client_id: Option<&str>,
    ) -> Result<(Message, u64), CoreError> {
        if parts.is_empty() {
            return Err(CoreError::invalid(
                "message.parts",
                "A message needs at least one part",
            ));
        }
        if parts.len() > 10 {
            return Err(CoreError::invalid("message.parts", "At most 10 parts"));
        }
        for (i, part) in parts.iter().enumerate() {
            if let Part::Text(t) = part {
                let field = format!("message.parts.{i}.text");
                if t.text.trim().is_empty() {
                    return Err(CoreError::invalid(field, "Text is required"));
                }
                validation::check_length(&field, &t.text, validation::MAX_MESSAGE_CHARS)?;
            }
        }
        self.store_attachments(&s.key, &s.id, &mut parts)?;
        let message = Message {
            message_id: ids::new_id("msg"),
            role,
            parts,
            created_at: Some(self.clock.rfc3339()),
            author,
            feedback: None,
        };
        let who = if role == Role::Agent {
            "agent"
        } else {
            "visitor"
        };
        let (message, version) = match self.store.push_livechat(s, who, client_id, &message)? {
            Some(version) => (message, version),
            // The same message raced itself: the one stored first counts.
            None => match self
                .store
                .by_client_id(&s.key, client_id.unwrap_or_default())?
            {
                Some((sent, _)) => (sent, s.state_version),
                None => {
                    return Err(CoreError::Conflict(
                        "Message not stored; send it again".into(),
                    ));
                }
            },
        };
        let mut signed = [message];
        self.sign_attachments(&mut signed);
        let [message] = signed;
        Ok((message, version))
    }

    /// Close session `id` (idempotent: a closed session stays as it closed). Opens feedback.
    pub fn close_session(
        &self,
        id: &str,
        by: ClosedBy,
        agent_id: Option<&str>,
        reason: Option<String>,
    ) -> Result<Session, CoreError> {
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if let Some(r) = &reason {
            validation::check_length("reason", r, MAX_LABEL_CHARS)?;
        }
        let now = self.clock.rfc3339();
        let mut was_open = false;
        let s = self
            .store
            .update_session(id, &mut |s| {
                if s.status == LivechatStatus::Closed {
                    return Ok(());
                }
                was_open = true;
                s.status = LivechatStatus::Closed;
                s.closed_at = Some(now.clone());
                s.closed_by = Some(by);
                s.closed_by_agent_id = agent_id.map(str::to_owned);
                s.close_reason = reason.clone();
                s.agent_typing_until = 0;
                s.visitor_typing_until = 0;
                s.feedback_status = Some(FeedbackStatus::Pending);
                Ok(())
            })?
            .ok_or_else(|| CoreError::NotFound("No such livechat session".into()))?;
        if was_open {
            self.emit_session(
                &s,
                crate::model::WebhookEvent::SessionClosed,
                serde_json::json!({}),
            );
            if s.agent_id.is_some() {
                let agent = self.agent_profile(&s)?;
                self.hub.publish(
                    &s.key,
                    ConversationEvent::AgentLeft {
                        agent,
                        reason: s.close_reason.clone(),
                    },
                );
            }
            self.publish_state(&s);
        }
        Ok(s)
    }
}

fn token_hash(token: &str) -> String {
    ids::hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_by_name() {
        assert_eq!(language_name("en"), "english");
        assert_eq!(language_name("da-DK"), "danish");
        assert_eq!(language_name("xx"), "xx");
    }
}
