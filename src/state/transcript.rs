//! The transcript as the page shows it: the log's messages (their reactive mirror, updated at
//! O(delta): `view_model`), the plain transcript behind them (`dgbot_protocol::Transcript`),
//! the log following the answer, the polite announcement of what finished, and the history,
//! restored at start-up and paged back as the visitor scrolls up.

use dgbot_protocol::Message;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::services::api::Api;
use crate::state::host::Host;
use crate::state::view_model::{MessageVm, next_key};

#[derive(Clone, Copy)]
pub struct Transcript {
    pub messages: RwSignal<Vec<MessageVm>>,
    /// The plain transcript: finished messages and the answer's draft.
    pub(crate) data: StoredValue<dgbot_protocol::Transcript>,
    /// Bumped whenever the log's content grows; the log scrolls on it.
    pub grew: RwSignal<u64>,
    /// The log is at its end and follows the answer (false while the visitor reads back up).
    pub at_end: StoredValue<bool>,
    /// The last finished answer as text, for the polite live region.
    pub announcement: RwSignal<String>,
    /// Older history than the log shows exists on the server (`GET /messages?before=`).
    pub has_earlier: RwSignal<bool>,
    pub loading_earlier: RwSignal<bool>,
    /// The API client: visitor id, token, renewal.
    pub api: Api,
    pub host: Host,
}

impl Transcript {
    pub fn new(api: Api, host: Host) -> Self {
        Transcript {
            messages: RwSignal::new(vec![]),
            data: StoredValue::new(dgbot_protocol::Transcript::new()),
            grew: RwSignal::new(0),
            at_end: StoredValue::new(true),
            announcement: RwSignal::new(String::new()),
            has_earlier: RwSignal::new(false),
            loading_earlier: RwSignal::new(false),
            api,
            host,
        }
    }

    /// The log's content grew: it follows, if it was at its end.
    pub fn grew(&self) {
        crate::state::bump(self.grew);
    }

    /// Forget the conversation (the visitor deleted it, or is now someone else).
    pub(crate) fn clear(&self) {
        self.messages.set(vec![]);
        self.has_earlier.set(false);
        self.data.set_value(dgbot_protocol::Transcript::new());
    }

    /// "Ask again" and "edit": the answer `answer_id` and the question it answered (the visitor's
    /// message before it) leave the log, with what followed them, but for the new question
    /// `keep`, which replaces them.
    pub(crate) fn forget_replaced(&self, answer_id: &str, keep: u64) {
        let mut gone = vec![];
        self.messages.update(|m| {
            let Some(answer) = m
                .iter()
                .position(|vm| vm.message_id.as_deref() == Some(answer_id))
            else {
                return;
            };
            let from = m[..answer]
                .iter()
                .rposition(|vm| vm.role == dgbot_protocol::Role::User)
                .unwrap_or(answer);
            let mut at = 0;
            m.retain(|vm| {
                at += 1;
                let stays = at <= from || vm.key == keep;
                if !stays && let Some(id) = &vm.message_id {
                    gone.push(id.clone());
                }
                stays
            });
        });
        self.data.update_value(|t| t.remove(&gone));
    }

    /// Add `reply` to the log if it is not there yet.
    pub(crate) fn show_reply(&self, reply: &MessageVm) {
        if !self
            .messages
            .with_untracked(|m| m.iter().any(|vm| vm.key == reply.key))
        {
            self.messages.update(|m| m.push(reply.clone()));
        }
    }

    /// The page of history before the first message shown; `shown` runs once it is in the
    /// log (to keep the visitor's place). One page at a time; a failure leaves the button.
    pub fn load_earlier(self, shown: impl FnOnce() + 'static) {
        let first = self
            .data
            .with_value(|t| t.messages().first().map(|m| m.message_id.clone()));
        let Some(first) = first.filter(|_| !self.loading_earlier.get_untracked()) else {
            return;
        };
        self.loading_earlier.set(true);
        spawn_local(async move {
            match history_chunk(self, Some(first), Box::new(shown)).await {
                Ok(page) => page.await,
                Err(crate::Unloaded) => {
                    leptos::logging::warn!("dgbot: could not load earlier messages")
                }
            }
            self.loading_earlier.set(false);
        });
    }

    /// A page of the visitor's conversation, before message `before` or the latest (after a
    /// reload, or on another page of the site; older pages come as the visitor scrolls up);
    /// `shown` runs once it is in the log. From the `text` chunk ([`history_chunk`]).
    async fn show_history_page(self, before: Option<String>, shown: Box<dyn FnOnce()>) {
        let latest = before.is_none();
        match crate::services::history::page(&self.api, before.as_deref()).await {
            Ok(page) => {
                self.has_earlier.set(page.has_more);
                self.show_history(page.messages);
                shown();
                if latest {
                    self.grew(); // the log goes to its end; an earlier page keeps the place
                }
            }
            Err(e) => leptos::logging::warn!(
                "dgbot: could not load the conversation history: {}",
                e.message()
            ),
        }
    }

    /// Restored messages go before everything in the log. Host events of restored parts
    /// already fired when they first arrived.
    fn show_history(self, messages: Vec<Message>) {
        if messages.is_empty() {
            return;
        }
        for part in messages.iter().flat_map(|m| &m.parts) {
            if let Some(id) = part.part_id() {
                for kind in ["custom", "form", "recommendation", "handoff"] {
                    self.host.first_sight(&format!("{kind}:{id}"));
                }
            }
        }
        let restored: Vec<MessageVm> = messages
            .iter()
            .map(|m| MessageVm::from_message(next_key(), m))
            .collect();
        self.data.update_value(|t| t.prepend(messages));
        self.messages.update(|m| {
            let newer = std::mem::replace(m, restored);
            m.extend(newer);
        });
    }
}

crate::lazy! { text:
    /// [`Transcript::show_history_page`], from the `text` chunk: decoding a history (every part
    /// type) and drawing its answers come with the code that asks and draws new ones.
    pub(crate) fn history_chunk(
        transcript: Transcript,
        before: Option<String>,
        shown: Box<dyn FnOnce()>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
        Box::pin(transcript.show_history_page(before, shown))
    }
}
