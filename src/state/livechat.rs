//! Livechat in the widget (seed 002, "Visitor handover flow"): handing the visitor over,
//! following the session (a long poll of `GET /livechat/messages` with `GET /livechat/state`,
//! never overlapping, slower when the page is hidden, backing off on errors), sending to the
//! agent, typing, closing and feedback. The decisions live in the plain state machine of
//! `logic::livechat`; its views are `ui::livechat`.

use dgbot_protocol::Part;
use dgbot_protocol::api::InputMessage;
use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::livechat::HandoverRequest;
use dgbot_protocol::livechat::{
    CloseRequest, FeedbackRequest, LivechatMessageRequest, LivechatMessageResponse,
    LivechatSession, LivechatState, LivechatStatus, TypingRequest,
};
use dgbot_protocol::{Message, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::logic::errors::{TransportError, error_action, unsent_reason};
use crate::logic::i18n::{t, t_with};
use crate::logic::livechat::Update as StateUpdate;
use crate::logic::livechat::{Livechat as Machine, Route, ended_text};
use crate::services::livechat as livechat_api;
use crate::services::transport;
use crate::state::answer::Answering;
use crate::state::view_model::{Delivery, MessageVm, next_key};

#[derive(Clone, Copy)]
pub struct Livechat {
    /// The livechat session, as last polled (`logic::livechat` decides; this handle acts).
    pub state: RwSignal<Machine>,
    /// A poll loop is following the session (never two).
    following: StoredValue<bool>,
    /// The agent sees the visitor typing; bumped per keystroke to find the pause.
    typing_on: StoredValue<bool>,
    typing_generation: StoredValue<u32>,
    /// The handle below this one on the spine (see `state`): the transcript, and the host
    /// and the API client, are reached through it.
    pub answering: Answering,
}

/// The visitor's typing indicator stops after this long without a keystroke.
const TYPING_IDLE_MS: u64 = 3000;

/// What a visitor sees when the livechat chunk cannot be fetched.
fn chunk_failed() -> String {
    t("The chat could not load what it needs to reach a person. Check your connection and try again.").into()
}

type Boxed<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

// The livechat chunk (`split_livechat`): everything below that talks to the livechat API, and
// its views, load the first time a visitor asks for a person, sends to one, or comes back to
// a conversation (which may have a session in progress). A first-time visitor never loads it.

crate::lazy! { livechat:
    fn resume_in_chunk(livechat: Livechat) -> () { spawn_local(livechat.resume()) }
}

crate::lazy! { livechat:
    fn hand_over_in_chunk(livechat: Livechat, source: &'static str, part_id: Option<String>) -> Boxed<Result<(), String>> {
        Box::pin(async move {
            livechat.hand_over(source, part_id)
                .await
                .map(drop)
                .map_err(|e| e.message())
        })
    }
}

crate::lazy! { livechat:
    fn send_in_chunk(livechat: Livechat, user: MessageVm, parts: Vec<Part>) -> () {
        spawn_local(livechat.send(user, parts))
    }
}

crate::lazy! { livechat:
    fn typing_in_chunk(livechat: Livechat, is_typing: bool) -> () { livechat.post_typing(is_typing) }
}

impl Livechat {
    pub fn new(answering: Answering) -> Self {
        Livechat {
            state: RwSignal::new(Machine::default()),
            following: StoredValue::new(false),
            typing_on: StoredValue::new(false),
            typing_generation: StoredValue::new(0),
            answering,
        }
    }

    /// A returning visitor: load the livechat chunk and pick up a session in progress.
    pub fn resume_later(self) {
        spawn_local(async move {
            let _ = resume_in_chunk(self).await;
        });
    }

    /// Ask for a person (`source`: `manual_button` or `marker`).
    pub async fn request_person(
        self,
        source: &'static str,
        part_id: Option<String>,
    ) -> Result<(), String> {
        match hand_over_in_chunk(self, source, part_id).await {
            Ok(handing_over) => handing_over.await,
            Err(crate::Unloaded) => Err(chunk_failed()),
        }
    }

    /// The visitor's message to the agent; if the chunk cannot load, it stays, unsent.
    pub fn send_to_agent(self, user: MessageVm, parts: Vec<Part>) {
        spawn_local(async move {
            if send_in_chunk(self, user.clone(), parts).await.is_err() {
                user.delivery.set(Delivery::Unsent(chunk_failed()));
            }
        });
    }

    pub fn route(&self) -> Route {
        self.state.with_untracked(Machine::route)
    }

    /// Ask for a person (`POST /livechat/handover`), then follow the session.
    async fn hand_over(
        self,
        source: &str,
        part_id: Option<String>,
    ) -> Result<LivechatSession, TransportError> {
        let req = HandoverRequest {
            platform: "website".into(),
            source: source.into(),
            part_id,
        };
        let session: LivechatSession = self
            .answering
            .transcript
            .api
            .post("/livechat/handover", &req)
            .await?;
        self.refresh().await?;
        self.follow();
        Ok(session)
    }

    /// At start-up: the restored history is already shown; pick up a session in progress.
    async fn resume(self) {
        self.answering.transcript.messages.with_untracked(|m| {
            let ids: Vec<String> = m.iter().filter_map(|vm| vm.message_id.clone()).collect();
            self.state
                .update_untracked(|l| ids.iter().for_each(|id| l.saw(id)));
        });
        if self.refresh().await.is_ok() {
            self.follow();
        }
    }

    async fn refresh(self) -> Result<(), TransportError> {
        let state: LivechatState = self.answering.transcript.api.get("/livechat/state").await?;
        self.apply(state);
        Ok(())
    }

    /// Apply a state; tell the host page and the visitor what changed.
    fn apply(self, state: LivechatState) {
        let updates = self
            .state
            .try_update(|l| l.apply(state))
            .unwrap_or_default();
        for update in updates {
            match update {
                StateUpdate::Status(status) => {
                    self.answering
                        .transcript
                        .host
                        .post(FrameAction::LivechatState { status });
                    if status == LivechatStatus::Waiting {
                        self.answering
                            .transcript
                            .announcement
                            .set(t("You are waiting for a person to join the chat.").into());
                    }
                }
                StateUpdate::AgentJoined(agent) => {
                    self.answering
                        .transcript
                        .announcement
                        .set(t_with("{} joined the chat.", &[&agent.display_name]));
                    self.answering
                        .transcript
                        .host
                        .post(FrameAction::AgentJoined {
                            agent_name: agent.display_name,
                        });
                }
                StateUpdate::AgentTyping(_) => {}
                StateUpdate::Ended { agent, by, reason } => {
                    self.answering.transcript.announcement.set(ended_text(
                        agent.as_ref(),
                        by,
                        reason.as_deref(),
                    ));
                    self.answering.transcript.host.post(FrameAction::AgentLeft {
                        agent_name: agent.map(|a| a.display_name),
                    });
                    self.typing_stopped();
                }
                StateUpdate::FeedbackPending => {}
            }
        }
        self.answering.transcript.grew();
    }

    /// Follow the session while it is open or waits for feedback: one poll at a time.
    pub fn follow(self) {
        if self.following.get_value() {
            return;
        }
        self.following.set_value(true);
        spawn_local(async move {
            let mut failures = 0;
            loop {
                let visible = !document().hidden();
                let Some(delay) = self
                    .state
                    .with_untracked(|l| l.poll_delay_ms(visible, failures))
                else {
                    break;
                };
                if delay > 0 {
                    transport::sleep_ms(delay).await;
                }
                let (cursor, wait, since) = self
                    .state
                    .with_untracked(|l| (l.cursor.clone(), l.wait_secs(visible), l.state_version));
                let polled =
                    match livechat_api::poll(&self.answering.transcript.api, cursor, wait, since)
                        .await
                    {
                        Ok(m) => {
                            self.show(m.messages);
                            self.refresh().await
                        }
                        Err(e) => Err(e),
                    };
                failures = if polled.is_ok() { 0 } else { failures + 1 };
            }
            self.following.set_value(false);
        });
    }

    /// Polled livechat messages into the transcript, each once.
    fn show(self, messages: Vec<Message>) {
        let new = self
            .state
            .try_update(|l| l.merge(messages))
            .unwrap_or_default();
        for m in new {
            // The visitor's own message, still on its way (the poll overtook its POST): the
            // bubble is there already, and the POST's answer marks it seen.
            let in_flight = m.role == Role::User
                && self.answering.transcript.messages.with_untracked(|list| {
                    list.iter().any(|vm| {
                        vm.role == Role::User
                            && vm.delivery.get_untracked() == Delivery::Pending
                            && vm.text() == m.plain_text()
                    })
                });
            if in_flight {
                continue;
            }
            if m.role == Role::Agent {
                let name = m
                    .author
                    .as_ref()
                    .map(|a| a.display_name.clone())
                    .unwrap_or_default();
                let content = m.plain_text();
                self.answering
                    .transcript
                    .announcement
                    .set(format!("{name}: {content}"));
                self.answering
                    .transcript
                    .host
                    .post(FrameAction::AgentMessage {
                        content,
                        agent_name: name,
                    });
            }
            let vm = MessageVm::from_message(next_key(), &m);
            self.answering
                .transcript
                .messages
                .update(|list| list.push(vm));
        }
        self.answering.transcript.grew();
    }

    /// Send the visitor's message to the agent (`POST /livechat/messages`, with its
    /// `Idempotency-Key`); a failure keeps it, marked unsent, with "Send again".
    async fn send(self, user: MessageVm, parts: Vec<Part>) {
        self.typing_stopped();
        let body = LivechatMessageRequest {
            message: InputMessage { parts },
            context: self.answering.transcript.host.context(),
        };
        let sent: Result<LivechatMessageResponse, _> = self
            .answering
            .transcript
            .api
            .post_keyed("/livechat/messages", &body, user.client_id.as_deref())
            .await;
        match sent {
            Ok(res) => {
                self.state
                    .update_untracked(|l| l.saw(&res.message.message_id));
                user.delivery.set(Delivery::Done);
            }
            Err(e) => {
                self.answering.transcript.host.post(error_action(&e));
                user.delivery.set(Delivery::Unsent(unsent_reason(&e)));
            }
        }
        self.answering.transcript.grew();
    }

    /// A keystroke in the composer: while a person is in the chat they see "typing…" until a
    /// pause, a send or a blur.
    pub fn typed(self) {
        if self.route() != Route::Livechat {
            return;
        }
        if !self.typing_on.get_value() {
            self.typing_on.set_value(true);
            self.send_typing(true);
        }
        let generation = self.typing_generation.get_value() + 1;
        self.typing_generation.set_value(generation);
        set_timeout(
            move || {
                if self.typing_generation.get_value() == generation {
                    self.typing_stopped();
                }
            },
            std::time::Duration::from_millis(TYPING_IDLE_MS),
        );
    }

    pub fn typing_stopped(self) {
        if self.typing_on.get_value() {
            self.typing_on.set_value(false);
            self.send_typing(false);
        }
    }

    fn send_typing(self, is_typing: bool) {
        spawn_local(async move {
            let _ = typing_in_chunk(self, is_typing).await;
        });
    }

    fn post_typing(self, is_typing: bool) {
        spawn_local(async move {
            let r: Result<LivechatState, _> = self
                .answering
                .transcript
                .api
                .post("/livechat/typing", &TypingRequest { is_typing })
                .await;
            if let Err(e) = r {
                leptos::logging::warn!("dgbot: typing not sent: {}", e.message());
            }
        });
    }

    pub async fn end(self) -> Result<(), TransportError> {
        let _: LivechatSession = self
            .answering
            .transcript
            .api
            .post("/livechat/close", &CloseRequest { reason: None })
            .await?;
        self.refresh().await?;
        self.follow();
        Ok(())
    }

    pub async fn feedback(self, rating: u8, comment: Option<String>) -> Result<(), TransportError> {
        let state: LivechatState = self
            .answering
            .transcript
            .api
            .post("/livechat/feedback", &FeedbackRequest { rating, comment })
            .await?;
        self.apply(state);
        Ok(())
    }
}
