//! The chat controller: the session with the API, the transcript, and the send → stream →
//! render loop. Provided as context; components call it and read its signals.
//!
//! Nothing the visitor typed is ever dropped: a message the server did not take stays in the
//! log marked unsent, with a resend action; a cut-off answer keeps what arrived, marked.

use std::collections::HashSet;

use dgbot_protocol::api::{
    ActionRequest, ActionResponse, AuthRequest, AuthResponse, ChatConfig, ClassificationResponse,
    DeleteResponse, HistoryPage, IdentifyRequest, IdentifyResponse, InputMessage, MessageContext,
    RateRequest, RateResponse, SendMessageRequest,
};
use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::message::ImagePart;
use dgbot_protocol::transcript::Change;
use dgbot_protocol::{Message, Part, Role, StreamEvent, Transcript};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::AbortController;

use crate::bridge::HostBridge;
use crate::transport::{self, TransportError};
use crate::view_model::{Delivery, MessageVm, next_key};

const API: &str = "/api/v1/chat";

/// The `chat_type` of analytics events until the config says otherwise (seed 002's value).
const DEFAULT_CHAT_TYPE: &str = "shopping_assistant";

/// How long after start-up the popup messages appear.
const POPUP_DELAY_MS: u64 = 2500;

/// Stream events are applied to the page at most this often (the first token, `done` and
/// `error` at once). Rendering every 2-ms event costs the browser a frame's layout and paint
/// each time; 20 updates a second read as smoothly and cost a fraction (BENCHMARKS.md).
const BATCH_MS: u64 = 50;

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
    token: RwSignal<Option<String>>,
    pub config: RwSignal<Option<ChatConfig>>,
    pub startup_error: RwSignal<Option<StartupError>>,
    pub messages: RwSignal<Vec<MessageVm>>,
    transcript: StoredValue<Transcript>,
    /// An answer is streaming (the composer shows the stop button).
    pub streaming: RwSignal<bool>,
    /// Waiting for the first token of the answer (the typing indicator).
    pub waiting: RwSignal<bool>,
    abort: StoredValue<Option<AbortController>, LocalStorage>,
    /// Bumped whenever the log's content grows; the log scrolls on it.
    pub grew: RwSignal<u64>,
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
    /// Who the visitor is (the token's `sub`): kept in this frame's storage when the browser
    /// allows it, and in the host page's through the loader, and presented at every renewal.
    visitor_id: StoredValue<Option<String>>,
    /// The loader's copy, once it has said (`Some(None)`: it has none).
    host_visitor: RwSignal<Option<Option<String>>>,
}

