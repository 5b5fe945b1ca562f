//! Seed 001: DGbot's WebSocket, `GET /ws?key=CHATBOT_ID&visitor_id=…` (wire shapes in
//! `dgbot_protocol::dgbot_ws`).

use axum::Router;

use crate::SharedState;

pub fn routes(_state: &SharedState) -> Router<SharedState> {
    Router::new()
}
