//! Livechat, seed 002 ("Livechat end-to-end", "Livechat state model"): the hand-over from the
//! assistant to a person, for its three actors. The visitor requests a hand-over, waits (the
//! assistant keeps answering), writes to the agent, types, closes and rates. The agent system,
//! with a token scoped to one session, reads the context, writes, types and closes; its first
//! message or typing update assigns the agent. The setup backend, with the API key, keeps agent
//! profiles and settings, lists sessions and mints session tokens.
//!
//! `inactive -> waiting -> active -> closed`; every change raises `state_version`.

pub mod attachments;


use std::time::Duration;

use dgbot_protocol::api::LivechatConfig;
use dgbot_protocol::livechat::{
    AgentContext, ClosedBy, FeedbackState, FeedbackStatus, HandoverRequest, LivechatMessages,
    LivechatSession, LivechatSettings, LivechatState, LivechatStatus, SessionSummary, SessionToken,
    VisitorInfo,
};
use dgbot_protocol::message::Author;
use dgbot_protocol::{Message, Part, Role};
use sha2::{Digest, Sha256};

use crate::core::hub::ConversationEvent;
use crate::core::{ConversationKey, Core, CoreError, validation};
use crate::model::ids;
use crate::model::Session;

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
    /// The chatbot's livechat settings: those set through the API, else the configuration file's.
    pub fn livechat_settings(&self, chatbot_id: &str) -> Result<LivechatSettings, CoreError> {
        if let Some(s) = self.store.livechat_settings(chatbot_id)? {
            return Ok(s);
        }
        Ok(self
            .chatbot(chatbot_id)
            .and_then(|c| c.livechat.clone())
            .unwrap_or_default())
    }

    pub fn put_livechat_settings(
        &self,
        chatbot_id: &str,
        settings: LivechatSettings,
    ) -> Result<LivechatSettings, CoreError> {
        crate::model::livechat::check(&settings).map_err(CoreError::Validation)?;
        self.store.put_livechat_settings(chatbot_id, &settings)?;
        Ok(settings)
    }

    /// The `livechat` block of `GET /api/v1/chat/config`, computed now.
    pub fn livechat_config(&self, chatbot_id: &str) -> Result<LivechatConfig, CoreError> {
        let configured = self
            .chatbot(chatbot_id)
            .is_some_and(|c| c.livechat.is_some())
            || self.store.livechat_settings(chatbot_id)?.is_some();
        let s = self.livechat_settings(chatbot_id)?;
        let (live, reason) = crate::model::livechat::availability(&s, self.clock.now());
        Ok(LivechatConfig {
            enabled: s.enabled,
            configured,
            availability_status: if live { "live" } else { "offline" }.into(),
            availability_reason: Some(reason.into()),
            attachments_enabled: s.attachments_enabled,
            max_attachment_size_bytes: s.max_attachment_size_bytes,
        })
    }

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
    fn open_session(&self, key: &ConversationKey) -> Result<Session, CoreError> {
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
            self.emit_session(&s, crate::model::WebhookEvent::SessionClosed, serde_json::json!({}));
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

    // ----- the agent system (a session token) -----

    /// A new agent token for session `id`, valid for `livechat_token_ttl`.
    pub fn issue_session_token(&self, id: &str) -> Result<SessionToken, CoreError> {
        let token = format!("lcs_{}", ids::random_hex(24));
        let expires = self.clock.unix() + self.settings.livechat_token_ttl.as_secs();
        self.store
            .add_session_token(&token_hash(&token), id, expires)?;
        Ok(SessionToken {
            token,
            expires_at: ids::rfc3339(expires),
        })
    }

    /// The session an agent token is scoped to: `401` when unknown or expired.
    pub fn session_for_token(&self, token: &str) -> Result<Session, CoreError> {
        let (id, expires) = self
            .store
            .session_token(&token_hash(token))?
            .ok_or_else(|| CoreError::Unauthorized("Invalid livechat session token".into()))?;
        if expires <= self.clock.unix() {
            return Err(CoreError::Unauthorized(
                "Livechat session token expired; get a new one (POST /api/v1/chat/livechat/sessions/{id}/token)".into(),
            ));
        }
        self.store
            .session(&id)?
            .ok_or_else(|| CoreError::Unauthorized("The session of this token was deleted".into()))
    }

    /// `GET /livechat/agent/context`: the session, the visitor, session values and the whole
    /// transcript.
    pub fn agent_context(&self, s: &Session) -> Result<AgentContext, CoreError> {
        let mut transcript = self.store.messages(&s.key)?;
        self.sign_attachments(&mut transcript);
        let identity = self.store.identity_of(&s.key)?;
        let values = self.session_values(&s.key);
        Ok(AgentContext {
            chatbot_id: s.key.chatbot_id.clone(),
            livechat_session: wire(s),
            state_version: s.state_version,
            agent: self.agent_profile(s)?,
            visitor: VisitorInfo {
                id: s.key.visitor_id.clone(),
                user_id: identity.as_ref().map(|(i, _)| i.user_id.clone()),
                name: identity.as_ref().and_then(|(i, _)| i.name.clone()),
                email: identity.as_ref().and_then(|(i, _)| i.email.clone()),
                verified: identity.is_some_and(|(_, v)| v),
            },
            visitor_typing: s.status == LivechatStatus::Active
                && self.typing(s.visitor_typing_until),
            session_values: values,
            transcript,
        })
    }

    /// Assign `agent_id` to the session unless another agent has it (`409 conflict`); the
    /// first assignment makes it `active`. Atomic: of two agents racing, exactly one wins.
    /// Returns the session, the agent, and whether this call assigned them (the caller then
    /// announces it, after its own write, so listeners see the message the join came with).
    fn assign(&self, s: &Session, agent_id: &str) -> Result<(Session, Author, bool), CoreError> {
        let agent = self.known_agent(s, agent_id)?;
        let mut joined = false;
        let s = self
            .store
            .update_session(&s.id, &mut |s| {
                if s.status == LivechatStatus::Closed {
                    return Err(CoreError::Conflict(
                        "This livechat session is closed".into(),
                    ));
                }
                match &s.agent_id {
                    Some(other) if other != agent_id => Err(CoreError::Conflict(format!(
                        "Another agent ({other}) is assigned to this session"
                    ))),
                    Some(_) => Ok(()),
                    None => {
                        joined = true;
                        s.agent_id = Some(agent_id.to_owned());
                        s.status = LivechatStatus::Active;
                        Ok(())
                    }
                }
            })?
            .ok_or_else(|| CoreError::NotFound("No such livechat session".into()))?;
        Ok((s, agent, joined))
    }

    /// The profile of `agent_id`: `422` naming `agent_id` when there is none.
    fn known_agent(&self, s: &Session, agent_id: &str) -> Result<Author, CoreError> {
        label("agent_id", agent_id)?;
        self.store.agent(&s.key.chatbot_id, agent_id)?.ok_or_else(|| {
            CoreError::invalid(
                "agent_id",
                "No agent profile with this id: create it with PUT /api/v1/chat/livechat/agents/{agent_id}",
            )
        })
    }

    fn announce_join(&self, key: &ConversationKey, agent: &Author, joined: bool) {
        if joined {
            self.hub
                .publish(key, ConversationEvent::AgentJoined(agent.clone()));
        }
    }

    /// `POST /livechat/agent/messages`.
    pub fn agent_message(
        &self,
        s: &Session,
        agent_id: &str,
        parts: Vec<Part>,
    ) -> Result<(Message, u64), CoreError> {
        let (s, agent, joined) = self.assign(s, agent_id)?;
        let written = self.livechat_message(&s, Role::Agent, Some(agent.clone()), parts, None);
        self.announce_join(&s.key, &agent, joined);
        let (message, version) = match written {
            Ok(w) => w,
            Err(e) => {
                if joined {
                    self.publish_state(&s); // assigned, though the message was refused
                }
                return Err(e);
            }
        };
        self.hub
            .publish(&s.key, ConversationEvent::AgentMessage(message.clone()));
        self.hub.publish(
            &s.key,
            ConversationEvent::Livechat {
                status: s.status,
                state_version: version,
            },
        );
        Ok((message, version))
    }

    /// `POST /livechat/agent/typing`.
    pub fn agent_typing(
        &self,
        s: &Session,
        agent_id: &str,
        is_typing: bool,
    ) -> Result<LivechatState, CoreError> {
        let (s, agent, joined) = self.assign(s, agent_id)?;
        self.announce_join(&s.key, &agent, joined);
        let until = if is_typing {
            self.clock.unix() + TYPING_TTL.as_secs()
        } else {
            0
        };
        let s = self
            .store
            .update_session(&s.id, &mut |s| {
                s.agent_typing_until = until;
                Ok(())
            })?
            .ok_or_else(|| CoreError::NotFound("No such livechat session".into()))?;
        self.hub
            .publish(&s.key, ConversationEvent::AgentTyping { is_typing });
        self.publish_state(&s);
        self.livechat_state(&s.key)
    }

    /// `POST /livechat/agent/close`: only the assigned agent (or any agent while waiting).
    pub fn agent_close(
        &self,
        s: &Session,
        agent_id: &str,
        reason: Option<String>,
    ) -> Result<LivechatSession, CoreError> {
        self.known_agent(s, agent_id)?;
        if let Some(other) = &s.agent_id
            && other != agent_id
            && s.status != LivechatStatus::Closed
        {
            return Err(CoreError::Conflict(format!(
                "Another agent ({other}) is assigned to this session"
            )));
        }
        Ok(wire(&self.close_session(
            &s.id,
            ClosedBy::Agent,
            Some(agent_id),
            reason,
        )?))
    }

    // ----- the setup backend (API key) -----

    /// `PUT /livechat/agents/{agent_id}`.
    pub fn put_agent(
        &self,
        chatbot_id: &str,
        agent_id: &str,
        display_name: &str,
        avatar_url: Option<String>,
    ) -> Result<Author, CoreError> {
        label("agent_id", agent_id)?;
        // An id is a name tools and people write (a path segment, a log line, a webhook field):
        // no path tricks, control characters, markup or spaces.
        if agent_id.starts_with('.')
            || !agent_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
        {
            return Err(CoreError::invalid(
                "agent_id",
                "Use letters, digits, '-', '_', '.' and '@', not starting with '.'",
            ));
        }
        label("display_name", display_name)?;
        if let Some(url) = &avatar_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(CoreError::invalid("avatar_url", "Use an http(s) URL"));
        }
        let agent = Author {
            agent_id: agent_id.to_owned(),
            display_name: display_name.trim().to_owned(),
            avatar_url,
        };
        self.store.put_agent(chatbot_id, &agent)?;
        Ok(agent)
    }

    /// `GET /livechat/sessions?status=&turn=`.
    pub fn list_sessions(
        &self,
        chatbot_id: &str,
        status: Option<&str>,
        turn_filter: Option<&str>,
    ) -> Result<Vec<SessionSummary>, CoreError> {
        let status = match status {
            None | Some("") => None,
            Some(s) => Some(
                LivechatStatus::parse(s)
                    .filter(|s| *s != LivechatStatus::Inactive)
                    .ok_or_else(|| CoreError::invalid("status", "Use waiting, active or closed"))?,
            ),
        };
        if let Some(t) = turn_filter
            && !matches!(t, "agent" | "visitor")
        {
            return Err(CoreError::invalid("turn", "Use agent or visitor"));
        }
        let sessions = self.store.sessions(chatbot_id, status)?;
        Ok(sessions
            .iter()
            .filter(|s| turn_filter.is_none_or(|t| turn(s) == Some(t)))
            .map(|s| SessionSummary {
                session: wire(s),
                visitor_id: s.key.visitor_id.clone(),
                agent_id: s.agent_id.clone(),
                turn: turn(s).map(str::to_owned),
                state_version: s.state_version,
                updated_at: s.updated_at.clone(),
            })
            .collect())
    }

    /// The session `id` of this chatbot, for the setup backend (`404` otherwise).
    pub fn session_of_chatbot(&self, chatbot_id: &str, id: &str) -> Result<Session, CoreError> {
        self.store
            .session(id)?
            .filter(|s| s.key.chatbot_id == chatbot_id)
            .ok_or_else(|| CoreError::NotFound("No such livechat session".into()))
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
