//! A socket's view of one session: the conversation's events (from the core's hub, whichever
//! protocol caused them) as `livechat:*` events, each carrying the session id.

use dgbot_protocol::webchatagent::{
    Chunk, LivechatMessage, Sender, ServerEvent, Status, StatusChange, Typing,
};
use dgbot_protocol::{Message, Part, Role, StreamEvent};

use super::session::{agent_of, status_of};
use super::sources::sources_of;
use dgbot_core::hub::ConversationEvent;
use dgbot_core::{ConversationKey, Core, CoreError};

pub struct Follower {
    pub key: ConversationKey,
    /// The status the socket was last told, so it hears of changes only.
    told: Status,
}

impl Follower {
    /// Follow `key`; the first event is its status now (the answer to `client:join`).
    pub fn start(core: &Core, key: ConversationKey) -> Result<(Follower, ServerEvent), CoreError> {
        let mut follower = Follower {
            key,
            told: Status::Inactive,
        };
        let status = follower.status_now(core)?;
        Ok((follower, status))
    }

    /// The session's status as `livechat:status`, with the agent when one is in the chat and
    /// the reason when the live chat closed with one.
    fn status_now(&mut self, core: &Core) -> Result<ServerEvent, CoreError> {
        let state = core.livechat_state(&self.key)?;
        let status = status_of(&state);
        self.told = status;
        Ok(ServerEvent::Status(StatusChange {
            session_id: self.key.visitor_id.clone(),
            mode: status.mode(),
            status,
            agent: match status {
                Status::Open => state.agent.as_ref().map(agent_of),
                _ => None,
            },
            reason: match status {
                Status::Closed => state.session.and_then(|s| s.close_reason),
                _ => None,
            },
        }))
    }

    /// `livechat:status` if the status changed since the socket was last told.
    fn status_change(&mut self, core: &Core) -> Option<ServerEvent> {
        let before = self.told;
        match self.status_now(core) {
            Ok(event) => (self.told != before).then_some(event),
            Err(e) => {
                tracing::warn!("webchatagent: livechat state: {e}");
                None
            }
        }
    }

    /// What the socket hears of `event`, if anything.
    pub fn on(&mut self, core: &Core, event: ConversationEvent) -> Option<ServerEvent> {
        let session_id = || self.key.visitor_id.clone();
        match event {
            ConversationEvent::Answer(StreamEvent::PartDelta(d)) => {
                d.delta.text().filter(|t| !t.is_empty()).map(|text| {
                    ServerEvent::Chunk(Chunk {
                        session_id: session_id(),
                        content: text.to_owned(),
                    })
                })
            }
            ConversationEvent::Answer(StreamEvent::Done(done)) => Some(self.message(&done.message)),
            ConversationEvent::AgentMessage(m) | ConversationEvent::VisitorMessage(m) => {
                Some(self.message(&m))
            }
            ConversationEvent::AgentTyping { is_typing } => {
                Some(self.typing(Sender::Agent, is_typing))
            }
            ConversationEvent::VisitorTyping { is_typing } => {
                Some(self.typing(Sender::User, is_typing))
            }
            ConversationEvent::Livechat { .. }
            | ConversationEvent::AgentJoined(_)
            | ConversationEvent::AgentLeft { .. } => self.status_change(core),
            ConversationEvent::AnswerStarted { .. }
            | ConversationEvent::Answer(_)
            | ConversationEvent::Tool(_)
            | ConversationEvent::HandoffOffered { .. } => None,
        }
    }

    /// After missing events (a slow socket): the status, if it changed meanwhile.
    pub fn resync(&mut self, core: &Core) -> Option<ServerEvent> {
        self.status_change(core)
    }

    fn typing(&self, sender: Sender, is_typing: bool) -> ServerEvent {
        ServerEvent::Typing(Typing {
            session_id: self.key.visitor_id.clone(),
            sender,
            is_typing,
        })
    }

    /// A stored or announced message as `livechat:message`.
    pub fn message(&self, m: &Message) -> ServerEvent {
        let sender = match m.role {
            Role::User => Sender::User,
            Role::Agent => Sender::Agent,
            Role::Assistant | Role::System => Sender::Bot,
        };
        let sources = (m.role == Role::Assistant).then(|| sources_of(m));
        ServerEvent::Message(LivechatMessage {
            session_id: self.key.visitor_id.clone(),
            sender,
            content: text_of(m),
            message_id: m.message_id.clone(),
            created_at: m.created_at.clone(),
            agent: m.author.as_ref().map(agent_of),
            sources,
        })
    }
}

/// A message as text: its visible text, with an attachment as its name and link.
pub fn text_of(m: &Message) -> String {
    let mut lines: Vec<String> = Vec::new();
    for part in &m.parts {
        match part {
            Part::File(f) => lines.push(
                [f.filename.as_deref(), f.url.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            other => lines.push(
                Message {
                    message_id: String::new(),
                    role: m.role,
                    parts: vec![other.clone()],
                    created_at: None,
                    author: None,
                    feedback: None,
                }
                .plain_text(),
            ),
        }
    }
    lines.retain(|l| !l.is_empty());
    lines.join("\n")
}
