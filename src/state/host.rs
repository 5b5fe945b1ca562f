//! The host bridge as the page's state: what the chat tells the host page (every
//! [`FrameAction`], with the `chat_type` and the answer's latency it carries), the host events
//! that fire once per part, the host page's address for `context.page`, and the popup messages
//! beside the closed launcher.

use std::collections::HashSet;

use dgbot_protocol::api::{ChatConfig, MessageContext};
use dgbot_protocol::bridge::FrameAction;
use leptos::prelude::*;

use crate::logic::launch::LaunchParams;
use crate::services::bridge::HostBridge;

/// The `chat_type` of analytics events until the config says otherwise (seed 002's value).
const DEFAULT_CHAT_TYPE: &str = "shopping_assistant";

/// How long after start-up the popup messages appear.
const POPUP_DELAY_MS: u64 = 2500;

#[derive(Clone, Copy)]
pub struct Host {
    /// What the loader put in the iframe URL.
    pub params: StoredValue<LaunchParams>,
    bridge: StoredValue<HostBridge>,
    /// The chatbot's configuration (the session's): its `chat_type` goes with every event.
    config: RwSignal<Option<ChatConfig>>,
    /// When the message now being answered went out (`Date.now()`).
    pub(crate) sent_at: StoredValue<Option<f64>>,
    /// The host page's address as the loader last told it (`context.page` of messages).
    pub page: StoredValue<Option<String>>,
    /// Part ids whose once-only effects (host events) already happened.
    announced: StoredValue<HashSet<String>>,
    /// The chat is closed and shows its popup messages above the launcher (`peekChat`).
    pub peek: RwSignal<bool>,
    /// The host page has opened the chat at least once (no popup after that).
    opened: StoredValue<bool>,
}

impl Host {
    pub fn new(
        params: StoredValue<LaunchParams>,
        bridge: StoredValue<HostBridge>,
        config: RwSignal<Option<ChatConfig>>,
    ) -> Self {
        Host {
            params,
            bridge,
            config,
            sent_at: StoredValue::new(None),
            page: StoredValue::new(None),
            announced: StoredValue::new(HashSet::new()),
            peek: RwSignal::new(false),
            opened: StoredValue::new(false),
        }
    }

    pub fn bridge(&self) -> HostBridge {
        self.bridge.get_value()
    }

    /// Rendered in the page (the inline embed) rather than as a floating window.
    pub fn inline(&self) -> bool {
        self.params.with_value(|p| p.inline)
    }

    pub fn chatbot_id(&self) -> String {
        self.params.with_value(|p| p.chatbot_id.clone())
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

    /// True the first time it is called for `part_id` (host events fire once per part, even
    /// when `done` redraws a message).
    pub fn first_sight(&self, part_id: &str) -> bool {
        self.announced
            .try_update_value(|seen| seen.insert(part_id.to_owned()))
            .unwrap_or(false)
    }

    /// `context.page` of a message: the host page the visitor is on.
    pub fn context(&self) -> Option<MessageContext> {
        Some(MessageContext {
            page: self
                .page
                .get_value()
                .or_else(|| self.bridge.with_value(|b| b.origin().map(str::to_owned))),
        })
    }

    /// The config's popup messages appear beside the closed launcher a few seconds after the
    /// chat has loaded, unless the visitor has opened the chat or dismissed them this session.
    pub fn schedule_popup(self) {
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

    /// The host page opened the chat window (seed 002's `chat_open` goes out from here); the
    /// caller then moves focus to the composer.
    pub fn window_opened(&self) {
        self.post(FrameAction::ChatOpened);
        self.opened.set_value(true);
        self.peek.set(false);
    }
}
