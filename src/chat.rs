//! The chat controller: the session with the API, the transcript, and the send → stream →
//! render loop. Provided as context; components call it and read its signals.
//!
//! Nothing the visitor typed is ever dropped: a message the server did not take stays in the
//! log marked unsent, with a resend action; a cut-off answer keeps what arrived, marked.

use std::collections::HashSet;

use dgbot_protocol::api::{
    ActionRequest, ActionResponse, ChatConfig, ClassificationResponse, DeleteResponse, HistoryPage,
    IdentifyRequest, IdentifyResponse, InputMessage, MessageContext, RateRequest, RateResponse,
    SendMessageRequest,
};
use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::message::ImagePart;
use dgbot_protocol::transcript::Change;
use dgbot_protocol::{Message, Part, Role, StreamEvent, Transcript};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortController;

use crate::api::{API, Api};
use crate::bridge::HostBridge;
use crate::i18n::{t, t_with};
use crate::livechat::{Livechat, Route};
use crate::send::{Attempts, Next};
use crate::transport::{self, TransportError};
use crate::view_model::{Delivery, MessageVm, next_key};

/// The `chat_type` of analytics events until the config says otherwise (seed 002's value).
const DEFAULT_CHAT_TYPE: &str = "shopping_assistant";

/// How long after start-up the popup messages appear.
const POPUP_DELAY_MS: u64 = 2500;

/// Stream events are applied to the page at most this often (the first token, `done` and
/// `error` at once). Rendering every 2-ms event costs the browser a frame's style, layout and
/// paint each time; ten updates a second still read as a reply being written, and cost the page
/// about 30 % less than twenty (602-686 ms against 919 ms for 5,000 events: BENCHMARKS.md).
const BATCH_MS: u64 = 100;

/// The same while nobody watches the answer grow: the visitor has scrolled up the log to read,
/// or the page is hidden. Four updates a second keep the host's `stream_chunk` events moving.
const BATCH_AWAY_MS: u64 = 250;

/// Stream events waiting for the next batch.
#[derive(Clone, Default)]
struct Batch {
    queue: std::rc::Rc<std::cell::RefCell<Vec<StreamEvent>>>,
    scheduled: std::rc::Rc<std::cell::Cell<bool>>,
}

/// What the loader put in the iframe URL: `?chatbot_id=…&host=…`, and for the inline embed
/// (`chatbotinline.js`) `&inline=1`, with `&welcome=…` from `inlineWelcomeMessage`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaunchParams {
    pub chatbot_id: String,
    pub host: Option<String>,
    /// Rendered in the page rather than as a floating window: no close or size buttons.
    pub inline: bool,
    /// Shown above the input before the first question (inline only).
    pub inline_welcome: Option<String>,
}

impl LaunchParams {
    pub fn from_query(query: &str) -> Self {
        let mut p = LaunchParams::default();
        for pair in query.trim_start_matches('?').split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = js_sys::decode_uri_component(&v.replace('+', " "))
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            match k {
                "chatbot_id" => p.chatbot_id = v,
                "host" => p.host = Some(v),
                "inline" => p.inline = v == "1",
                "welcome" if !v.trim().is_empty() => p.inline_welcome = Some(v),
                _ => {}
            }
        }
        p
    }
}

/// Why the chat cannot start (shown instead of the composer).
#[derive(Clone, Debug, PartialEq)]
pub struct StartupError(pub String);

