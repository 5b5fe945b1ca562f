//! The dgbot chat app that runs inside the iframe (Leptos 0.8, client-side rendered), in four
//! layers whose arrows only point down (`tests/widget_layers.rs` keeps them so):
//!
//! - [`ui`]: the views, one component per file, reading narrow state handles.
//! - [`state`]: what the page shows and does: small `Copy` handles of signals (session,
//!   transcript, answer, composer, livechat, host bridge) and their operations.
//! - [`services`]: the talk with the outside world: the API client, HTTP and SSE, the history,
//!   livechat polling, postMessage, files.
//! - [`logic`]: the decisions, plain Rust tested natively: the answer's outcome and batching,
//!   the send policy, the livechat machine, launch parameters, errors, the widget's words.
//!
//! Below them all, the `dgbot-protocol` crate: every wire shape, the SSE parser and the
//! transcript reducer. Beside them, [`leptos_private`]: the one place that uses Leptos'
//! private API.

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

pub mod leptos_private;
pub mod logic;
pub mod services;
pub mod state;
pub mod ui;

/// Mount the app into `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(ui::app::App);
}
