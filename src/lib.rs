//! The dgbot chat app that runs inside the iframe (Leptos 0.8, client-side rendered).
//!
//! - [`chat`]: the chat controller (session, sending, applying the stream) provided as context.
//! - [`view_model`]: the reactive mirror of the transcript, updated at O(delta).
//! - [`render`]: one renderer per part type; [`markers`]: the marker parts (forms, uploads, …).
//! - [`app`]: the window: header, message log, composer.
//! - [`transport`]: HTTP and SSE over fetch. [`bridge`]: postMessage to and from the host page.

pub mod app;
pub mod bridge;
pub mod chat;
pub mod markers;
pub mod render;
pub mod transport;
pub mod view_model;

/// Mount the app into `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(app::App);
}