/// The host's `error` event for a failed request.
fn error_action(e: &TransportError) -> FrameAction {
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
fn unsent_reason(e: &TransportError) -> String {
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

fn visitor_storage_key(chatbot_id: &str) -> String {
    format!("dgbot_visitor_{chatbot_id}")
}

/// This frame's storage; `None` where the browser denies it (third-party storage blocked).
fn frame_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// The visitor id is the token's `sub`.
fn token_subject(token: &str) -> Option<String> {
    let json = base64url_decode(token.split('.').nth(1)?)?;
    #[derive(serde::Deserialize)]
    struct Claims {
        sub: String,
    }
    serde_json::from_slice::<Claims>(&json).ok().map(|c| c.sub)
}

/// How long start-up waits for the loader's copy of the visitor id when this frame has none.
const HOST_VISITOR_WAIT_MS: u32 = 3000;

/// A fresh id for a visitor message (its `Idempotency-Key`).
fn new_client_id() -> String {
    let r = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
    format!("c_{:08x}{:08x}{:08x}", r(), r(), js_sys::Date::now() as u32)
}

fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut std = s.replace('-', "+").replace('_', "/");
    while std.len() % 4 != 0 {
        std.push('=');
    }
    let decoded = window().atob(&std).ok()?;
    Some(decoded.chars().map(|c| c as u8).collect())
}

impl Chat {
    pub fn new(params: LaunchParams) -> Self {
        let bridge = HostBridge::new(params.host.clone());
        Chat {
            params: StoredValue::new(params),
            bridge: StoredValue::new(bridge),
            token: RwSignal::new(None),
            config: RwSignal::new(None),
            startup_error: RwSignal::new(None),
            messages: RwSignal::new(vec![]),
            transcript: StoredValue::new(Transcript::new()),
            streaming: RwSignal::new(false),
            waiting: RwSignal::new(false),
            abort: StoredValue::new_local(None),
            grew: RwSignal::new(0),
            composer_focus: RwSignal::new(0),
            pending_image: RwSignal::new(None),
            announcement: RwSignal::new(String::new()),
            announced: StoredValue::new(HashSet::new()),
            page: StoredValue::new(None),
            started: RwSignal::new(false),
            visitor_id: StoredValue::new(None),
            host_visitor: RwSignal::new(None),
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
        let url = format!("{API}{path}");
        let token = match self.token.get_untracked() {
            Some(t) => t,
            None => self.authenticate().await?,
        };
        match transport::post_json(&url, Some(&token), body).await {
            Err(TransportError::Api { status: 401, .. }) => {
                let token = self.authenticate().await?;
                transport::post_json(&url, Some(&token), body).await
            }
            other => other,
        }
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
        let token = match self.token.get_untracked() {
            Some(t) => t,
            None => self.authenticate().await?,
        };
        let _: DeleteResponse = match transport::delete_json(&format!("{API}"), Some(&token)).await
        {
            Err(TransportError::Api { status: 401, .. }) => {
                let token = self.authenticate().await?;
                transport::delete_json(&format!("{API}"), Some(&token)).await?
            }
            other => other?,
        };
        self.keep_visitor(None);
        self.token.set(None);
        self.messages.set(vec![]);
        self.pending_image.set(None);
        self.transcript.set_value(Transcript::new());
        self.authenticate().await?;
        Ok(())
    }

    /// `window.DGbot.identify(user)`: tell the backend who the visitor is on the host site.
    pub async fn identify(self, user: IdentifyRequest) -> Result<IdentifyResponse, TransportError> {
        self.api_post("/identify", &user).await
    }

    /// Seed 002 `conversationClassified`: the server classifies the conversation a few seconds
    /// after each answer; `emne` is `null` when that fails or takes too long.
    fn report_classification(self, message_id: String) {
        spawn_local(async move {
            let token = self.token.get_untracked();
            let url = format!(
                "{API}/classification?message_id={}",
                js_sys::encode_uri_component(&message_id)
            );
            let emne =
                match transport::get_json::<ClassificationResponse>(&url, token.as_deref()).await {
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

    fn grew(&self) {
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
            return Err("This chat is missing its chatbot id.".into());
        }
        let visitor = self.known_visitor().await;
        self.visitor_id.set_value(visitor);
        self.authenticate().await.map_err(|e| e.message())?;
        let token = self.token.get_untracked();
        let config = transport::get_json::<ChatConfig>(&format!("{API}/config"), token.as_deref())
            .await
            .map_err(|e| e.message())?;
        self.config.set(Some(config));
        self.restore_history().await;
        Ok(())
    }

    /// Show the visitor's earlier conversation (after a reload, or on another page of the
    /// site). Host events of restored parts already fired when they first arrived.
    async fn restore_history(self) {
        let token = self.token.get_untracked();
        let page = match transport::get_json::<HistoryPage>(
            &format!("{API}/messages?limit=50"),
            token.as_deref(),
        )
        .await
        {
            Ok(page) => page,
            Err(e) => {
                leptos::logging::warn!(
                    "dgbot: could not load the conversation history: {}",
                    e.message()
                );
                return;
            }
        };
        if page.messages.is_empty() {
            return;
        }
        for part in page.messages.iter().flat_map(|m| &m.parts) {
            if let Some(id) = part.part_id() {
                for kind in ["custom", "form", "recommendation"] {
                    self.first_sight(&format!("{kind}:{id}"));
                }
            }
        }
        let restored: Vec<MessageVm> = page
            .messages
            .iter()
            .map(|m| MessageVm::from_message(next_key(), m))
            .collect();
        self.transcript.update_value(|t| {
            for m in page.messages {
                t.push(m);
            }
        });
        self.messages.update(|m| {
            let newer = std::mem::replace(m, restored);
            m.extend(newer);
        });
        self.grew();
    }

    /// A visitor token for the visitor we know (so a renewal after a restart, an expiry or a
    /// rotated key continues the same conversation), or for a new visitor.
    async fn authenticate(&self) -> Result<String, TransportError> {
        let params = self.params.get_value();
        let req = AuthRequest {
            chatbot_id: params.chatbot_id.clone(),
            host_origin: self.bridge.with_value(|b| b.origin().map(str::to_owned)),
            visitor_id: self.visitor_id.get_value(),
        };
        let res: AuthResponse =
            transport::post_json(&format!("{API}/auth/public"), None, &req).await?;
        if let Some(id) = token_subject(&res.token) {
            self.keep_visitor(Some(id));
        }
        self.token.set(Some(res.token.clone()));
        Ok(res.token)
    }

    /// The loader told us its copy of the visitor id (`None`: it has none).
    pub fn host_visitor(&self, id: Option<String>) {
        self.host_visitor.set(Some(id));
    }

    /// Who the visitor is at start-up: this frame's stored id; else the loader's copy (waiting
    /// for it a little: it arrives when the frame has loaded); else a new visitor.
    async fn known_visitor(&self) -> Option<String> {
        let key = visitor_storage_key(&self.params.with_value(|p| p.chatbot_id.clone()));
        if let Some(id) = frame_storage().and_then(|s| s.get_item(&key).ok().flatten()) {
            return Some(id);
        }
        let has_loader = self
            .bridge
            .with_value(|b| b.framed() && b.origin().is_some());
        let mut waited = 0;
        while has_loader
            && self.host_visitor.get_untracked().is_none()
            && waited < HOST_VISITOR_WAIT_MS
        {
            transport::sleep_ms(25).await;
            waited += 25;
        }
        self.host_visitor.get_untracked().flatten()
    }

    /// Keep (or with `None`, forget) the visitor id: here, in this frame's storage when the
    /// browser allows it, and in the host page's through the loader.
    fn keep_visitor(&self, id: Option<String>) {
        if self.visitor_id.get_value() == id
            && self.host_visitor.get_untracked() == Some(id.clone())
        {
            return;
        }
        let key = visitor_storage_key(&self.params.with_value(|p| p.chatbot_id.clone()));
        if let Some(storage) = frame_storage() {
            let _ = match &id {
                Some(id) => storage.set_item(&key, id),
                None => storage.remove_item(&key),
            };
        }
        self.visitor_id.set_value(id.clone());
        self.host_visitor.set(Some(id.clone()));
        self.post(FrameAction::Visitor { visitor_id: id });
    }

    /// Send the visitor's text, with the picked image if any. Ignored while an answer streams
    /// (the composer keeps the text).
    pub fn send(self, text: String) -> bool {
        let text = text.trim().to_owned();
        let image = self.pending_image.get_untracked();
        if (text.is_empty() && image.is_none()) || self.streaming.get_untracked() {
            return false;
        }
        let mut parts = vec![];
        if !text.is_empty() {
            parts.push(Part::text(&text));
        }
        if let Some(image) = image {
            parts.push(Part::Image(image));
            self.pending_image.set(None);
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
        spawn_local(self.exchange(user, parts));
        true
    }

    /// Send an unsent message again.
    pub fn resend(self, user: MessageVm) {
        if self.streaming.get_untracked() {
            return;
        }
        user.delivery.set(Delivery::Pending);
        let parts = self.transcript_parts(&user);
        spawn_local(self.exchange(user, parts));
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
        spawn_local(self.exchange(user, parts));
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

    async fn exchange(self, user: MessageVm, parts: Vec<Part>) {
        self.sent_at.set_value(Some(js_sys::Date::now()));
        self.streaming.set(true);
        self.waiting.set(true);
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
        let (mut reauthenticated, mut waits) = (false, 0);
        loop {
            match &result {
                Err(TransportError::Api { status: 401, .. }) if !reauthenticated => {
                    // Expired or unknown token: get a new one once and retry.
                    reauthenticated = true;
                    result = match self.authenticate().await {
                        Ok(_) => self.stream_answer(&parts, &reply).await,
                        Err(e) => Err(e),
                    };
                }
                Err(TransportError::Api {
                    status: 429,
                    retry_after_secs,
                    ..
                }) if waits < 3 => {
                    // Too many requests: wait as long as the server asks, then try again.
                    waits += 1;
                    let secs = retry_after_secs.unwrap_or(2).clamp(1, 60);
                    user.delivery.set(Delivery::Unsent(format!(
                        "The chat is busy; trying again in {secs} s."
                    )));
                    transport::sleep_ms(secs * 1000).await;
                    user.delivery.set(Delivery::Pending);
                    result = self.stream_answer(&parts, &reply).await;
                }
                _ => break,
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
                        why: "The answer was cut off.".into(),
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
                    TransportError::Aborted => ("Stopped.".to_owned(), false),
                    _ => (
                        "The connection dropped; the answer is incomplete.".to_owned(),
                        true,
                    ),
                };
                reply.delivery.set(Delivery::Incomplete { why, retry });
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
        let token = match self.token.get_untracked() {
            Some(t) => t,
            None => self.authenticate().await?,
        };
        let body = SendMessageRequest {
            message: InputMessage {
                parts: parts.to_vec(),
            },
            context: Some(MessageContext {
                page: self
                    .page
                    .get_value()
                    .or_else(|| self.bridge.with_value(|b| b.origin().map(str::to_owned))),
            }),
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
                    match StreamEvent::decode(&sse.event, &sse.data) {
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
                                    std::time::Duration::from_millis(BATCH_MS),
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
        if self.waiting.get_untracked()
            && matches!(
                event,
                StreamEvent::PartDelta(_) | StreamEvent::Part(_) | StreamEvent::Done(_)
            )
        {
            self.waiting.set(false);
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
            if let Part::Products(p) = part {
                if self.first_sight(&format!("recommendation:{}", p.part_id)) {
                    let urls = p.products.iter().map(|p| p.url.clone()).collect::<Vec<_>>();
                    self.post(FrameAction::ProductRecommendation {
                        urls: (!urls.is_empty()).then_some(urls),
                    });
                }
            }
        }
    }
}