#[derive(Clone, Copy)]
pub struct Chat {
    pub params: StoredValue<LaunchParams>,
    bridge: StoredValue<HostBridge>,
    /// The API client: visitor id, token, renewal.
    pub api: Api,
    pub config: RwSignal<Option<ChatConfig>>,
    pub startup_error: RwSignal<Option<StartupError>>,
    pub messages: RwSignal<Vec<MessageVm>>,
    transcript: StoredValue<Transcript>,
    /// An answer is streaming (the composer shows the stop button).
    pub streaming: RwSignal<bool>,
    /// Waiting for the first token of the answer (the typing indicator).
    pub waiting: RwSignal<bool>,
    /// What the assistant is looking up meanwhile (a custom API action's label).
    pub looking_up: RwSignal<Option<String>>,
    abort: StoredValue<Option<AbortController>, LocalStorage>,
    /// Bumped whenever the log's content grows; the log scrolls on it.
    pub grew: RwSignal<u64>,
    /// The log is at its end and follows the answer (false while the visitor reads back up).
    pub at_end: StoredValue<bool>,
    /// Bumped to move focus to the composer.
    pub composer_focus: RwSignal<u64>,
    /// An image the visitor picked for a `request_image_upload`; sent with the next message.
    pub pending_image: RwSignal<Option<ImagePart>>,
    /// The last finished answer as text, for the polite live region.
    pub announcement: RwSignal<String>,
    /// Part ids whose once-only effects (host events) already happened.
    announced: StoredValue<HashSet<String>>,
    /// The host page's address as the loader last told it (`context.page` of messages).
    pub page: StoredValue<Option<String>>,
    /// When the message now being answered went out (`Date.now()`).
    sent_at: StoredValue<Option<f64>>,
    /// The chat is closed and shows its popup messages above the launcher (`peekChat`).
    pub peek: RwSignal<bool>,
    /// The host page has opened the chat at least once (no popup after that).
    pub opened: StoredValue<bool>,
    /// Start-up has finished (token and config loaded, or failed): host commands run now.
    pub started: RwSignal<bool>,
    /// Older history than the log shows exists on the server (`GET /messages?before=`).
    pub has_earlier: RwSignal<bool>,
    pub loading_earlier: RwSignal<bool>,
    /// The livechat session, as last polled (`livechat.rs` decides; `livechat_view.rs` acts).
    pub livechat: RwSignal<Livechat>,
    /// A poll loop is following the session (never two).
    pub(crate) following: StoredValue<bool>,
    /// The agent sees the visitor typing; bumped per keystroke to find the pause.
    pub(crate) typing_on: StoredValue<bool>,
    pub(crate) typing_generation: StoredValue<u32>,
    /// A file for the agent, sent with the next livechat message.
    pub pending_attachment: RwSignal<Option<Part>>,
    pub attach_error: RwSignal<Option<String>>,
}

/// The host's `error` event for a failed request.
pub(crate) fn error_action(e: &TransportError) -> FrameAction {
    let (code, retryable) = match e {
        TransportError::Api { error, status, .. } => {
            (error.error.code.as_str(), *status == 429 || *status >= 500)
        }
        TransportError::Network(_) => ("network", true),
        TransportError::Aborted => ("aborted", false),
    };
    FrameAction::Error {
        code: code.into(),
        message: e.message(),
        retryable,
    }
}

/// What to tell the visitor about a message that did not go out.
/// `GET /messages`: the latest page of history, or the page before message `before`.
fn history_path(before: Option<&str>) -> String {
    match before {
        Some(id) => format!(
            "/messages?limit={HISTORY_PAGE}&before={}",
            js_sys::encode_uri_component(id)
        ),
        None => format!("/messages?limit={HISTORY_PAGE}"),
    }
}

/// Messages per page of history: the log renders what it has, so it stays short until the
/// visitor scrolls back (1,000 messages open as fast as 50: BENCHMARKS.md).
const HISTORY_PAGE: usize = 50;

pub(crate) fn unsent_reason(e: &TransportError) -> String {
    match e {
        TransportError::Api { error, .. } => match &error.error.params {
            Some(params) if !params.is_empty() => params
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            _ => error.error.message.clone(),
        },
        other => other.message(),
    }
}

/// A fresh id for a visitor message (its `Idempotency-Key`).
fn new_client_id() -> String {
    let r = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
    format!("c_{:08x}{:08x}{:08x}", r(), r(), js_sys::Date::now() as u32)
}

