//! Livechat for the visitor: ask for a person, wait (the assistant keeps answering), write,
//! type, close and rate; read the session's state and its messages (a long poll).

use std::time::Duration;

use dgbot_protocol::livechat::{
    ClosedBy, FeedbackState, FeedbackStatus, HandoverRequest, LivechatMessages, LivechatSession,
    LivechatState, LivechatStatus,
};
use dgbot_protocol::{Message, Part, Role};

use super::*;
use crate::hub::ConversationEvent;
use crate::model::Session;
use crate::model::ids;
use crate::{ConversationKey, Core, CoreError, validation};

impl Core {
    /// `POST /livechat/handover`: the visitor enters `waiting`. Refused (`403 forbidden`, the
    /// reason in words) when livechat is off or offline; while a session is waiting or active,
    /// that session is returned and nothing new starts.
    pub fn handover(
        &self,
        key: &ConversationKey,
        req: HandoverRequest,
    ) -> Result<LivechatSession, CoreError> {
        label("platform", &req.platform)?;
        label("source", &req.source)?;
        if let Some(part_id) = &req.part_id {
            let found = self.store.find_part(key, part_id)?;
            if !matches!(found, Some(Part::RequestHumanAgent(_))) {
                return Err(CoreError::invalid(
                    "part_id",
                    "No request_human_agent part with this id in the conversation",
                ));
            }
        }
        let config = self.livechat_config(&key.chatbot_id)?;
        if let Some(current) = self.store.latest_session(key)?
            && matches!(
                current.status,
                LivechatStatus::Waiting | LivechatStatus::Active
            )
        {
            return Ok(wire(&current));
        }
        if !config.enabled {
            return Err(CoreError::Forbidden(
                "Livechat is not enabled for this chatbot".into(),
            ));
        }
        if config.availability_status != "live" {
            let why = match config.availability_reason.as_deref() {
                Some("outside_working_hours") => "outside working hours",
                _ => "switched off for now",
            };
            return Err(CoreError::Forbidden(format!(
                "No one is available to chat: livechat is offline ({why})"
            )));
        }
        let now = self.clock.rfc3339();
        // A chatbot in `auto` speaks each visitor's language; the session names its default.
        let bot = self.chatbot_of(key)?;
        let language = language_name(match bot.config.language.as_str() {
            "auto" => &bot.default_language,
            configured => configured,
        });
        let (session, created) = self.store.start_session(Session {
            id: ids::new_id("livechat_session"),
            key: key.clone(),
            status: LivechatStatus::Waiting,
            platform: req.platform,
            source: req.source,
            part_id: req.part_id,
            language,
            requested_at: now.clone(),
            updated_at: now,
            closed_at: None,
            closed_by: None,
            closed_by_agent_id: None,
            close_reason: None,
            agent_id: None,
            state_version: 0,
            agent_typing_until: 0,
            visitor_typing_until: 0,
            feedback_status: None,
            feedback_rating: None,
            feedback_comment: None,
            last_author: None,
            message_count: 0,
        })?;
        if created {
            self.publish_state(&session);
            self.emit_handover(&session);
        }
        Ok(wire(&session))
    }

    /// The visitor's current or last livechat session.
    pub fn current_session(&self, key: &ConversationKey) -> Result<Option<Session>, CoreError> {
        Ok(self.store.latest_session(key)?)
    }

    /// The visitor's livechat messages after message `after` (all of them for an unknown id),
    /// attachments signed.
    pub fn livechat_messages_after(
        &self,
        key: &ConversationKey,
        after: &str,
    ) -> Result<Vec<Message>, CoreError> {
        let mut missed = self.store.livechat_messages(key, Some(after))?;
        self.sign_attachments(&mut missed);
        Ok(missed)
    }

    /// `GET /livechat/state`: the current session, or the last one (closed, for its feedback).
    pub fn livechat_state(&self, key: &ConversationKey) -> Result<LivechatState, CoreError> {
        let Some(s) = self.store.latest_session(key)? else {
            return Ok(LivechatState {
                status: LivechatStatus::Inactive,
                session: None,
                agent: None,
                agent_typing: false,
                state_version: 0,
                updated_at: None,
                feedback: None,
            });
        };
        Ok(LivechatState {
            status: s.status,
            agent: self.agent_profile(&s)?,
            agent_typing: s.status == LivechatStatus::Active && self.typing(s.agent_typing_until),
            state_version: s.state_version,
            updated_at: Some(s.updated_at.clone()),
            feedback: s.feedback_status.map(|status| FeedbackState {
                status,
                rating: s.feedback_rating,
                comment: s.feedback_comment.clone(),
            }),
            session: Some(wire(&s)),
        })
    }

