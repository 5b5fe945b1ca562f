//! The widget's livechat state machine (seed 002, "Visitor handover flow", "Livechat state
//! model"): plain Rust, no browser, tested natively. It decides where the visitor's message
//! goes ([`Livechat::route`]), what a polled state changed ([`Livechat::apply`]), which polled
//! messages are new ([`Livechat::merge`]) and how soon to poll again ([`Livechat::poll_delay_ms`]).
//! `state::livechat` does the talking, `ui::livechat` the drawing.

use crate::logic::i18n::{t, t_with};
use std::collections::HashSet;

use dgbot_protocol::Message;
use dgbot_protocol::api::LivechatConfig;
use dgbot_protocol::livechat::{
    ClosedBy, FeedbackState, FeedbackStatus, LivechatSession, LivechatState, LivechatStatus,
};
use dgbot_protocol::message::Author;

/// Where a visitor message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST /api/v1/chat/messages`, answered by the assistant (also while waiting).
    Assistant,
    /// `POST /api/v1/chat/livechat/messages`, read by the agent (once `active`).
    Livechat,
}

/// What a state poll changed, in the order to tell the visitor and the host page.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    Status(LivechatStatus),
    AgentJoined(Author),
    AgentTyping(bool),
    /// The session closed; who closed it and why.
    Ended {
        agent: Option<Author>,
        by: Option<ClosedBy>,
        reason: Option<String>,
    },
    FeedbackPending,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Livechat {
    pub status: Option<LivechatStatus>,
    pub session: Option<LivechatSession>,
    pub agent: Option<Author>,
    pub agent_typing: bool,
    pub state_version: u64,
    pub feedback: Option<FeedbackState>,
    /// The newest message id the visitor has (the `after` of the next messages poll).
    pub cursor: Option<String>,
    seen: HashSet<String>,
}

/// The longest pause between polls after errors.
pub const MAX_BACKOFF_MS: u32 = 30_000;
/// Between polls while the page is hidden.
pub const HIDDEN_POLL_MS: u32 = 15_000;
/// How long the server may hold a messages poll open while the visitor watches.
pub const LONG_POLL_SECS: u32 = 25;

impl Livechat {
    pub fn status(&self) -> LivechatStatus {
        self.status.unwrap_or(LivechatStatus::Inactive)
    }