impl Chat {
    pub fn new(params: LaunchParams) -> Self {
        let bridge = StoredValue::new(HostBridge::new(params.host.clone()));
        Chat {
            api: Api::new(params.chatbot_id.clone(), bridge),
            params: StoredValue::new(params),
            bridge,
            config: RwSignal::new(None),
            startup_error: RwSignal::new(None),
            messages: RwSignal::new(vec![]),
            transcript: StoredValue::new(Transcript::new()),
            streaming: RwSignal::new(false),
            waiting: RwSignal::new(false),
            looking_up: RwSignal::new(None),
            abort: StoredValue::new_local(None),
            grew: RwSignal::new(0),
            at_end: StoredValue::new(true),
            composer_focus: RwSignal::new(0),
            pending_image: RwSignal::new(None),
            announcement: RwSignal::new(String::new()),
            announced: StoredValue::new(HashSet::new()),
            page: StoredValue::new(None),
            started: RwSignal::new(false),
            has_earlier: RwSignal::new(false),
            loading_earlier: RwSignal::new(false),
            livechat: RwSignal::new(Livechat::default()),
            following: StoredValue::new(false),
            typing_on: StoredValue::new(false),
            typing_generation: StoredValue::new(0),
            pending_attachment: RwSignal::new(None),
            attach_error: RwSignal::new(None),
            peek: RwSignal::new(false),
            opened: StoredValue::new(false),
            sent_at: StoredValue::new(None),
        }
    }

    /// True the first time it is called for `part_id` (host events fire once per part, even
    /// when `done` redraws a message).
    pub fn first_sight(&self, part_id: &str) -> bool {
        self.announced
            .try_update_value(|seen| seen.insert(part_id.to_owned()))
            .unwrap_or(false)
    }

    /// The chatbot's language, for number and currency formatting.
    pub fn language(&self) -> String {
        self.config.with_untracked(|c| {
            c.as_ref()
                .map(|c| c.language.clone())
                .unwrap_or_else(|| "en".into())
        })
    }

    /// POST `body` to the chat API at `path` with the visitor token (renewed once on 401).
    pub async fn api_post<B: serde::Serialize, R: serde::de::DeserializeOwned>(
        self,
        path: &str,
        body: &B,
    ) -> Result<R, TransportError> {
        self.api.post(path, body).await
    }

    /// Rate the conversation 1–5 (`POST /api/v1/chat/rate`).
    pub async fn rate(
        self,
        rating: u8,
        feedback: Option<String>,
    ) -> Result<RateResponse, TransportError> {
        self.api_post("/rate", &RateRequest { rating, feedback })
            .await
    }

    /// Delete everything the server keeps about this visitor (`DELETE /api/v1/chat`), then start
    /// afresh as a new visitor.
    pub async fn delete_my_data(self) -> Result<(), TransportError> {
        if self.streaming.get_untracked() {
            self.stop();
        }
        let _: DeleteResponse = self.api.delete("").await?;
        self.api.keep_visitor(None);
        self.api.drop_token();
        self.messages.set(vec![]);
        self.has_earlier.set(false);
        self.pending_image.set(None);
        self.transcript.set_value(Transcript::new());
        self.api.authenticate().await?;
        Ok(())
    }

    /// `window.DGbot.identify(user)`: tell the backend who the visitor is on the host site.
    /// When another verified person than the conversation's is identified, the server starts
    /// a new conversation for them (their data is not merged) and the chat starts afresh.
    pub async fn identify(self, user: IdentifyRequest) -> Result<IdentifyResponse, TransportError> {
        let res: IdentifyResponse = self.api_post("/identify", &user).await?;
        if let Some(token) = res.visitor_token.clone() {
            self.api.adopt(token);
            self.messages.set(vec![]);
            self.has_earlier.set(false);
            self.transcript.set_value(Transcript::new());
            self.livechat.set(Default::default());
        }
        Ok(res)
    }

    /// Seed 002 `conversationClassified`: the server classifies the conversation a few seconds
    /// after each answer; `emne` is `null` when that fails or takes too long.
    fn report_classification(self, message_id: String) {
        spawn_local(async move {
            let path = format!(
                "/classification?message_id={}",
                js_sys::encode_uri_component(&message_id)
            );
            let emne = match self.api.get::<ClassificationResponse>(&path).await {
                Ok(c) => c.classification,
                Err(e) => {
                    leptos::logging::warn!("dgbot: no classification: {}", e.message());
                    None
                }
            };
            self.post(FrameAction::ConversationClassified { emne });
        });
    }

