//! The widget's decisions, as plain Rust: no Leptos, no web-sys, tested natively
//! (`cargo test -p dgbot --lib`). The layers above carry them out: `services` talks to the
//! outside world, `state` keeps what the page shows, `ui` draws it.
//!
//! - [`answer`]: the answer's outcome and batching policy (what each stream event does, when a
//!   batch is applied, how an answer ends: done, incomplete, unsent).
//! - [`send`]: the send loop's retry decisions.
//! - [`livechat`]: the livechat state machine.
//! - [`launch`]: the launch parameters the loader puts in the iframe URL.
//! - [`errors`]: failures as values, and what each tells the visitor and the host page.
//! - [`i18n`]: the widget's words in the visitor's language.

pub mod answer;
pub mod errors;
pub mod i18n;
pub mod launch;
pub mod livechat;
pub mod send;
