//! Seed 004: Dosti, Socket.IO on `/socket.io/` and the REST pipeline `/api/chat/send` and
//! `/api/chat/poll` (wire shapes in `dgbot_protocol::dosti`).

use axum::Router;

use crate::SharedState;

pub fn routes(_state: &SharedState) -> Router<SharedState> {
    Router::new()
}

/// The Socket.IO server, as a layer around the whole app (it answers `/socket.io/` only).
pub fn socket_io(app: Router, _state: &SharedState) -> Router {
    app
}
