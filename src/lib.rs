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

/// A function whose code is left out of the first download. In the release build (feature
/// `split`) it is a wasm-split point: `cargo xtask build` moves it, with the code only its
/// chunk uses, into `split_<chunk>.wasm`, fetched on the first call (functions naming the same
/// chunk share one file). Elsewhere (tests, debug builds) it is a plain `async fn`. Either way
/// the caller awaits a `Result`: `Err(Unloaded)` when the chunk could not be fetched, and a
/// later call tries again.
#[macro_export]
macro_rules! lazy {
    ($chunk:ident: $(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        #[cfg(feature = "split")]
        #[allow(unused_braces)]
        #[leptos::wasm_split::wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible)]
        $vis fn $name($($arg: $ty),*) -> ::core::result::Result<$ret, $crate::Unloaded> {
            Ok($body)
        }

        $(#[$meta])*
        #[cfg(not(feature = "split"))]
        #[allow(unused_braces)]
        $vis async fn $name($($arg: $ty),*) -> ::core::result::Result<$ret, $crate::Unloaded> {
            Ok($body)
        }
    };
}

/// A lazily loaded chunk could not be fetched (offline, a deploy in between).
#[derive(Debug, Clone, Copy)]
pub struct Unloaded;

impl From<leptos::wasm_split::SplitLoaderError> for Unloaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Unloaded
    }
}

pub mod api;
pub mod app;
pub mod bridge;
pub mod chat;
pub mod i18n;
pub mod json;
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
