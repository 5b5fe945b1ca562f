//! Livechat in the widget (seed 002, "Visitor handover flow"): handing the visitor over,
//! following the session (a long poll of `GET /livechat/messages` with `GET /livechat/state`,
//! never overlapping, slower when the page is hidden, backing off on errors), sending to the
//! agent, typing, closing and feedback, and the views for all of it. The decisions live in the
//! plain state machine of `livechat.rs`.

use dgbot_protocol::Part;
use dgbot_protocol::api::HandoverRequest;
use dgbot_protocol::api::InputMessage;
use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::livechat::{
    CloseRequest, FeedbackRequest, LivechatMessageRequest, LivechatMessageResponse,
    LivechatMessages, LivechatSession, LivechatState, LivechatStatus, TypingRequest,
};
use dgbot_protocol::message::{FilePart, IMAGE_MIME_TYPES, ImagePart};
use dgbot_protocol::{Message, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::{chunk_view, star_buttons};
use crate::chat::Chat;
use crate::i18n::{t, t_with};
use crate::livechat::Update as StateUpdate;
use crate::livechat::{Livechat, Route, ended_text, offline_reason};
use crate::markers::{picked_files, read_base64};
use crate::transport::{self, TransportError};
use crate::view_model::{Delivery, MessageVm, next_key};

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
    fn resume_in_chunk(chat: Chat) -> () { spawn_local(chat.resume_livechat()) }
}

crate::lazy! { livechat:
    fn hand_over_in_chunk(chat: Chat, source: &'static str, part_id: Option<String>) -> Boxed<Result<(), String>> {
        Box::pin(async move {
            chat.hand_over(source, part_id)
                .await
                .map(drop)
                .map_err(|e| e.message())
        })
    }
}

crate::lazy! { livechat:
    fn send_in_chunk(chat: Chat, user: MessageVm, parts: Vec<Part>) -> () {
        spawn_local(chat.livechat_send(user, parts))
    }
}

crate::lazy! { livechat:
    fn typing_in_chunk(chat: Chat, is_typing: bool) -> () { chat.post_typing(is_typing) }
}

crate::lazy! { livechat:
    fn status_in_chunk() -> AnyView { view! { <LivechatStatusView /> }.into_any() }
}

crate::lazy! { livechat:
    fn end_in_chunk() -> AnyView { view! { <EndLivechat /> }.into_any() }
}

crate::lazy! { livechat:
    fn attach_in_chunk() -> AnyView { view! { <AttachForAgent /> }.into_any() }
}

impl Chat {
    /// A returning visitor: load the livechat chunk and pick up a session in progress.
    pub fn resume_livechat_later(self) {
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
        self.livechat.with_untracked(Livechat::route)
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
        let session: LivechatSession = self.api.post("/livechat/handover", &req).await?;
        self.refresh_livechat().await?;
        self.follow_livechat();
        Ok(session)
    }

    /// At start-up: the restored history is already shown; pick up a session in progress.
    async fn resume_livechat(self) {
        self.messages.with_untracked(|m| {
            let ids: Vec<String> = m.iter().filter_map(|vm| vm.message_id.clone()).collect();
            self.livechat
                .update_untracked(|l| ids.iter().for_each(|id| l.saw(id)));
        });
        if self.refresh_livechat().await.is_ok() {
            self.follow_livechat();
        }
    }

    async fn refresh_livechat(self) -> Result<(), TransportError> {
        let state: LivechatState = self.api.get("/livechat/state").await?;
        self.apply_livechat(state);
        Ok(())
    }

    /// Apply a state; tell the host page and the visitor what changed.
    fn apply_livechat(self, state: LivechatState) {
        let updates = self
            .livechat
            .try_update(|l| l.apply(state))
            .unwrap_or_default();
        for update in updates {
            match update {
                StateUpdate::Status(status) => {
                    self.post(FrameAction::LivechatState { status });
                    if status == LivechatStatus::Waiting {
                        self.announcement
                            .set(t("You are waiting for a person to join the chat.").into());
                    }
                }
                StateUpdate::AgentJoined(agent) => {
                    self.announcement
                        .set(t_with("{} joined the chat.", &[&agent.display_name]));
                    self.post(FrameAction::AgentJoined {
                        agent_name: agent.display_name,
                    });
                }
                StateUpdate::AgentTyping(_) => {}
                StateUpdate::Ended { agent, by, reason } => {
                    self.announcement
                        .set(ended_text(agent.as_ref(), by, reason.as_deref()));
                    self.post(FrameAction::AgentLeft {
                        agent_name: agent.map(|a| a.display_name),
                    });
                    self.typing_stopped();
                }
                StateUpdate::FeedbackPending => {}
            }
        }
        self.grew();
    }

