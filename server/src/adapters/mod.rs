//! One folder per seed protocol; each decodes its wire format into calls on the core and
//! encodes the answers back. Adapters never import each other.
//!
//! - [`dialog_v1`]: seed 002, the Dialog Intelligens chat API under `/api/v1/chat/`
//!   (visitor API over HTTP + SSE, livechat for visitor, agent and setup backend).
//! - [`dgbot_ws`]: seed 001, DGbot's WebSocket `/ws`.
//! - [`webchatagent`]: seed 003, WebChatAgent's `POST /api/chat` and WebSocket `/api/livechat`.
//! - [`dosti`]: seed 004, Dosti's Socket.IO (`/socket.io/`) and REST pipeline (`/api/chat/send`,
//!   `/api/chat/poll`).

pub mod dgbot_ws;
pub mod dialog_v1;
pub mod dosti;
pub mod webchatagent;