    /// Submit a completed contact form or support ticket (`POST /api/v1/chat/actions`).
    pub async fn submit_action(self, req: ActionRequest) -> Result<ActionResponse, TransportError> {
        self.api_post("/actions", &req).await
    }

    pub fn bridge(&self) -> HostBridge {
        self.bridge.get_value()
    }

    pub fn post(&self, action: FrameAction) {
        let chat_type = self
            .config
            .with_untracked(|c| c.as_ref().map(|c| c.chat_type.clone()))
            .unwrap_or_else(|| DEFAULT_CHAT_TYPE.into());
        // Seed 002: `response_latency_ms` is the time from the visitor's send to the first token.
        let latency = self
            .sent_at
            .get_value()
            .map(|t| (js_sys::Date::now() - t).max(0.0) as u64);
        self.bridge
            .with_value(|b| b.post(action, &chat_type, latency));
    }

    pub(crate) fn grew(&self) {
        self.grew.update(|n| *n += 1);
    }

    /// Get a visitor token and the chatbot's config, restore the conversation, then tell the
    /// host page the chat is `ready` (also when start-up failed: commands then fail visibly).
    pub fn start(self) {
        spawn_local(async move {
            if let Err(message) = self.load().await {
                self.startup_error.set(Some(StartupError(message)));
            }
            self.started.set(true);
            let chat_type = self
                .config
                .with_untracked(|c| c.as_ref().map(|c| c.chat_type.clone()));
            self.post(FrameAction::Ready { chat_type });
            self.schedule_popup();
        });
    }

    /// The config's popup messages appear beside the closed launcher a few seconds after the
    /// chat has loaded, unless the visitor has opened the chat or dismissed them this session.
    fn schedule_popup(self) {
        let has_popup = self
            .config
            .with_untracked(|c| c.as_ref().is_some_and(|c| !c.popup_messages.is_empty()));
        // Only inside the floating widget: opened on its own (no host page) or inline, there is
        // no launcher to show them beside.
        let floating = self
            .bridge
            .with_value(|b| b.framed() && b.origin().is_some())
            && !self.params.with_value(|p| p.inline);
        if !has_popup || !floating || self.popup_dismissed() {
            return;
        }
        set_timeout(
            move || {
                if !self.opened.get_value() && !self.popup_dismissed() {
                    self.peek.set(true);
                    self.post(FrameAction::PeekChat);
                }
            },
            std::time::Duration::from_millis(POPUP_DELAY_MS),
        );
    }

    fn popup_key(&self) -> String {
        format!(
            "dgbot_popup_dismissed_{}",
            self.params.with_value(|p| p.chatbot_id.clone())
        )
    }