    /// Follow the session while it is open or waits for feedback: one poll at a time.
    pub fn follow_livechat(self) {
        if self.following.get_value() {
            return;
        }
        self.following.set_value(true);
        spawn_local(async move {
            let mut failures = 0;
            loop {
                let visible = !document().hidden();
                let Some(delay) = self
                    .livechat
                    .with_untracked(|l| l.poll_delay_ms(visible, failures))
                else {
                    break;
                };
                if delay > 0 {
                    transport::sleep_ms(delay).await;
                }
                let (cursor, wait, since) = self
                    .livechat
                    .with_untracked(|l| (l.cursor.clone(), l.wait_secs(visible), l.state_version));
                // `since`: a change made after the last state read (an agent closing the chat
                // just then) answers at once rather than when the long poll runs out.
                let path = match cursor {
                    Some(c) => format!(
                        "/livechat/messages?wait={wait}&since={since}&after={}",
                        js_sys::encode_uri_component(&c)
                    ),
                    None => format!("/livechat/messages?wait={wait}&since={since}"),
                };
                let polled = match self.api.get::<LivechatMessages>(&path).await {
                    Ok(m) => {
                        self.show_livechat(m.messages);
                        self.refresh_livechat().await
                    }
                    Err(e) => Err(e),
                };
                failures = if polled.is_ok() { 0 } else { failures + 1 };
            }
            self.following.set_value(false);
        });
    }

    /// Polled livechat messages into the transcript, each once.
    fn show_livechat(self, messages: Vec<Message>) {
        let new = self
            .livechat
            .try_update(|l| l.merge(messages))
            .unwrap_or_default();
        for m in new {
            // The visitor's own message, still on its way (the poll overtook its POST): the
            // bubble is there already, and the POST's answer marks it seen.
            let in_flight = m.role == Role::User
                && self.messages.with_untracked(|list| {
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
                self.announcement.set(format!("{name}: {content}"));
                self.post(FrameAction::AgentMessage {
                    content,
                    agent_name: name,
                });
            }
            let vm = MessageVm::from_message(next_key(), &m);
            self.messages.update(|list| list.push(vm));
        }
        self.grew();
    }

    /// Send the visitor's message to the agent (`POST /livechat/messages`, with its
    /// `Idempotency-Key`); a failure keeps it, marked unsent, with "Send again".
    pub(crate) async fn livechat_send(self, user: MessageVm, parts: Vec<Part>) {
        self.typing_stopped();
        let body = LivechatMessageRequest {
            message: InputMessage { parts },
            context: self.context(),
        };
        let sent: Result<LivechatMessageResponse, _> = self
            .api
            .post_keyed("/livechat/messages", &body, user.client_id.as_deref())
            .await;
        match sent {
            Ok(res) => {
                self.livechat
                    .update_untracked(|l| l.saw(&res.message.message_id));
                user.delivery.set(Delivery::Done);
            }
            Err(e) => {
                self.post(crate::chat::error_action(&e));
                user.delivery
                    .set(Delivery::Unsent(crate::chat::unsent_reason(&e)));
            }
        }
        self.grew();
    }

    /// A fresh signed link for attachment `id` (its old one expired): the livechat messages
    /// again, where every attachment's link is new.
    pub async fn fresh_attachment_url(self, id: &str) -> Option<String> {
        let all: LivechatMessages = self.api.get("/livechat/messages").await.ok()?;
        all.messages
            .into_iter()
            .flat_map(|m| m.parts)
            .find_map(|p| match p {
                Part::File(f) if f.attachment_id.as_deref() == Some(id) => f.url,
                Part::Image(i) if i.attachment_id.as_deref() == Some(id) => i.url,
                _ => None,
            })
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
                .api
                .post("/livechat/typing", &TypingRequest { is_typing })
                .await;
            if let Err(e) = r {
                leptos::logging::warn!("dgbot: typing not sent: {}", e.message());
            }
        });
    }

    pub async fn end_livechat(self) -> Result<(), TransportError> {
        let _: LivechatSession = self
            .api
            .post("/livechat/close", &CloseRequest { reason: None })
            .await?;
        self.refresh_livechat().await?;
        self.follow_livechat();
        Ok(())
    }

    pub async fn livechat_feedback(
        self,
        rating: u8,
        comment: Option<String>,
    ) -> Result<(), TransportError> {
        let state: LivechatState = self
            .api
            .post("/livechat/feedback", &FeedbackRequest { rating, comment })
            .await?;
        self.apply_livechat(state);
        Ok(())
    }

    /// A file the visitor picked for the agent: checked against the chat's limit, read, and
    /// kept for the next message (an `image` part for pictures, a `file` part otherwise).
    pub fn attach(self, ev: leptos::ev::Event) {
        let Some(file) = picked_files(&ev).into_iter().next() else {
            return;
        };
        let max = self.config.with_untracked(|c| {
            c.as_ref()
                .map_or(0, |c| c.livechat.max_attachment_size_bytes)
        });
        if file.size() as u64 > max {
            self.attach_error.set(Some(t_with(
                "{} is larger than {} MB",
                &[&file.name(), &(max / 1_048_576).to_string()],
            )));
            return;
        }
        self.attach_error.set(None);
        spawn_local(async move {
            match read_base64(&file).await {
                Ok(data) => {
                    let (mime, filename) = (file.type_(), file.name());
                    let part = if IMAGE_MIME_TYPES.contains(&mime.as_str()) {
                        Part::Image(ImagePart {
                            data: Some(data),
                            mime: Some(mime),
                            filename: Some(filename),
                            ..Default::default()
                        })
                    } else {
                        Part::File(FilePart {
                            data: Some(data),
                            mime: Some(if mime.is_empty() {
                                "application/octet-stream".into()
                            } else {
                                mime
                            }),
                            filename: Some(filename),
                            ..Default::default()
                        })
                    };
                    self.pending_attachment.set(Some(part));
                    self.composer_focus.update(|n| *n += 1);
                }
                Err(message) => self.attach_error.set(Some(message)),
            }
        });
    }
}

