//! The widget's talk with the outside world: async and web, no reactive state of the page's
//! own (that is `state`'s). Below `state`, above `logic`.
//!
//! - [`api`]: the chat API client: visitor id, token, the one renewal path.
//! - [`transport`]: HTTP and SSE over `fetch` (and the stream worker).
//! - [`history`]: the conversation's history, a page at a time.
//! - [`livechat`]: the visitor's livechat API, its long poll included.
//! - [`bridge`]: postMessage to and from the host page.
//! - [`json`]: JSON through the browser's `JSON.parse` / `JSON.stringify`.
//! - [`files`]: files the visitor picks, read as base64.
//! - [`launch`]: the launch parameters of this page's address.
//! - [`now`]: the browser's clock, as the server writes `created_at`.

pub mod api;
pub mod bridge;
pub mod files;
pub mod history;
pub mod json;
pub mod launch;
pub mod livechat;
pub mod transport;

/// Now, by the browser's clock, as the server writes `created_at` (RFC 3339).
pub fn now() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}
