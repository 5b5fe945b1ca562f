//! The per-conversation hub: whoever is attached to a conversation (a visitor's long poll, a
//! WebSocket, an agent console) hears what happens in it, whichever adapter caused it.
//!
//! Behind the [`Hub`] trait so that a shared pub/sub (Postgres `LISTEN/NOTIFY`, Redis, NATS)
//! can back it when one server is not enough; [`InProcessHub`] is the default. Events are
//! notifications: the store stays the source of truth, so a subscriber that lags or misses one
//! re-reads the store (as the livechat long poll does).

use std::collections::HashMap;
use std::sync::Mutex;

use dgbot_protocol::livechat::LivechatStatus;
use dgbot_protocol::message::Author;
use dgbot_protocol::{Message, StreamEvent};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::ConversationKey;

/// Serializable (externally tagged, as messages decode their parts from the raw JSON) for a
/// hub that carries events between processes (`store::hub`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationEvent {
    /// An assistant answer starts streaming; its events follow as [`Self::Answer`].
    AnswerStarted {
        message_id: String,
    },
    /// One event of an assistant answer as it streams.
    Answer(#[serde(with = "stream_event")] StreamEvent),
    /// The assistant uses a tool while it answers.
    Tool(crate::responder::ToolEvent),
    /// The assistant offered a hand-over to a person (a `request_human_agent` part).
    HandoffOffered {
        part_id: String,
    },
    /// The livechat session changed: status, assignment, typing, messages or feedback.
    Livechat {
        status: LivechatStatus,
        state_version: u64,
    },
    /// An agent took the session.
    AgentJoined(Author),
    AgentMessage(Message),
    AgentTyping {
        is_typing: bool,
    },
    /// The session closed while an agent had it (by either side).
    AgentLeft {
        agent: Option<Author>,
        reason: Option<String>,
    },
    /// The visitor wrote in livechat.
    VisitorMessage(Message),
    VisitorTyping {
        is_typing: bool,
    },
}

/// A stream event as its SSE name and data (the protocol's own encoding).
mod stream_event {
    use dgbot_protocol::StreamEvent;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(ev: &StreamEvent, s: S) -> Result<S::Ok, S::Error> {
        (ev.name(), ev.data()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<StreamEvent, D::Error> {
        let (name, data) = <(String, String)>::deserialize(d)?;
        StreamEvent::decode(&name, &data)
            .map_err(serde::de::Error::custom)?
            .ok_or_else(|| serde::de::Error::custom(format!("unknown stream event {name}")))
    }
}

pub trait Hub: Send + Sync {
    /// Tell everyone attached to `key`; nobody attached costs nothing.
    fn publish(&self, key: &ConversationKey, event: ConversationEvent);
    /// Attach to `key`; events published after this call arrive in order.
    fn subscribe(&self, key: &ConversationKey) -> broadcast::Receiver<ConversationEvent>;
    /// Whether anyone may be attached to `key` (so a costly event need not be built for no one).
    fn is_watched(&self, _key: &ConversationKey) -> bool {
        true
    }
}

/// A `tokio::sync::broadcast` channel per conversation with listeners, in this process.
#[derive(Default)]
pub struct InProcessHub {
    topics: Mutex<HashMap<ConversationKey, broadcast::Sender<ConversationEvent>>>,
}

/// Events a slow subscriber may fall behind by before it skips ahead (and re-reads the store).
const BACKLOG: usize = 64;

impl Hub for InProcessHub {
    fn publish(&self, key: &ConversationKey, event: ConversationEvent) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = topics.get(key) {
            if tx.receiver_count() == 0 {
                topics.remove(key);
            } else {
                let _ = tx.send(event);
            }
        }
    }

    fn is_watched(&self, key: &ConversationKey) -> bool {
        self.topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(key)
    }

    fn subscribe(&self, key: &ConversationKey) -> broadcast::Receiver<ConversationEvent> {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if topics.len() > 1024 && topics.len().is_power_of_two() {
            topics.retain(|_, tx| tx.receiver_count() > 0);
        }
        topics
            .entry(key.clone())
            .or_insert_with(|| broadcast::channel(BACKLOG).0)
            .subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_subscribers_of_the_conversation_hear_it() {
        let hub = InProcessHub::default();
        let (a, b) = (
            ConversationKey::new("bot", "v_a"),
            ConversationKey::new("bot", "v_b"),
        );
        hub.publish(&a, ConversationEvent::AgentTyping { is_typing: true }); // nobody: dropped
        let mut rx_a = hub.subscribe(&a);
        let mut rx_b = hub.subscribe(&b);
        hub.publish(&a, ConversationEvent::VisitorTyping { is_typing: true });
        assert_eq!(
            rx_a.recv().await.unwrap(),
            ConversationEvent::VisitorTyping { is_typing: true }
        );
        assert!(rx_b.try_recv().is_err());
        drop(rx_a);
        hub.publish(&a, ConversationEvent::VisitorTyping { is_typing: false });
        assert!(
            !hub.topics.lock().unwrap().contains_key(&a),
            "no listeners: forgotten"
        );
    }
}