/// Where the livechat's views go: each is mounted (and its chunk fetched) once it has
/// something to show, and stays.
pub fn livechat_status_slot(chat: Chat) -> impl IntoView {
    let ever = Memo::new(move |before: Option<&bool>| {
        before.copied().unwrap_or(false)
            || chat
                .livechat
                .with(|l| l.status() != LivechatStatus::Inactive || l.feedback_pending())
    });
    move || {
        ever.get()
            .then(|| chunk_view(Box::new(|| Box::pin(status_in_chunk()))))
    }
}

pub fn end_livechat_slot(chat: Chat) -> impl IntoView {
    let ever = Memo::new(move |before: Option<&bool>| {
        before.copied().unwrap_or(false) || chat.livechat.with(|l| l.is_open())
    });
    move || {
        ever.get()
            .then(|| chunk_view(Box::new(|| Box::pin(end_in_chunk()))))
    }
}

pub fn attach_slot(chat: Chat) -> impl IntoView {
    let ever = Memo::new(move |before: Option<&bool>| {
        before.copied().unwrap_or(false) || chat.livechat.with(|l| l.route() == Route::Livechat)
    });
    move || {
        ever.get()
            .then(|| chunk_view(Box::new(|| Box::pin(attach_in_chunk()))))
    }
}

/// The livechat's place in the transcript: waiting, who is there, or how it ended, and the
/// rating when it is asked for.
#[component]
pub fn LivechatStatusView() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let status = move || chat.livechat.with(|l| l.status);
    view! {
        {move || {
            let (text, testid) = chat.livechat.with(|l| match l.status() {
                LivechatStatus::Waiting => (
                    t("Waiting for a person to join. You can keep asking the assistant meanwhile.").into(),
                    "livechat-status",
                ),
                LivechatStatus::Active => (
                    match &l.agent {
                        Some(a) => t_with("You're chatting with {}.", &[&a.display_name]),
                        None => t("You're chatting with a person.").into(),
                    },
                    "livechat-status",
                ),
                LivechatStatus::Closed => (
                    ended_text(
                        l.agent.as_ref(),
                        l.session.as_ref().and_then(|s| s.closed_by),
                        l.session.as_ref().and_then(|s| s.close_reason.as_deref()),
                    ),
                    "livechat-closed",
                ),
                LivechatStatus::Inactive => (String::new(), ""),
            });
            status().filter(|s| *s != LivechatStatus::Inactive).map(|s| view! {
                <div class="livechat-note" role="status" data-testid="livechat-status" data-status=s.as_str()>
                    <p data-testid=testid>{text}</p>
                </div>
            })
        }}
        <Show when=move || chat.livechat.with(|l| l.agent_typing && l.route() == Route::Livechat)>
            <div class="msg agent" data-testid="agent-typing">
                <div class="bubble typing-note">
                    {move || chat.livechat.with(|l| match &l.agent {
                        Some(a) => t_with("{} is typing…", &[&a.display_name]),
                        None => t("Our team is typing…").into(),
                    })}
                </div>
            </div>
        </Show>
        <LivechatFeedback />
    }
}