    fn popup_dismissed(&self) -> bool {
        window()
            .session_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(&self.popup_key()).ok().flatten())
            .is_some()
    }

    /// The visitor closed the popup: not again in this browser session.
    pub fn dismiss_popup(&self) {
        if let Ok(Some(storage)) = window().session_storage() {
            let _ = storage.set_item(&self.popup_key(), "1");
        }
        self.peek.set(false);
        self.post(FrameAction::CollapseChat);
    }

    /// The host page opened the chat window (seed 002's `chat_open` goes out from here).
    pub fn window_opened(&self) {
        self.post(FrameAction::ChatOpened);
        self.opened.set_value(true);
        self.peek.set(false);
        self.composer_focus.update(|n| *n += 1);
    }

    async fn load(self) -> Result<(), String> {
        if self.params.with_value(|p| p.chatbot_id.is_empty()) {
            return Err(t("This chat is missing its chatbot id.").into());
        }
        self.api.recall_visitor().await;
        let returning = self.api.has_visitor();
        if returning {
            // Their history is fetched, decoded and drawn by the `text` chunk: start fetching
            // it now, beside the token and the configuration.
            spawn_local(async {
                let _ = crate::render::preload_text().await;
            });
        }
        self.api.authenticate().await.map_err(|e| e.message())?;
        let text = self.api.get_text("/config").await.map_err(|e| e.message())?;
        let config: ChatConfig = transport::decode(&text).map_err(|e| e.message())?;
        // The chatbot's look and the visitor's language on the page (`__dgLook`, index.html),
        // and the widget's words in that language.
        if let Ok(look) = js_sys::Reflect::get(&window(), &"__dgLook".into()) {
            let _ = look
                .unchecked_ref::<js_sys::Function>()
                .call1(&JsValue::NULL, &text.into());
        }
        self.config.set(Some(config));
        // Only a visitor we know can have a conversation to restore or a session in progress:
        // a new one loads neither (nor the chunk that decodes and draws a history).
        if returning {
            match history_chunk(self, None, Box::new(|| {})).await {
                Ok(restore) => restore.await,
                Err(crate::Unloaded) => {
                    leptos::logging::warn!("dgbot: could not load the conversation history")
                }
            }
            self.resume_livechat_later();
        }
        Ok(())
    }

    /// The page of history before the first message shown; `shown` runs once it is in the
    /// log (to keep the visitor's place). One page at a time; a failure leaves the button.
    pub fn load_earlier(self, shown: impl FnOnce() + 'static) {
        let first = self
            .transcript
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
        match self
            .api
            .get::<HistoryPage>(&history_path(before.as_deref()))
            .await
        {
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
                    self.first_sight(&format!("{kind}:{id}"));
                }
            }
        }
        let restored: Vec<MessageVm> = messages
            .iter()
            .map(|m| MessageVm::from_message(next_key(), m))
            .collect();
        self.transcript.update_value(|t| t.prepend(messages));
        self.messages.update(|m| {
            let newer = std::mem::replace(m, restored);
            m.extend(newer);
        });
    }

    /// The loader told us its copy of the visitor id (`None`: it has none).
    pub fn host_visitor(&self, id: Option<String>) {
        self.api.host_visitor(id);
    }

    /// Send the visitor's text, with the picked image if any. Ignored while an answer streams
    /// (the composer keeps the text).
    /// While a person is in the chat (livechat `active`) the message goes to them instead,
    /// with the file picked for them if any.
    pub fn send(self, text: String) -> bool {
        let text = text.trim().to_owned();
        let to_agent = self.route() == Route::Livechat;
        let attachment = if to_agent {
            self.pending_attachment.get_untracked()
        } else {
            self.pending_image.get_untracked().map(Part::Image)
        };
        if (text.is_empty() && attachment.is_none()) || self.streaming.get_untracked() {
            return false;
        }
        let mut parts = vec![];
        if !text.is_empty() {
            parts.push(Part::text(&text));
        }
        if let Some(attachment) = attachment {
            parts.push(attachment);
            self.pending_image.set(None);
            self.pending_attachment.set(None);
        }
        let user = MessageVm::new(next_key(), Role::User, &parts, Delivery::Pending)
            .with_client_id(new_client_id());
        let first = !self
            .messages
            .with_untracked(|m| m.iter().any(|vm| vm.role == Role::User));
        self.messages.update(|m| m.push(user.clone()));
        self.grew();
        self.post(FrameAction::UserMessageSubmitted);
        self.post(FrameAction::Message { text });
        if first {
            self.post(FrameAction::FirstMessageSent {
                chatbot_id: self.params.with_value(|p| p.chatbot_id.clone()),
            });
        }
        if to_agent {
            self.send_to_agent(user, parts);
        } else {
            self.ask(user, parts);
        }
        true
    }

    /// Send an unsent message again.
    pub fn resend(self, user: MessageVm) {
        if self.streaming.get_untracked() {
            return;
        }
        user.delivery.set(Delivery::Pending);
        let parts = self.transcript_parts(&user);
        if self.route() == Route::Livechat {
            self.send_to_agent(user, parts);
        } else {
            self.ask(user, parts);
        }
    }

    /// Ask the question behind a cut-off answer again: the same message (same client id, so
    /// the server keeps it once), answered anew below the partial answer.
    pub fn retry(self, reply: MessageVm) {
        if self.streaming.get_untracked() {
            return;
        }
        let Some(prompt) = reply.prompt.clone() else {
            return;
        };
        reply.delivery.set(Delivery::Done); // the retry offer is used up; the partial stays
        let asked = self.messages.with_untracked(|m| {
            m.iter()
                .find(|vm| {
                    vm.role == Role::User
                        && vm.client_id.is_some()
                        && vm.client_id == reply.client_id
                })
                .cloned()
        });
        let user = match asked {
            Some(user) => user,
            None => {
                let mut user = MessageVm::new(
                    next_key(),
                    Role::User,
                    &[Part::text(&prompt)],
                    Delivery::Pending,
                );
                user.client_id = reply.client_id.clone();
                self.messages.update(|m| m.push(user.clone()));
                user
            }
        };
        let parts = self.transcript_parts(&user);
        self.ask(user, parts);
    }

    /// The parts a visitor message was sent with (as kept in its view model).
    fn transcript_parts(&self, user: &MessageVm) -> Vec<Part> {
        use crate::view_model::PartBody;
        user.parts.with_untracked(|parts| {
            parts
                .iter()
                .filter_map(|p| match &p.body {
                    PartBody::Text(t) => Some(Part::text(t)),
                    PartBody::Image(i) => Some(Part::Image(i.clone())),
                    PartBody::File(f) => Some(Part::File(f.clone())),
                    _ => None,
                })
                .collect()
        })
    }

    /// Stop the streaming answer; what arrived is kept.
    pub fn stop(&self) {
        self.abort.with_value(|a| {
            if let Some(a) = a {
                a.abort();
            }
        });
    }

    /// Ask the assistant and stream its answer. The code that does it (the stream, the
    /// transcript's reducer, the host's stream events) comes in the `text` chunk with the
    /// answer's renderer, fetched when the visitor starts typing (`preload_text`); if it cannot
    /// be fetched the message stays in the log, unsent, with its resend action.
    fn ask(self, user: MessageVm, parts: Vec<Part>) {
        spawn_local(async move {
            match answer_chunk(self, user.clone(), parts).await {
                Ok(exchange) => exchange.await,
                Err(crate::Unloaded) => user.delivery.set(Delivery::Unsent(
                    t("The chat could not load. Check your connection.").into(),
                )),
            }
        });
    }

    async fn exchange(self, user: MessageVm, parts: Vec<Part>) {
        self.sent_at.set_value(Some(js_sys::Date::now()));
        self.streaming.set(true);
        self.waiting.set(true);
        self.looking_up.set(None);
        let prompt: String = parts
            .iter()
            .filter_map(|p| {
                if let Part::Text(t) = p {
                    Some(t.text.as_str())
                } else {
                    None
                }
            })
            .collect();
        let reply = MessageVm::new(next_key(), Role::Assistant, &[], Delivery::Pending)
            .with_prompt(&prompt, user.client_id.clone());
        let mut result = self.stream_answer(&parts, &reply).await;
        let mut attempts = Attempts::default();
        loop {
            match attempts.next(&result) {
                Next::Renew => {
                    result = match self.api.authenticate().await {
                        Ok(_) => self.stream_answer(&parts, &reply).await,
                        Err(e) => Err(e),
                    };
                }
                Next::Wait(secs) => {
                    user.delivery.set(Delivery::Unsent(t_with(
                        "The chat is busy; trying again in {} s.",
                        &[&secs.to_string()],
                    )));
                    transport::sleep_ms(secs * 1000).await;
                    user.delivery.set(Delivery::Pending);
                    result = self.stream_answer(&parts, &reply).await;
                }
                Next::Stop => break,
            }
        }
        self.waiting.set(false);
        self.streaming.set(false);
        self.abort.set_value(None);
        let started = reply.parts.with_untracked(|p| !p.is_empty());
        match result {
            Ok(()) => {
                user.delivery.set(Delivery::Done);
                if reply.delivery.get_untracked() == Delivery::Pending {
                    // The server closed the stream without `done` or `error`.
                    self.transcript.update_value(|t| {
                        t.end_draft(&format!("partial_{}", reply.key));
                    });
                    self.show_reply(&reply);
                    reply.delivery.set(Delivery::Incomplete {
                        why: t("The answer was cut off.").into(),
                        retry: true,
                    });
                }
            }
            Err(e) if started => {
                if !matches!(e, TransportError::Aborted) {
                    self.post(error_action(&e));
                }
                user.delivery.set(Delivery::Done);
                self.transcript.update_value(|t| {
                    t.end_draft(&format!("partial_{}", reply.key));
                });
                let (why, retry) = match e {
                    TransportError::Aborted => (t("Stopped."), false),
                    _ => (
                        t("The connection dropped; the answer is incomplete."),
                        true,
                    ),
                };
                reply.delivery.set(Delivery::Incomplete { why: why.into(), retry });
            }
            Err(e) => {
                self.post(error_action(&e));
                // Nothing arrived: the visitor's message stays, marked unsent, with a resend action.
                self.transcript.update_value(|t| {
                    t.end_draft("");
                });
                self.messages.update(|m| m.retain(|vm| vm.key != reply.key));
                user.delivery.set(Delivery::Unsent(unsent_reason(&e)));
            }
        }
        self.grew();
    }

    /// Add the reply to the log if it is not there yet.
    fn show_reply(&self, reply: &MessageVm) {
        if !self
            .messages
            .with_untracked(|m| m.iter().any(|vm| vm.key == reply.key))
        {
            self.messages.update(|m| m.push(reply.clone()));
        }
    }

    /// One POST /messages: feed its events through the transcript into `reply`.
    async fn stream_answer(&self, parts: &[Part], reply: &MessageVm) -> Result<(), TransportError> {
        let client_id = reply.client_id.clone();
        let token = self.api.token().await?;
        let body = SendMessageRequest {
            message: InputMessage {
                parts: parts.to_vec(),
            },
            context: self.context(),
        };
        let controller =
            AbortController::new().map_err(|e| TransportError::Network(format!("{e:?}")))?;
        let signal = controller.signal();
        self.abort.set_value(Some(controller));
        self.transcript.update_value(|t| t.begin_draft());
        let this = *self;
        let batch = Batch::default();
        let result = {
            let (batch, reply) = (batch.clone(), reply.clone());
            transport::post_sse(
                &format!("{API}/messages"),
                Some(&token),
                &body,
                &signal,
                client_id.as_deref(),
                move |sse| {
                    match StreamEvent::decode_with(&sse.event, &sse.data, crate::json::parse) {
                        Ok(Some(event)) => {
                            let urgent = this.waiting.get_untracked()
                                || matches!(event, StreamEvent::Done(_) | StreamEvent::Error(_));
                            batch.queue.borrow_mut().push(event);
                            if urgent {
                                this.flush(&batch, &reply);
                            } else if !batch.scheduled.replace(true) {
                                let (batch, reply) = (batch.clone(), reply.clone());
                                set_timeout(
                                    move || this.flush(&batch, &reply),
                                    std::time::Duration::from_millis(this.batch_ms()),
                                );
                            }
                        }
                        Ok(None) => {} // an event name from a newer server
                        Err(e) => leptos::logging::warn!("dgbot: {e}"),
                    }
                },
            )
            .await
        };
        self.flush(&batch, reply); // whatever arrived since the last batch
        result
    }

    /// How long stream events wait to be applied: [`BATCH_MS`], or [`BATCH_AWAY_MS`] while the
    /// visitor reads back up the log or the page is hidden.
    fn batch_ms(&self) -> u64 {
        if self.at_end.get_value() && !document().hidden() {
            BATCH_MS
        } else {
            BATCH_AWAY_MS
        }
    }

    /// Apply the queued stream events in one go (one layout for the page).
    fn flush(&self, batch: &Batch, reply: &MessageVm) {
        batch.scheduled.set(false);
        let events = std::mem::take(&mut *batch.queue.borrow_mut());
        if events.is_empty() {
            return;
        }
        // The host's `stream_chunk`: the batch's new text, posted before `stream_end` or `error`.
        let mut chunk = String::new();
        for event in &events {
            match event {
                StreamEvent::PartDelta(d) => chunk.push_str(d.delta.text().unwrap_or_default()),
                _ => self.post_chunk(&mut chunk),
            }
            self.on_event(event, reply);
        }
        self.post_chunk(&mut chunk);
        self.grew();
    }

    fn post_chunk(&self, chunk: &mut String) {
        if !chunk.is_empty() {
            self.post(FrameAction::StreamChunk {
                content: std::mem::take(chunk),
            });
        }
    }

    fn on_event(&self, event: &StreamEvent, reply: &MessageVm) {
        if let StreamEvent::Status(s) = event
            && s.status == "tool_call"
        {
            let label = s.label.clone().unwrap_or_default();
            // Shown in the typing bubble, while nothing of the answer is there yet.
            if self.waiting.get_untracked() {
                self.looking_up.set(Some(label.clone()));
            }
            self.post(FrameAction::ToolAction {
                tool: s.tool.clone().unwrap_or_default(),
                status: "calling".into(),
                label,
            });
        }
        if self.waiting.get_untracked()
            && matches!(
                event,
                StreamEvent::PartDelta(_) | StreamEvent::Part(_) | StreamEvent::Done(_)
            )
        {
            self.waiting.set(false);
            self.looking_up.set(None);
            self.messages.update(|m| m.push(reply.clone()));
            self.post(FrameAction::AssistantFirstToken);
            self.post(FrameAction::StreamStart);
        }
        let change = self.transcript.try_update_value(|t| t.apply(event));
        match change {
            Some(Ok(Change::Done { message, same })) => {
                let done = self
                    .transcript
                    .with_value(|t| t.messages()[message].clone());
                if !same {
                    reply.set_parts(&done.parts);
                }
                reply.delivery.set(Delivery::Done);
                self.announcement.set(done.plain_text());
                self.report_recommendations(&done);
                self.post(FrameAction::StreamEnd {
                    message_id: done.message_id.clone(),
                });
                self.report_classification(done.message_id);
            }
            Some(Ok(Change::Failed { error, .. })) => {
                if self.waiting.get_untracked() {
                    self.waiting.set(false);
                }
                self.show_reply(reply);
                self.post(FrameAction::Error {
                    code: error.code.as_str().into(),
                    message: error.message.clone(),
                    retryable: error.retryable,
                });
                reply.delivery.set(Delivery::Incomplete {
                    why: error.message,
                    retry: error.retryable,
                });
            }
            Some(Ok(change)) => {
                let fits = self
                    .transcript
                    .with_value(|t| t.draft().is_some_and(|d| reply.apply(&change, d)));
                if !fits {
                    let parts = self
                        .transcript
                        .with_value(|t| t.draft().map(|d| d.parts.clone()).unwrap_or_default());
                    reply.set_parts(&parts);
                }
            }
            Some(Err(e)) => leptos::logging::warn!("dgbot: ignored stream event: {e}"),
            None => {}
        }
    }

    /// Seed 002 `productRecommendation`, once per products part of a finished answer.
    fn report_recommendations(&self, message: &Message) {
        for part in &message.parts {
            match part {
                Part::Products(p) if self.first_sight(&format!("recommendation:{}", p.part_id)) => {
                    let urls = p.products.iter().map(|p| p.url.clone()).collect::<Vec<_>>();
                    self.post(FrameAction::ProductRecommendation {
                        urls: (!urls.is_empty()).then_some(urls),
                    });
                }
                // Seed 001's `handoff_offered`: the answer offers a person.
                Part::RequestHumanAgent(m)
                    if self.first_sight(&format!("handoff:{}", m.part_id)) =>
                {
                    self.post(FrameAction::HandoffOffered {
                        message: message.plain_text(),
                    });
                }
                _ => {}
            }
        }
    }

    /// `context.page` of a message: the host page the visitor is on.
    pub(crate) fn context(&self) -> Option<MessageContext> {
        Some(MessageContext {
            page: self
                .page
                .get_value()
                .or_else(|| self.bridge.with_value(|b| b.origin().map(str::to_owned))),
        })
    }
}

crate::lazy! { text:
    /// [`Chat::ask`]'s exchange, from the `text` chunk.
    fn answer_chunk(
        chat: Chat,
        user: MessageVm,
        parts: Vec<Part>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
        Box::pin(chat.exchange(user, parts))
    }
}

crate::lazy! { text:
    /// [`Chat::show_history_page`], from the `text` chunk: decoding a history (every part type)
    /// and drawing its answers come with the code that asks and draws new ones.
    fn history_chunk(
        chat: Chat,
        before: Option<String>,
        shown: Box<dyn FnOnce()>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
        Box::pin(chat.show_history_page(before, shown))
    }
}