    /// Waiting for or talking to a person.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status(),
            LivechatStatus::Waiting | LivechatStatus::Active
        )
    }

    pub fn route(&self) -> Route {
        if self.status() == LivechatStatus::Active {
            Route::Livechat
        } else {
            Route::Assistant
        }
    }

    /// Whether the visitor may ask for a person now.
    pub fn can_hand_over(&self, config: &LivechatConfig) -> bool {
        config.is_live() && !self.is_open()
    }

    pub fn feedback_pending(&self) -> bool {
        self.feedback
            .as_ref()
            .is_some_and(|f| f.status == FeedbackStatus::Pending)
    }

    /// Apply a polled (or answered) state. An older `state_version` than the one applied is
    /// stale (a slow response overtaken by a newer one) and changes nothing.
    pub fn apply(&mut self, s: LivechatState) -> Vec<Update> {
        if self.status.is_some() && s.state_version < self.state_version {
            return vec![];
        }
        let mut updates = vec![];
        let was = self.status;
        if was != Some(s.status) {
            updates.push(Update::Status(s.status));
        }
        if s.status == LivechatStatus::Active
            && s.agent.is_some()
            && (was != Some(LivechatStatus::Active) || self.agent != s.agent)
        {
            updates.push(Update::AgentJoined(s.agent.clone().expect("checked")));
        }
        if s.agent_typing != self.agent_typing {
            updates.push(Update::AgentTyping(s.agent_typing));
        }
        if s.status == LivechatStatus::Closed && was.is_some_and(|w| w != LivechatStatus::Closed) {
            updates.push(Update::Ended {
                agent: s.agent.clone().or_else(|| self.agent.clone()),
                by: s.session.as_ref().and_then(|x| x.closed_by),
                reason: s.session.as_ref().and_then(|x| x.close_reason.clone()),
            });
        }
        let pending = |f: &Option<FeedbackState>| {
            f.as_ref()
                .is_some_and(|f| f.status == FeedbackStatus::Pending)
        };
        if pending(&s.feedback) && !pending(&self.feedback) {
            updates.push(Update::FeedbackPending);
        }
        self.status = Some(s.status);
        self.session = s.session;
        self.agent = s.agent.or_else(|| self.agent.take());
        self.agent_typing = s.agent_typing;
        self.state_version = s.state_version;
        self.feedback = s.feedback;
        updates
    }

    /// The messages not seen before, oldest first; moves the cursor to the newest.
    pub fn merge(&mut self, messages: Vec<Message>) -> Vec<Message> {
        if let Some(last) = messages.last() {
            self.cursor = Some(last.message_id.clone());
        }
        messages
            .into_iter()
            .filter(|m| self.seen.insert(m.message_id.clone()))
            .collect()
    }

    /// The visitor already has this message (sent by them, or restored from history).
    pub fn saw(&mut self, message_id: &str) {
        self.seen.insert(message_id.to_owned());
        self.cursor = Some(message_id.to_owned());
    }

    /// How long to wait before the next poll; `None`: stop following (no open session: a
    /// closed session changes only by what the visitor does). Polls never overlap: the next is
    /// scheduled after the last returns.
    pub fn poll_delay_ms(&self, visible: bool, failures: u32) -> Option<u32> {
        if !self.is_open() {
            return None;
        }
        if failures > 0 {
            let backoff = 1000u32.saturating_mul(1 << failures.min(6).saturating_sub(1));
            return Some(backoff.min(MAX_BACKOFF_MS));
        }
        Some(if visible { 0 } else { HIDDEN_POLL_MS })
    }

    /// How long the server may hold the next messages poll: long while the visitor is watching
    /// an open session, not at all otherwise.
    pub fn wait_secs(&self, visible: bool) -> u32 {
        if visible && self.is_open() {
            LONG_POLL_SECS
        } else {
            0
        }
    }
}

/// Why no one can take the chat, in words.
pub fn offline_reason(config: &LivechatConfig) -> &'static str {
    match config.availability_reason.as_deref() {
        Some("outside_working_hours") => {
            t("No one from our team is in the chat outside our opening hours.")
        }
        _ => t("No one from our team is available in the chat right now."),
    }
}

