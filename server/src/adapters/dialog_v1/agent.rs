//! Seed 002, "External agent flow": the agent app's endpoints, with a livechat session token
//! (`Authorization: Bearer <token>` from the hand-over webhook or
//! `POST /livechat/sessions/{id}/token`), scoped to one session.

use axum::Json;
use axum::extract::State;
use dgbot_protocol::livechat::{
    AgentCloseRequest, AgentContext, AgentMessageRequest, AgentTypingRequest,
    LivechatMessageResponse, LivechatSession, LivechatState,
};

use crate::SharedState;
use crate::http::auth::AgentSession;
use crate::http::error::{ApiJson, Failure};

/// `GET /livechat/agent/context`: session values and the full transcript.
pub async fn context(
    State(state): State<SharedState>,
    AgentSession(session): AgentSession,
) -> Result<Json<AgentContext>, Failure> {
    Ok(Json(state.core.agent_context(&session)?))
}

/// `POST /livechat/agent/messages` `{agent_id, message}`: the first one assigns the agent.
pub async fn message(
    State(state): State<SharedState>,
    AgentSession(session): AgentSession,
    ApiJson(req): ApiJson<AgentMessageRequest>,
) -> Result<Json<LivechatMessageResponse>, Failure> {
    let (message, state_version) =
        state
            .core
            .agent_message(&session, &req.agent_id, req.message.parts)?;
    Ok(Json(LivechatMessageResponse {
        message,
        state_version,
    }))
}

/// `POST /livechat/agent/typing` `{agent_id, is_typing}`: also assigns the agent.
pub async fn typing(
    State(state): State<SharedState>,
    AgentSession(session): AgentSession,
    ApiJson(req): ApiJson<AgentTypingRequest>,
) -> Result<Json<LivechatState>, Failure> {
    Ok(Json(state.core.agent_typing(
        &session,
        &req.agent_id,
        req.is_typing,
    )?))
}

/// `POST /livechat/agent/close` `{agent_id, reason}`.
pub async fn close(
    State(state): State<SharedState>,
    AgentSession(session): AgentSession,
    ApiJson(req): ApiJson<AgentCloseRequest>,
) -> Result<Json<LivechatSession>, Failure> {
    Ok(Json(state.core.agent_close(
        &session,
        &req.agent_id,
        req.reason,
    )?))
}
