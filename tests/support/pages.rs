//! The pages the end-to-end tests drive, and their selectors in one place: the host page (the
//! loader's launcher and its `data-state`), the chat in its iframe, and the agent console. Tests
//! name these instead of writing selectors (or the loader's minified class names) themselves.

/// The host page: the loader's element and its state.
pub mod host {
    /// The loader's element on the host page (its launcher and frame are in its shadow root).
    pub const ROOT: &str = "dgbot-root";
    /// The element's `data-state`: `closed`, `open`, `expanded` (open, large: `expandChat`), or
    /// `peek` (closed, the popup messages showing beside the launcher).
    pub const OPEN: &str = "open";
    pub const EXPANDED: &str = "expanded";
    pub const PEEK: &str = "peek";
    pub const CLOSED: &str = "closed";
    /// A script that returns the loader's state (`""` before the launcher's look arrived).
    pub const STATE_JS: &str =
        "var r = document.getElementById('dgbot-root'); return r ? (r.dataset.state || '') : '';";
}

/// The chat in its iframe.
pub mod widget {
    pub const WELCOME: &str = "[data-testid=welcome]";
    pub const COMPOSER: &str = "[data-testid=composer]";
    pub const SEND: &str = "[data-testid=send]";
    /// Every message in the log; by author below.
    pub const MESSAGE: &str = "[data-testid=message]";
    pub const ANSWER: &str = "[data-testid=message][data-role=assistant]";
    pub const VISITOR_MESSAGE: &str = "[data-testid=message][data-role=user]";
    pub const AGENT_MESSAGE: &str = "[data-testid=message][data-role=agent]";
    /// A question that could not be sent, and the offer to send it again.
    pub const UNSENT: &str = "[data-testid=unsent]";
    /// An answer cut off, and its "Try again".
    pub const INCOMPLETE: &str = "[data-testid=incomplete]";
    pub const RETRY: &str = "[data-testid=incomplete] [data-testid=retry]";
    /// The offer of a person in an answer, and the button under the composer.
    pub const HANDOVER: &str = "[data-testid=handover]";
    pub const TALK_TO_PERSON: &str = "[data-testid=talk-to-person]";
    pub const AGENT_NAME: &str = "[data-testid=agent-name]";
    pub const AGENT_TYPING: &str = "[data-testid=agent-typing]";
    pub const LIVECHAT_CLOSED: &str = "[data-testid=livechat-closed]";
    pub const LIVECHAT_FEEDBACK: &str = "[data-testid=livechat-feedback]";
    pub const PRODUCT: &str = "[data-testid=product]";
    pub const RATE: &str = "[data-testid=rate]";
    pub const RATE_PANEL: &str = "[data-testid=rate-panel]";
    pub const EARLIER: &str = "[data-testid=earlier]";
    pub const SIZE: &str = "[data-testid=size]";
    pub const POPUP_MESSAGE: &str = "[data-testid=popup] .popup-message";
}

/// The agent console (`/agent/`).
pub mod console {
    pub const API_KEY: &str = "[data-testid=api-key]";
    pub const SIGNIN_SUBMIT: &str = "[data-testid=signin-submit]";
    pub const SIGNIN_ERROR: &str = "[data-testid=signin-error]";
    pub const AGENT_ID: &str = "[data-testid=agent-id]";
    pub const PROFILE_SUBMIT: &str = "[data-testid=profile-submit]";
    pub const ME_NAME: &str = "[data-testid=me-name]";
    pub const TRANSCRIPT: &str = "[data-testid=transcript]";
    pub const SESSION_STATUS: &str = "[data-testid=session-status]";
    pub const VISITOR_TITLE: &str = "[data-testid=visitor-title]";
    pub const VISITOR_TYPING: &str = "[data-testid=visitor-typing]";
    pub const TURN_COUNT: &str = "[data-testid=turn-count]";
    pub const REPLY: &str = "[data-testid=reply]";
    pub const PENDING_ATTACHMENT: &str = "[data-testid=pending-attachment]";
    pub const CONFLICT: &str = "[data-testid=conflict]";
    pub const CLOSE_CHAT: &str = "[data-testid=close-chat]";
    pub const ALERTS: &str = "[data-testid=alerts]";
}
