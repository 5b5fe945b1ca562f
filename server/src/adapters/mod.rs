//! One folder per seed protocol; each decodes its wire format into calls on the core and
//! encodes the answers back. Adapters never import each other.
//!
//! - [`dialog_v1`]: seed 002, the Dialog Intelligens chat API under `/api/v1/chat/`
//!   (visitor API over HTTP + SSE, livechat for visitor, agent and setup backend).

pub mod dialog_v1;
