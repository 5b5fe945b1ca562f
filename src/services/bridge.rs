//! The iframe's side of the host bridge: posts [`FrameAction`]s to the parent with an explicit
//! `targetOrigin`, and accepts [`HostCommand`]s only from the parent window at that origin.

use dgbot_protocol::bridge::{FrameAction, HostCommand, HostMessage};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessageEvent;

/// The host page's origin, when we are framed by a page that says it is that origin.
#[derive(Clone, Debug, PartialEq)]
pub struct HostBridge {
    origin: Option<String>,
    /// In an iframe (not opened on its own): there is a host page to talk to.
    framed: bool,
}

impl HostBridge {
    /// `claimed` is the `host` launch parameter the loader set. Where the browser tells the
    /// real ancestor origin (`location.ancestorOrigins`), a mismatch disables the bridge.
    pub fn new(claimed: Option<String>) -> Self {
        let origin = claimed.filter(|o| o.starts_with("http://") || o.starts_with("https://"));
        let actual = ancestor_origin();
        let origin = match (origin, actual) {
            (Some(o), Some(a)) if o != a => None,
            (o, _) => o,
        };
        let framed = window()
            .parent()
            .ok()
            .flatten()
            .is_some_and(|p| !js_sys::Object::is(&p, &window()));
        HostBridge { origin, framed }
    }

    /// Inside a host page's iframe (the loader's, or an inline embed).
    pub fn framed(&self) -> bool {
        self.framed
    }

    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// Post `action` to the host page, with the CustomEvent `detail` it maps to (see
    /// [`FrameAction::to_host`]).
    pub fn post(&self, action: FrameAction, chat_type: &str, response_latency_ms: Option<u64>) {
        let Some(origin) = self.origin.as_ref().filter(|_| self.framed) else {
            return;
        };
        let value = crate::services::json::to_js(&action.to_host(chat_type, response_latency_ms));
        if let Ok(Some(parent)) = window().parent() {
            let _ = parent.post_message(&value, origin);
        }
    }

    /// Call `on_command` for every well-formed command from our parent at the host origin,
    /// starting with those that arrived before the app was running: `index.html` keeps them in
    /// `window.__dgq` (seed 002's Option 4 then needs no wait after opening the chat).
    pub fn listen(&self, on_command: impl Fn(HostMessage) + 'static) {
        let Some(origin) = self.origin.clone() else {
            return;
        };
        let accept = move |e: &MessageEvent| {
            if e.origin() != origin || !from_parent(e) {
                return;
            }
            let data = e.data();
            let value = crate::services::json::from_js(&data);
            let ours = value.get("source").and_then(|s| s.as_str()) == Some("dgbot");
            match HostCommand::decode_value(value) {
                Some(m) => on_command(m),
                // Ours, but not a command this version takes, or with bad arguments (the loader
                // passes identify() and reportPurchase() arguments through unchecked).
                None if ours => leptos::logging::warn!(
                    "dgbot: ignored host command {}",
                    js_sys::JSON::stringify(&data)
                        .map(String::from)
                        .unwrap_or_default()
                ),
                None => {} // not ours
            }
        };
        let early = js_sys::Reflect::get(&window(), &"__dgq".into()).unwrap_or_default();
        let _ = js_sys::Reflect::set(&window(), &"__dgq".into(), &JsValue::NULL);
        if let Ok(early) = early.dyn_into::<js_sys::Array>() {
            early
                .iter()
                .filter_map(|e| e.dyn_into::<MessageEvent>().ok())
                .for_each(|e| accept(&e));
        }
        let handle = window_event_listener(leptos::ev::message, move |e: MessageEvent| accept(&e));
        on_cleanup(move || handle.remove());
    }
}

fn from_parent(e: &MessageEvent) -> bool {
    match (e.source(), window().parent()) {
        (Some(source), Ok(Some(parent))) => js_sys::Object::is(&source, &JsValue::from(parent)),
        _ => false,
    }
}

fn ancestor_origin() -> Option<String> {
    let list = js_sys::Reflect::get(&window().location(), &"ancestorOrigins".into()).ok()?;
    if list.is_undefined() {
        return None;
    }
    js_sys::Reflect::get(&list, &0.into()).ok()?.as_string()
}