    /// `GET /livechat/messages?after=&wait=&since=`: livechat messages after `after`; with
    /// `wait`, held until the session changes (an agent writes, joins, types, closes) or `wait`
    /// passes. `since` is the `state_version` the client last saw: a change it has not seen yet
    /// (made between its last state read and this request) answers at once instead of after
    /// `wait`; without it, changes from the time of the request count.
    pub async fn livechat_messages(
        &self,
        key: &ConversationKey,
        after: Option<&str>,
        since: Option<u64>,
        wait: Duration,
    ) -> Result<LivechatMessages, CoreError> {
        let since = match since {
            Some(seen) => seen,
            None => self.livechat_state(key)?.state_version,
        };
        let read = |core: &Core| -> Result<LivechatMessages, CoreError> {
            let mut messages = core.store.livechat_messages(key, after)?;
            core.sign_attachments(&mut messages);
            let state_version = core.livechat_state(key)?.state_version;
            Ok(LivechatMessages {
                messages,
                state_version,
            })
        };
        let first = read(self)?;
        if !first.messages.is_empty() || wait.is_zero() {
            return Ok(first);
        }
        // Attach first, then look again, so a change between the two is not missed.
        let mut rx = self.hub.subscribe(key);
        if self.livechat_state(key)?.state_version != since {
            return read(self);
        }
        let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Err(_) => return read(self), // waited long enough
                Ok(Ok(ConversationEvent::Livechat { .. }))
                | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                    return read(self);
                }
                Ok(Ok(_)) => continue,
                Ok(Err(_)) => return read(self),
            }
        }
    }

    /// The visitor's session that takes livechat writes (`waiting` or `active`), or `409`.
    pub(super) fn open_session(&self, key: &ConversationKey) -> Result<Session, CoreError> {
        match self.store.latest_session(key)? {
            Some(s) if matches!(s.status, LivechatStatus::Waiting | LivechatStatus::Active) => {
                Ok(s)
            }
            Some(_) => Err(CoreError::Conflict(
                "This livechat session is closed; request a new hand-over to talk to a person"
                    .into(),
            )),
            None => Err(CoreError::Conflict(
                "No livechat session: request a hand-over first (POST /api/v1/chat/livechat/handover)"
                    .into(),
            )),
        }
    }

    /// `POST /livechat/messages`: the visitor writes to the agent (waiting or active).
    /// With a `client_id` (the `Idempotency-Key`) sent before, the message already stored is
    /// the answer, and nothing is stored or announced again.
    pub fn visitor_livechat_message(
        &self,
        key: &ConversationKey,
        parts: Vec<Part>,
        client_id: Option<&str>,
    ) -> Result<(Message, u64), CoreError> {
        validation::client_id(client_id)?;
        let s = self.open_session(key)?;
        if let Some(id) = client_id
            && let Some((sent, _)) = self.store.by_client_id(key, id)?
        {
            let mut signed = [sent];
            self.sign_attachments(&mut signed);
            let [sent] = signed;
            return Ok((sent, s.state_version));
        }
        self.rate_limit(key, "livechat")?;
        let (message, version) = self.livechat_message(&s, Role::User, None, parts, client_id)?;
        self.emit_message(
            &s,
            if s.status == LivechatStatus::Waiting {
                crate::model::WebhookEvent::WaitingCustomerMessage
            } else {
                crate::model::WebhookEvent::CustomerMessage
            },
            &message,
        );
        self.hub
            .publish(key, ConversationEvent::VisitorMessage(message.clone()));
        self.hub.publish(
            key,
            ConversationEvent::Livechat {
                status: s.status,
                state_version: version,
            },
        );
        Ok((message, version))
    }

    /// `POST /livechat/typing`: only while `active`.
    pub fn visitor_typing(
        &self,
        key: &ConversationKey,
        is_typing: bool,
    ) -> Result<LivechatState, CoreError> {
        let s = self.open_session(key)?;
        if s.status != LivechatStatus::Active {
            return Err(CoreError::Conflict(
                "Typing is shared only while an agent is in the chat (status active)".into(),
            ));
        }
        let until = if is_typing {
            self.clock.unix() + TYPING_TTL.as_secs()
        } else {
            0
        };
        let changed = self
            .store
            .update_session(&s.id, &mut |s| {
                s.visitor_typing_until = until;
                Ok(())
            })?
            .ok_or_else(|| CoreError::NotFound("No such livechat session".into()))?;
        self.hub
            .publish(key, ConversationEvent::VisitorTyping { is_typing });
        self.publish_state(&changed);
        self.emit_session(
            &changed,
            if is_typing {
                crate::model::WebhookEvent::CustomerTypingStarted
            } else {
                crate::model::WebhookEvent::CustomerTypingStopped
            },
            serde_json::json!({}),
        );
        self.livechat_state(key)
    }

    /// `POST /livechat/close` by the visitor: idempotent; `404` when there never was a session.
    pub fn visitor_close(
        &self,
        key: &ConversationKey,
        reason: Option<String>,
    ) -> Result<LivechatSession, CoreError> {
        let s = self
            .store
            .latest_session(key)?
            .ok_or_else(|| CoreError::NotFound("No livechat session to close".into()))?;
        Ok(wire(&self.close_session(
            &s.id,
            ClosedBy::Visitor,
            None,
            reason,
        )?))
    }

    /// `POST /livechat/feedback`: once, while `feedback.status` is `pending`.
    pub fn livechat_feedback(
        &self,
        key: &ConversationKey,
        rating: u8,
        comment: Option<String>,
    ) -> Result<LivechatState, CoreError> {
        let comment = validation::rating(rating, "comment", comment)?;
        let s = self
            .store
            .latest_session(key)?
            .ok_or_else(|| CoreError::NotFound("No livechat session to rate".into()))?;
        let s = self
            .store
            .update_session(&s.id, &mut |s| match s.feedback_status {
                Some(FeedbackStatus::Pending) => {
                    s.feedback_status = Some(FeedbackStatus::Submitted);
                    s.feedback_rating = Some(rating);
                    s.feedback_comment = comment.clone();
                    Ok(())
                }
                Some(FeedbackStatus::Submitted) => Err(CoreError::Conflict(
                    "Feedback for this session was already submitted".into(),
                )),
                None => Err(CoreError::Conflict(
                    "Feedback opens when the livechat session closes".into(),
                )),
            })?
            .ok_or_else(|| CoreError::NotFound("No livechat session to rate".into()))?;
        self.publish_state(&s);
        self.emit_session(
            &s,
            crate::model::WebhookEvent::FeedbackSubmitted,
            serde_json::json!({ "feedback": { "rating": s.feedback_rating, "comment": s.feedback_comment } }),
        );
        self.livechat_state(key)
    }
}
