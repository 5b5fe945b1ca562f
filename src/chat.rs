//! The chat controller: the session with the API, the transcript, and the send → stream →
//! render loop. Provided as context; components call it and read its signals.
//!
//! Nothing the visitor typed is ever dropped: a message the server did not take stays in the
//! log marked unsent, with a resend action; a cut-off answer keeps what arrived, marked.

use dgbot_protocol::api::{AuthRequest, AuthResponse, ChatConfig, InputMessage, MessageContext, SendMessageRequest};
use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::transcript::Change;
use dgbot_protocol::{Part, Role, StreamEvent, Transcript};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::AbortController;

use crate::bridge::HostBridge;
use crate::transport::{self, TransportError};
use crate::view_model::{Delivery, MessageVm, next_key};

const API: &str = "/api/v1/chat";

/// What the loader put in the iframe URL: `?chatbot_id=…&host=…`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaunchParams {
    pub chatbot_id: String,
    pub host: Option<String>,
}

impl LaunchParams {
    pub fn from_query(query: &str) -> Self {
        let mut p = LaunchParams::default();
        for pair in query.trim_start_matches('?').split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = js_sys::decode_uri_component(&v.replace('+', " ")).ok().and_then(|s| s.as_string()).unwrap_or_default();
            match k {
                "chatbot_id" => p.chatbot_id = v,
                "host" => p.host = Some(v),
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
    params: StoredValue<LaunchParams>,
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
    /// Where the message log should move focus or scroll; set by the app.
    pub composer_focus: RwSignal<u64>,
}

fn visitor_storage_key(chatbot_id: &str) -> String {
    format!("dgbot_visitor_{chatbot_id}")
}

fn stored_visitor_id(chatbot_id: &str) -> Option<String> {
    window().local_storage().ok()??.get_item(&visitor_storage_key(chatbot_id)).ok()?
}

/// The visitor id is the token's `sub`; keep it so a reload continues the same visitor.
fn remember_visitor(chatbot_id: &str, token: &str) {
    let Some(payload) = token.split('.').nth(1) else { return };
    let Some(json) = base64url_decode(payload) else { return };
    #[derive(serde::Deserialize)]
    struct Claims {
        sub: String,
    }
    let Ok(claims) = serde_json::from_slice::<Claims>(&json) else { return };
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = storage.set_item(&visitor_storage_key(chatbot_id), &claims.sub);
    }
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
        }
    }

    pub fn bridge(&self) -> HostBridge {
        self.bridge.get_value()
    }

    pub fn post(&self, action: FrameAction) {
        self.bridge.with_value(|b| b.post(action));
    }

    fn grew(&self) {
        self.grew.update(|n| *n += 1);
    }

    /// Get a visitor token and the chatbot's config.
    pub fn start(self) {
        spawn_local(async move {
            if self.params.with_value(|p| p.chatbot_id.is_empty()) {
                self.startup_error.set(Some(StartupError("This chat is missing its chatbot id.".into())));
                return;
            }
            if let Err(e) = self.authenticate().await {
                self.startup_error.set(Some(StartupError(e.message())));
                return;
            }
            match transport::get_json::<ChatConfig>(&format!("{API}/config"), self.token.get_untracked().as_deref()).await {
                Ok(config) => self.config.set(Some(config)),
                Err(e) => self.startup_error.set(Some(StartupError(e.message()))),
            }
        });
    }

    async fn authenticate(&self) -> Result<String, TransportError> {
        let params = self.params.get_value();
        let req = AuthRequest {
            chatbot_id: params.chatbot_id.clone(),
            host_origin: self.bridge.with_value(|b| b.origin().map(str::to_owned)),
            visitor_id: stored_visitor_id(&params.chatbot_id),
        };
        let res: AuthResponse = transport::post_json(&format!("{API}/auth/public"), None, &req).await?;
        remember_visitor(&params.chatbot_id, &res.token);
        self.token.set(Some(res.token.clone()));
        Ok(res.token)
    }

    /// Send the visitor's text. Ignored while an answer streams (the composer keeps the text).
    pub fn send(self, text: String) -> bool {
        let text = text.trim().to_owned();
        if text.is_empty() || self.streaming.get_untracked() {
            return false;
        }
        let user = MessageVm::new(next_key(), Role::User, &[Part::text(&text)], Delivery::Pending);
        self.messages.update(|m| m.push(user.clone()));
        self.grew();
        self.post(FrameAction::UserMessageSubmitted);
        spawn_local(self.exchange(user, text));
        true
    }

    /// Send an unsent message again.
    pub fn resend(self, user: MessageVm, text: String) {
        if self.streaming.get_untracked() {
            return;
        }
        user.delivery.set(Delivery::Pending);
        spawn_local(self.exchange(user, text));
    }

    /// Stop the streaming answer; what arrived is kept.
    pub fn stop(&self) {
        self.abort.with_value(|a| {
            if let Some(a) = a {
                a.abort();
            }
        });
    }

    async fn exchange(self, user: MessageVm, text: String) {
        self.streaming.set(true);
        self.waiting.set(true);
        let reply = MessageVm::new(next_key(), Role::Assistant, &[], Delivery::Pending);
        let mut result = self.stream_answer(&text, &reply).await;
        if matches!(result, Err(TransportError::Api { status: 401, .. })) {
            // Expired or unknown token: get a new one once and retry.
            result = match self.authenticate().await {
                Ok(_) => self.stream_answer(&text, &reply).await,
                Err(e) => Err(e),
            };
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
                    reply.delivery.set(Delivery::Incomplete("The answer was cut off.".into()));
                }
            }
            Err(e) if started => {
                user.delivery.set(Delivery::Done);
                self.transcript.update_value(|t| {
                    t.end_draft(&format!("partial_{}", reply.key));
                });
                let why = if e == TransportError::Aborted { "Stopped.".into() } else { "The connection dropped; the answer is incomplete.".into() };
                reply.delivery.set(Delivery::Incomplete(why));
            }
            Err(e) => {
                // Nothing arrived: the visitor's message stays, marked unsent, with a resend action.
                self.transcript.update_value(|t| {
                    t.end_draft("");
                });
                self.messages.update(|m| m.retain(|vm| vm.key != reply.key));
                user.delivery.set(Delivery::Unsent(e.message()));
            }
        }
        self.grew();
    }

    /// One POST /messages: feed its events through the transcript into `reply`.
    async fn stream_answer(&self, text: &str, reply: &MessageVm) -> Result<(), TransportError> {
        let token = match self.token.get_untracked() {
            Some(t) => t,
            None => self.authenticate().await?,
        };
        let body = SendMessageRequest {
            message: InputMessage { parts: vec![Part::text(text)] },
            context: Some(MessageContext { page: self.bridge.with_value(|b| b.origin().map(str::to_owned)) }),
        };
        let controller = AbortController::new().map_err(|e| TransportError::Network(format!("{e:?}")))?;
        let signal = controller.signal();
        self.abort.set_value(Some(controller));
        self.transcript.update_value(|t| t.begin_draft());
        let this = *self;
        let reply = reply.clone();
        transport::post_sse(&format!("{API}/messages"), Some(&token), &body, &signal, move |sse| {
            match StreamEvent::decode(&sse.event, &sse.data) {
                Ok(Some(event)) => this.on_event(&event, &reply),
                Ok(None) => {} // an event name from a newer server
                Err(e) => leptos::logging::warn!("dgbot: {e}"),
            }
        })
        .await
    }

    fn on_event(&self, event: &StreamEvent, reply: &MessageVm) {
        if self.waiting.get_untracked() && matches!(event, StreamEvent::PartDelta(_) | StreamEvent::Part(_) | StreamEvent::Done(_)) {
            self.waiting.set(false);
            self.messages.update(|m| m.push(reply.clone()));
            self.post(FrameAction::AssistantFirstToken);
        }
        let change = self.transcript.try_update_value(|t| t.apply(event));
        match change {
            Some(Ok(Change::Done { message, same })) => {
                if !same {
                    let parts = self.transcript.with_value(|t| t.messages()[message].parts.clone());
                    reply.set_parts(&parts);
                }
                reply.delivery.set(Delivery::Done);
            }
            Some(Ok(Change::Failed { error, .. })) => {
                if self.waiting.get_untracked() {
                    self.waiting.set(false);
                }
                if !self.messages.with_untracked(|m| m.iter().any(|vm| vm.key == reply.key)) {
                    self.messages.update(|m| m.push(reply.clone()));
                }
                reply.delivery.set(Delivery::Incomplete(error.message));
            }
            Some(Ok(change)) => {
                let fits = self.transcript.with_value(|t| t.draft().is_some_and(|d| reply.apply(&change, d)));
                if !fits {
                    let parts = self.transcript.with_value(|t| t.draft().map(|d| d.parts.clone()).unwrap_or_default());
                    reply.set_parts(&parts);
                }
            }
            Some(Err(e)) => leptos::logging::warn!("dgbot: ignored stream event: {e}"),
            None => {}
        }
        self.grew();
    }
}
