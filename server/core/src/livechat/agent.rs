//! Livechat for the agent system, with a token scoped to one session: the context, writing,
//! typing, closing. Its first message or typing update assigns the agent (one per session; a
//! second agent gets a conflict).

use dgbot_protocol::livechat::{
    AgentContext, ClosedBy, LivechatSession, LivechatState, LivechatStatus, VisitorInfo,
};
use dgbot_protocol::message::Author;
use dgbot_protocol::{Message, Part, Role};

use super::*;
use crate::hub::ConversationEvent;
use crate::model::Session;
use crate::{ConversationKey, Core, CoreError};

impl Core {
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
        self.with_feedback(&s.key, &mut transcript)?;
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
    pub(super) fn assign(
        &self,
        s: &Session,
        agent_id: &str,
    ) -> Result<(Session, Author, bool), CoreError> {
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
    pub(super) fn known_agent(&self, s: &Session, agent_id: &str) -> Result<Author, CoreError> {
        label("agent_id", agent_id)?;
        self.store.agent(&s.key.chatbot_id, agent_id)?.ok_or_else(|| {
            CoreError::invalid(
                "agent_id",
                "No agent profile with this id: create it with PUT /api/v1/chat/livechat/agents/{agent_id}",
            )
        })
    }

    pub(super) fn announce_join(&self, key: &ConversationKey, agent: &Author, joined: bool) {
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
}
