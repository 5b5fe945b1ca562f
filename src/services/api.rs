//! The chat API client: who the visitor is, the visitor token, and the one place a token is
//! renewed (on `401`, once, presenting the visitor id so the conversation continues).
//!
//! The visitor id is the token's `sub`. It is kept in this frame's storage when the browser
//! allows it, and in the host page's own storage through the loader (`visitor` messages), for
//! browsers that deny third-party frames their storage (docs/host-page.md).

use dgbot_protocol::api::{AuthRequest, AuthResponse};
use dgbot_protocol::bridge::FrameAction;
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::logic::errors::TransportError;
use crate::services::bridge::HostBridge;
use crate::services::transport;

pub const API: &str = "/api/v1/chat";

/// How long start-up waits for the loader's copy of the visitor id when this frame has none.
const HOST_VISITOR_WAIT_MS: u32 = 3000;

#[derive(Clone, Copy)]
pub struct Api {
    chatbot_id: StoredValue<String>,
    bridge: StoredValue<HostBridge>,
    token: RwSignal<Option<String>>,
    visitor_id: StoredValue<Option<String>>,
    /// The loader's copy, once it has said (`Some(None)`: it has none).
    host_visitor: RwSignal<Option<Option<String>>>,
}

fn visitor_storage_key(chatbot_id: &str) -> String {
    format!("dgbot_visitor_{chatbot_id}")
}

/// This frame's storage; `None` where the browser denies it (third-party storage blocked).
fn frame_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// The visitor id is the token's `sub` (read with the browser's `JSON.parse`: no decoder of
/// our own for a claim the server signed).
fn token_subject(token: &str) -> Option<String> {
    let json = base64url_decode(token.split('.').nth(1)?)?;
    let claims = js_sys::JSON::parse(&json).ok()?;
    js_sys::Reflect::get(&claims, &"sub".into())
        .ok()?
        .as_string()
}

/// The JSON text of a token's base64url part, a byte a character (`sub`, the one claim read,
/// is an ASCII id).
fn base64url_decode(s: &str) -> Option<String> {
    let mut std = s.replace('-', "+").replace('_', "/");
    while !std.len().is_multiple_of(4) {
        std.push('=');
    }
    window().atob(&std).ok()
}

impl Api {
    pub fn new(chatbot_id: String, bridge: StoredValue<HostBridge>) -> Self {
        Api {
            chatbot_id: StoredValue::new(chatbot_id),
            bridge,
            token: RwSignal::new(None),
            visitor_id: StoredValue::new(None),
            host_visitor: RwSignal::new(None),
        }
    }

    /// The current token, or a new one.
    pub async fn token(&self) -> Result<String, TransportError> {
        match self.token.get_untracked() {
            Some(t) => Ok(t),
            None => self.authenticate().await,
        }
    }

    /// A visitor token for the visitor we know (so a renewal after a restart, an expiry or a
    /// rotated key continues the same conversation), or for a new visitor.
    pub async fn authenticate(&self) -> Result<String, TransportError> {
        let req = AuthRequest {
            chatbot_id: self.chatbot_id.get_value(),
            host_origin: self.bridge.with_value(|b| b.origin().map(str::to_owned)),
            visitor_id: self.visitor_id.get_value(),
        };
        let url = format!("{API}/auth/public");
        let body = transport::encode(&req)?;
        let res: AuthResponse =
            transport::decode(&transport::request("POST", &url, None, Some(body), None).await?)?;
        if let Some(id) = token_subject(&res.token) {
            self.keep_visitor(Some(id));
        }
        self.token.set(Some(res.token.clone()));
        Ok(res.token)
    }

    /// One call to the chat API with the token; on `401` get a new token once and call again.
    /// The one renewal path of the widget. Not generic: every typed call below shares it, and
    /// adds only its own encoder and decoder.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        idempotency_key: Option<&str>,
    ) -> Result<String, TransportError> {
        let url = format!("{API}{path}");
        let token = self.token().await?;
        match transport::request(method, &url, Some(&token), body.clone(), idempotency_key).await {
            Err(TransportError::Api { status: 401, .. }) => {
                let token = self.authenticate().await?;
                transport::request(method, &url, Some(&token), body, idempotency_key).await
            }
            other => other,
        }
    }

    /// The body of a GET, as text.
    pub async fn get_text(&self, path: &str) -> Result<String, TransportError> {
        self.call("GET", path, None, None).await
    }

    pub async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, TransportError> {
        transport::decode(&self.call("GET", path, None, None).await?)
    }

    pub async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, TransportError> {
        let body = transport::encode(body)?;
        transport::decode(&self.call("POST", path, Some(body), None).await?)
    }

    /// POST with an `Idempotency-Key`, so a retry of the same message is stored once.
    pub async fn post_keyed<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        idempotency_key: Option<&str>,
    ) -> Result<R, TransportError> {
        let body = transport::encode(body)?;
        transport::decode(&self.call("POST", path, Some(body), idempotency_key).await?)
    }

    pub async fn delete<R: DeserializeOwned>(&self, path: &str) -> Result<R, TransportError> {
        transport::decode(&self.call("DELETE", path, None, None).await?)
    }

    /// Use `token` from now on (the server moved the visitor to a new conversation).
    pub fn adopt(&self, token: String) {
        if let Some(id) = token_subject(&token) {
            self.keep_visitor(Some(id));
        }
        self.token.set(Some(token));
    }

    /// Forget the token (the next call gets a new one).
    pub fn drop_token(&self) {
        self.token.set(None);
    }

    /// The loader told us its copy of the visitor id (`None`: it has none).
    pub fn host_visitor(&self, id: Option<String>) {
        self.host_visitor.set(Some(id));
    }

    /// Who the visitor is at start-up: this frame's stored id; else the loader's copy (waiting
    /// for it a little: it arrives when the frame has loaded); else a new visitor.
    pub async fn recall_visitor(&self) {
        let key = visitor_storage_key(&self.chatbot_id.get_value());
        let own = frame_storage().and_then(|s| s.get_item(&key).ok().flatten());
        let id = match own {
            Some(id) => Some(id),
            None => {
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
        };
        self.visitor_id.set_value(id);
    }

    /// Whether this visitor came with an id (stored here or by the host page).
    pub fn has_visitor(&self) -> bool {
        self.visitor_id.with_value(Option::is_some)
    }

    /// Keep (or with `None`, forget) the visitor id: here, in this frame's storage when the
    /// browser allows it, and in the host page's through the loader.
    pub fn keep_visitor(&self, id: Option<String>) {
        if self.visitor_id.get_value() == id
            && self.host_visitor.get_untracked() == Some(id.clone())
        {
            return;
        }
        let key = visitor_storage_key(&self.chatbot_id.get_value());
        if let Some(storage) = frame_storage() {
            let _ = match &id {
                Some(id) => storage.set_item(&key, id),
                None => storage.remove_item(&key),
            };
        }
        self.visitor_id.set_value(id.clone());
        self.host_visitor.set(Some(id.clone()));
        self.bridge
            .with_value(|b| b.post(FrameAction::Visitor { visitor_id: id }, "", None));
    }
}