#[component]
fn LivechatFeedback() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let rating = RwSignal::new(0u8);
    let comment = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let thanked = RwSignal::new(false);
    let send = move |_| {
        busy.set(true);
        let comment = Some(comment.get_untracked()).filter(|c| !c.trim().is_empty());
        spawn_local(async move {
            match chat
                .livechat_feedback(rating.get_untracked(), comment)
                .await
            {
                Ok(()) => thanked.set(true),
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    view! {
        <Show when=move || chat.livechat.with(|l| l.feedback_pending())>
            <div class="tool-panel" role="group" aria-label=t("Rate the chat with our team") data-testid="livechat-feedback">
                <p class="tool-title">{t("How was your chat with our team?")}</p>
                <div class="stars">{star_buttons(rating, "lc-star")}</div>
                <textarea rows="2" aria-label=t("Anything to add? (optional)") placeholder=t("Anything to add? (optional)")
                    data-testid="lc-comment" prop:value=move || comment.get()
                    on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
                <div class="tool-actions">
                    <button type="button" class="button primary" data-testid="lc-send" on:click=send
                        prop:disabled=move || rating.get() == 0 || busy.get()>{t("Send rating")}</button>
                </div>
                <p class="field-error" role="alert">{move || error.get()}</p>
            </div>
        </Show>
        <Show when=move || thanked.get()>
            <p class="livechat-note" role="status" data-testid="livechat-feedback-thanks">
                {t("Thank you! You're back with the assistant.")}
            </p>
        </Show>
    }
}

/// The header's close button while a person is in the chat, with a confirmation.
#[component]
pub fn EndLivechat() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let confirming = RwSignal::new(false);
    let end = move |_| {
        confirming.set(false);
        spawn_local(async move {
            if let Err(e) = chat.end_livechat().await {
                chat.announcement
                    .set(t_with("The chat could not be ended: {}", &[&e.message()]));
            }
        });
    };
    view! {
        <Show when=move || chat.livechat.with(|l| l.is_open())>
            <button type="button" class="button secondary small" data-testid="livechat-close"
                aria-expanded=move || confirming.get().to_string()
                on:click=move |_| confirming.update(|c| *c = !*c)>{t("End chat")}</button>
        </Show>
        <Show when=move || confirming.get()>
            <div class="confirm" role="group" aria-label=t("End the chat with our team?")>
                <span>{t("End the chat with our team?")}</span>
                <button type="button" class="button danger small" data-testid="livechat-close-confirm" on:click=end>{t("End chat")}</button>
                <button type="button" class="button secondary small" on:click=move |_| confirming.set(false)>{t("Keep chatting")}</button>
            </div>
        </Show>
    }
}

/// "Talk to a person" under the composer, when livechat is live and no session is open.
#[component]
pub fn TalkToPerson() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let note = RwSignal::new(None::<String>);
    let live = move || {
        chat.config.with(|c| {
            c.as_ref()
                .is_some_and(|c| chat.livechat.with(|l| l.can_hand_over(&c.livechat)))
        })
    };
    let request = move |_| {
        spawn_local(async move {
            if let Err(e) = chat.request_person("manual_button", None).await {
                note.set(Some(t_with("We couldn't reach a person: {}", &[&e])));
            }
        });
    };
    view! {
        <Show when=live>
            <button type="button" class="link-button" data-testid="talk-to-person" on:click=request>{t("Talk to a person")}</button>
            " · "
        </Show>
        {move || note.get().map(|n| view! { <span role="alert">{n}</span> " · " })}
    }
}

/// Why no one can take the chat, for the `request_human_agent` marker.
pub fn offline_note(chat: Chat) -> String {
    chat.config
        .with_untracked(|c| {
            c.as_ref().map_or(
                t("No one from our team is available in the chat right now."),
                |c| offline_reason(&c.livechat),
            )
        })
        .to_owned()
}

/// The composer's attach button while a person is in the chat and the chatbot takes files.
#[component]
pub fn AttachForAgent() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let allowed = move || {
        chat.livechat.with(|l| l.route() == Route::Livechat)
            && chat
                .config
                .with(|c| c.as_ref().is_some_and(|c| c.livechat.attachments_enabled))
    };
    view! {
        <Show when=allowed>
            <label class="icon-button attach" aria-label=t("Attach a file for our team")>
                <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16 7l-7.5 7.5a2 2 0 0 0 2.8 2.8L19 9.6a4 4 0 0 0-5.7-5.7L5.6 11.6a6 6 0 0 0 8.5 8.5L20 14.2" /></svg>
                <input class="visually-hidden" type="file" data-testid="livechat-attach"
                    on:change=move |ev| chat.attach(ev) />
            </label>
        </Show>
        {move || chat.attach_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
    }
}