/// Who ended the chat, in words.
pub fn ended_text(agent: Option<&Author>, by: Option<ClosedBy>, reason: Option<&str>) -> String {
    let who = match (by, agent) {
        (Some(ClosedBy::Visitor), _) => t("You ended the chat").into(),
        (Some(ClosedBy::Agent), Some(a)) => t_with("{} ended the chat", &[&a.display_name]),
        (Some(ClosedBy::Agent), None) => t("Our team ended the chat").into(),
        _ => t("The chat ended").into(),
    };
    match reason.filter(|r| !r.trim().is_empty()) {
        Some(r) => format!("{who}: {r}"),
        None => format!("{who}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Author {
        Author {
            agent_id: "agent-alice".into(),
            display_name: "Alice".into(),
            avatar_url: None,
        }
    }

    fn state(status: LivechatStatus, version: u64) -> LivechatState {
        LivechatState {
            status,
            session: None,
            agent: None,
            agent_typing: false,
            state_version: version,
            updated_at: None,
            feedback: None,
        }
    }

    fn message(id: &str) -> Message {
        Message {
            message_id: id.into(),
            role: dgbot_protocol::Role::Agent,
            parts: vec![],
            created_at: None,
            author: Some(alice()),
            feedback: None,
        }
    }

    #[test]
    fn messages_go_to_the_assistant_until_a_person_is_there() {
        let mut l = Livechat::default();
        assert_eq!(l.route(), Route::Assistant);
        l.apply(state(LivechatStatus::Waiting, 1));
        assert_eq!(
            l.route(),
            Route::Assistant,
            "while waiting the assistant helps"
        );
        let joined = l.apply(LivechatState {
            agent: Some(alice()),
            ..state(LivechatStatus::Active, 2)
        });
        assert_eq!(
            joined,
            [
                Update::Status(LivechatStatus::Active),
                Update::AgentJoined(alice())
            ]
        );
        assert_eq!(l.route(), Route::Livechat);
        l.apply(state(LivechatStatus::Closed, 5));
        assert_eq!(l.route(), Route::Assistant, "back with the assistant");
    }

    #[test]
    fn stale_states_change_nothing_and_typing_and_the_end_are_reported() {
        let mut l = Livechat::default();
        l.apply(LivechatState {
            agent: Some(alice()),
            ..state(LivechatStatus::Active, 4)
        });
        assert!(
            l.apply(state(LivechatStatus::Waiting, 3)).is_empty(),
            "stale"
        );
        assert_eq!(l.status(), LivechatStatus::Active);
        let typing = l.apply(LivechatState {
            agent: Some(alice()),
            agent_typing: true,
            ..state(LivechatStatus::Active, 5)
        });
        assert_eq!(typing, [Update::AgentTyping(true)]);
        let ended = l.apply(LivechatState {
            session: Some(LivechatSession {
                livechat_session_id: "s".into(),
                status: LivechatStatus::Closed,
                platform: "website".into(),
                language: "english".into(),
                requested_at: "t".into(),
                closed_at: Some("t".into()),
                closed_by: Some(ClosedBy::Agent),
                closed_by_agent_id: Some("agent-alice".into()),
                close_reason: Some("Resolved".into()),
            }),
            feedback: Some(FeedbackState {
                status: FeedbackStatus::Pending,
                rating: None,
                comment: None,
            }),
            ..state(LivechatStatus::Closed, 6)
        });
        assert_eq!(
            ended,
            [
                Update::Status(LivechatStatus::Closed),
                Update::AgentTyping(false),
                Update::Ended {
                    agent: Some(alice()),
                    by: Some(ClosedBy::Agent),
                    reason: Some("Resolved".into())
                },
                Update::FeedbackPending
            ]
        );
        assert!(l.feedback_pending());
        assert_eq!(
            ended_text(Some(&alice()), Some(ClosedBy::Agent), Some("Resolved")),
            "Alice ended the chat: Resolved"
        );
        assert_eq!(
            ended_text(None, Some(ClosedBy::Visitor), None),
            "You ended the chat."
        );
    }

    #[test]
    fn merging_keeps_each_message_once() {
        let mut l = Livechat::default();
        l.saw("m1"); // restored from history
        let new = l.merge(vec![message("m1"), message("m2")]);
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].message_id, "m2");
        assert!(l.merge(vec![message("m2")]).is_empty(), "a repeated poll");
        assert_eq!(l.cursor.as_deref(), Some("m2"));
    }

    #[test]
    fn polling_is_fast_while_watched_slow_when_hidden_and_backs_off() {
        let mut l = Livechat::default();
        assert_eq!(l.poll_delay_ms(true, 0), None, "nothing to follow");
        l.apply(state(LivechatStatus::Waiting, 1));
        assert_eq!(l.poll_delay_ms(true, 0), Some(0));
        assert_eq!(l.wait_secs(true), LONG_POLL_SECS);
        assert_eq!(l.poll_delay_ms(false, 0), Some(HIDDEN_POLL_MS));
        assert_eq!(l.wait_secs(false), 0);
        let backoff: Vec<_> = (1..8).map(|f| l.poll_delay_ms(true, f).unwrap()).collect();
        assert_eq!(backoff, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        l.apply(LivechatState {
            feedback: Some(FeedbackState {
                status: FeedbackStatus::Pending,
                rating: None,
                comment: None,
            }),
            ..state(LivechatStatus::Closed, 2)
        });
        assert_eq!(
            l.poll_delay_ms(true, 0),
            None,
            "closed: only the visitor changes it now"
        );
    }

    #[test]
    fn offline_reasons_in_words() {
        let mut c = LivechatConfig {
            enabled: true,
            configured: true,
            availability_status: "offline".into(),
            availability_reason: Some("outside_working_hours".into()),
            attachments_enabled: false,
            max_attachment_size_bytes: 0,
        };
        assert!(offline_reason(&c).contains("opening hours"));
        c.availability_reason = Some("manual_override".into());
        assert!(offline_reason(&c).contains("right now"));
        assert!(!Livechat::default().can_hand_over(&c));
        c.availability_status = "live".into();
        assert!(Livechat::default().can_hand_over(&c));
    }
}
