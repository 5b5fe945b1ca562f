//! Seed 003: WebChatAgent, `POST /api/chat` and the WebSocket `/api/livechat` (wire shapes in
//! `dgbot_protocol::webchatagent`).

use axum::Router;

use crate::SharedState;

pub fn routes(_state: &SharedState) -> Router<SharedState> {
    Router::new()
}
