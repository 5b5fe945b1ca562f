//! Wire shapes and pure logic shared by the dgbot iframe app (wasm) and the reference
//! server (native). No I/O and no web-sys here, so everything is tested natively.
//!
//! - [`message`]: messages, parts, blocks and spans (seed 002, "How message data is structured").
//! - [`stream`]: the SSE events of `POST /api/v1/chat/messages` (seed 002, "How streaming works")
//!   and the structured `part_delta` grammar (our decision, `docs/protocol.md`).
//! - [`sse`]: an incremental Server-Sent-Events parser that gives the same events for any chunking.
//! - [`transcript`]: the reducer that grows a draft from deltas and replaces it with `done.message`.
//! - [`api`]: request/response bodies and the `ApiError` envelope (seed 002, "Chatbot API Errors").
//! - [`bridge`]: the postMessage envelope between the host page and the iframe.
//! - [`livechat`]: livechat sessions, agent and setup bodies (seed 002, "Livechat end-to-end").
//! - [`forms`]: marker form validation, shared so widget and server say the same.
//! - [`dgbot_ws`], [`webchatagent`], [`dosti`]: the other seeds' wire shapes (001, 003, 004).

pub mod api;
pub mod bridge;
pub mod dgbot_ws;
pub mod dosti;
pub mod forms;
pub mod livechat;
pub mod message;
pub mod sources;
pub mod sse;
pub mod stream;
pub mod transcript;
pub mod webchatagent;
pub mod webhooks;

/// Decode JSON text as `T`, through a [`serde_json::Value`]. What every decoder the widget uses
/// goes through: serde_json's text parser is then instantiated once (for `Value`), and each
/// type's decoder reads a `Value`, whose deserializer is a match on a tree rather than a parser
/// inlined into every field. It costs a tree's allocation per decode; it saves several KB of the
/// opened widget (BENCHMARKS.md, "Bundle sizes").
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    T::deserialize(serde_json::from_str::<serde_json::Value>(text)?)
}

/// A JSON value someone else parsed, as `T`. The widget parses text with the browser's
/// `JSON.parse` and gives the value here, so it carries no JSON text parser at all.
pub fn from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> serde_json::Result<T> {
    T::deserialize(value)
}

pub use api::{ApiError, ApiErrorCode, FieldError};
pub use message::{Block, ListItem, Message, Part, RichText, Role, Span, SpanKind};
pub use stream::{Delta, StreamErrorEvent, StreamEvent};
pub use transcript::{Change, ReduceError, Transcript};
