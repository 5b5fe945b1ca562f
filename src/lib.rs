//! The dgbot chat app that runs inside the iframe (Leptos 0.8, client-side rendered).
//!
//! - [`chat`]: the chat controller (session, sending, applying the stream) provided as context.
//! - [`view_model`]: the reactive mirror of the transcript, updated at O(delta).
//! - [`render`]: one renderer per part type; [`markers`]: the marker parts (forms, uploads, …).
//! - [`app`]: the window: header, message log, composer.
//! - [`send`]: the send loop's retry decisions (plain Rust, tested natively).
//! - [`api`]: the API client: visitor id, token, the one renewal path.
//! - [`livechat`]: the livechat state machine (plain Rust, tested natively);
//!   [`livechat_view`]: following a livechat session and its views.
//! - [`transport`]: HTTP and SSE over fetch. [`bridge`]: postMessage to and from the host page.

pub mod api;
pub mod app;
pub mod bridge;
pub mod chat;
pub mod livechat;
pub mod livechat_view;
pub mod markers;
pub mod render;
pub mod send;
pub mod transport;
pub mod view_model;

/// Mount the app into `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(app::App);
}
