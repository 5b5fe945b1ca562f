//! Seed 004's "Stateless HTTP REST API Pipeline": `POST /api/chat/send` and
//! `GET|POST /api/chat/poll`. Every answer is JSON; every failure is
//! `{"success": false, "error": "…", "code": "…"}` with a 4xx (or 500) status.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{ORIGIN, RETRY_AFTER};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use dgbot_protocol::dosti::{Failure, PollRequest, PollResponse, SendRequest, SendResponse};
use serde::de::DeserializeOwned;

use super::visitor::{self, DostiVisitor, Via};
use crate::SharedState;
use crate::http::origin::same_origin;
use dgbot_core::CoreError;

/// A failure on its way out: the status and `{success: false, error, code}` (`Retry-After`
/// with `429`).
pub struct Refused(StatusCode, Failure);

impl From<CoreError> for Refused {
    fn from(e: CoreError) -> Self {
        let (status, failure) = visitor::failure(&e);
        Refused(status, failure)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let Refused(status, failure) = self;
        let retry_after = failure.retry_after;
        let mut res = (status, Json(failure)).into_response();
        if let Some(secs) = retry_after {
            res.headers_mut().insert(RETRY_AFTER, secs.into());
        }
        res
    }
}

/// The body as `T`, whatever the `Content-Type` (the seed's clients send JSON, not all of them
/// say so): not JSON is `400`, JSON of the wrong shape `422`, each with what is wrong.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Refused> {
    serde_json::from_slice(bytes).map_err(|e| {
        let (status, error) = match e.classify() {
            serde_json::error::Category::Data => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Invalid request body: {e}"),
            ),
            _ => (
                StatusCode::BAD_REQUEST,
                "Request body is not valid JSON".to_owned(),
            ),
        };
        Refused(status, Failure::new("validation", error))
    })
}

/// The `Origin` a browser sent, unless it is the server's own.
fn foreign_origin<'a>(parts: &'a Parts, state: &SharedState) -> Option<&'a str> {
    let origin = parts.headers.get(ORIGIN)?.to_str().unwrap_or("null");
    (!same_origin(parts, origin, &state.config.public_base)).then_some(origin)
}

fn visitor_of(
    state: &SharedState,
    parts: &Parts,
    api_key: &str,
    visitor_id: &str,
    visitor_name: Option<&str>,
) -> Result<DostiVisitor, Refused> {
    Ok(visitor::authenticate(
        &state.core,
        Some(api_key),
        Some(visitor_id),
        visitor_name,
        foreign_origin(parts, state),
    )?)
}

/// `POST /api/chat/send {apiKey, visitorId, visitorName, message}`: the message is stored
/// (and the visitor queued for the agents) before this answers; the answer arrives by poll.
pub async fn send(
    State(state): State<SharedState>,
    parts: Parts,
    bytes: Bytes,
) -> Result<Json<SendResponse>, Refused> {
    let req: SendRequest = body(&bytes)?;
    let visitor = visitor_of(
        &state,
        &parts,
        &req.api_key,
        &req.visitor_id,
        req.visitor_name.as_deref(),
    )?;
    let message = visitor::send(&state.core, &visitor, &req.message, Via::Rest)?;
    Ok(Json(SendResponse {
        success: true,
        message,
    }))
}

/// `GET /api/chat/poll?apiKey=…&visitorId=…&lastTimestamp=…`.
pub async fn poll_get(
    State(state): State<SharedState>,
    parts: Parts,
) -> Result<Json<PollResponse>, Refused> {
    let req: PollRequest = query(&parts.uri)?;
    poll(&state, &parts, req)
}

/// `POST /api/chat/poll {apiKey, visitorId, lastTimestamp}`.
pub async fn poll_post(
    State(state): State<SharedState>,
    parts: Parts,
    bytes: Bytes,
) -> Result<Json<PollResponse>, Refused> {
    let req: PollRequest = body(&bytes)?;
    poll(&state, &parts, req)
}

fn poll(
    state: &SharedState,
    parts: &Parts,
    req: PollRequest,
) -> Result<Json<PollResponse>, Refused> {
    let visitor = visitor_of(state, parts, &req.api_key, &req.visitor_id, None)?;
    let messages = visitor::conversation(&state.core, &visitor.key, req.last_timestamp)?;
    Ok(Json(PollResponse {
        success: true,
        messages,
    }))
}

/// The query string as `T`: `422` naming what is missing or wrong.
fn query<T: DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, Refused> {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|axum::extract::Query(v)| v)
        .map_err(|e| {
            Refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                Failure::new("validation", format!("Invalid query: {}", e.body_text())),
            )
        })
}
