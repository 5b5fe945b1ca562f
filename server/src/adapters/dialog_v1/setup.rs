//! Seed 002, "Setup before handover": the site owner's backend, with the chatbot API key
//! (HTTP Basic, as for `/auth`). Paths the seed leaves to its API reference are ours
//! (docs/protocol.md): agent profiles, settings, the session list with its `turn` filter, the
//! badge count, and session tokens.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use dgbot_protocol::livechat::{
    AgentProfileRequest, LivechatSettings, SessionCount, SessionList, SessionToken,
};
use dgbot_protocol::message::Author;

use crate::SharedState;
use crate::http::auth::ApiKey;
use crate::http::error::{ApiJson, Failure, path, query};

/// `PUT /livechat/agents/{agent_id}` `{display_name, avatar_url?}`.
pub async fn put_agent(
    State(state): State<SharedState>,
    key: ApiKey,
    agent_id: Result<Path<String>, PathRejection>,
    ApiJson(req): ApiJson<AgentProfileRequest>,
) -> Result<Json<Author>, Failure> {
    let Ok(Path(agent_id)) = agent_id else {
        return Err(Failure::validation(
            "agent_id",
            "Use letters, digits, '-', '_', '.' and '@'",
        ));
    };
    Ok(Json(state.core.put_agent(
        &key.chatbot_id,
        &agent_id,
        &req.display_name,
        req.avatar_url,
    )?))
}

/// `GET /livechat/settings`.
pub async fn get_settings(
    State(state): State<SharedState>,
    key: ApiKey,
) -> Result<Json<LivechatSettings>, Failure> {
    Ok(Json(state.core.livechat_settings(&key.chatbot_id)?))
}

/// `PUT /livechat/settings`: the whole settings object; kept in the database.
pub async fn put_settings(
    State(state): State<SharedState>,
    key: ApiKey,
    ApiJson(settings): ApiJson<LivechatSettings>,
) -> Result<Json<LivechatSettings>, Failure> {
    Ok(Json(
        state
            .core
            .put_livechat_settings(&key.chatbot_id, settings)?,
    ))
}

#[derive(serde::Deserialize)]
pub struct SessionsQuery {
    status: Option<String>,
    turn: Option<String>,
}

/// `GET /livechat/sessions?status=waiting|active|closed&turn=agent|visitor`, newest first.
pub async fn sessions(
    State(state): State<SharedState>,
    key: ApiKey,
    q: Result<Query<SessionsQuery>, QueryRejection>,
) -> Result<Json<SessionList>, Failure> {
    let q = query(q, "status", "Invalid query")?;
    Ok(Json(SessionList {
        sessions: state.core.list_sessions(
            &key.chatbot_id,
            q.status.as_deref(),
            q.turn.as_deref(),
        )?,
    }))
}

/// `GET /livechat/sessions/count?status=&turn=agent` → `{count}`, for badges.
pub async fn count(
    State(state): State<SharedState>,
    key: ApiKey,
    q: Result<Query<SessionsQuery>, QueryRejection>,
) -> Result<Json<SessionCount>, Failure> {
    let q = query(q, "status", "Invalid query")?;
    let n = state
        .core
        .list_sessions(&key.chatbot_id, q.status.as_deref(), q.turn.as_deref())?
        .len();
    Ok(Json(SessionCount { count: n as u64 }))
}

/// `POST /livechat/sessions/{livechat_session_id}/token` → `{token, expires_at}`.
pub async fn token(
    State(state): State<SharedState>,
    key: ApiKey,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<SessionToken>, Failure> {
    let id = path(id, "livechat session")?;
    let session = state.core.session_of_chatbot(&key.chatbot_id, &id)?;
    Ok(Json(state.core.issue_session_token(&session.id)?))
}
