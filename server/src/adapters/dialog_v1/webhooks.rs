//! Seed 002, "Webhook events and signing" and "Webhook event replay", for the site owner's
//! backend (chatbot API key): the endpoint configuration and the persisted events.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use dgbot_protocol::api::ApiErrorCode;
use dgbot_protocol::webhooks::{
    AttemptView, EventDetail, EventList, EventSummary, WebhookConfig, WebhookView,
};

use crate::SharedState;
use crate::http::auth::ApiKey;
use crate::http::error::{ApiJson, Failure, path, query};
use dgbot_core::model::OutboxEvent;
use dgbot_core::model::ids;
use dgbot_core::outbox::{WebhookEvent, view};

/// `GET /webhooks`: the endpoint, the secret masked (`404` when none is set).
pub async fn get_config(
    State(state): State<SharedState>,
    key: ApiKey,
) -> Result<Json<WebhookView>, Failure> {
    let config = state
        .core
        .webhook_config(&key.chatbot_id)?
        .ok_or_else(|| Failure::new(ApiErrorCode::NotFound, "No webhook endpoint is set"))?;
    Ok(Json(view(&config)))
}

/// `PUT /webhooks` `{url, secret, events}`: kept in the database; the required events are
/// added; the environment is the API key's.
pub async fn put_config(
    State(state): State<SharedState>,
    key: ApiKey,
    ApiJson(mut config): ApiJson<WebhookConfig>,
) -> Result<Json<WebhookView>, Failure> {
    config.environment = key.environment.into();
    let config = state.core.put_webhook_config(&key.chatbot_id, config)?;
    Ok(Json(view(&config)))
}

fn summary(e: &OutboxEvent) -> EventSummary {
    EventSummary {
        event_id: e.event_id.clone(),
        event_type: e.event_type.clone(),
        created_at: ids::rfc3339(e.created_at),
        state: e.state.clone(),
        attempts: e.attempts,
        delivered_at: e.delivered_at.map(ids::rfc3339),
    }
}

#[derive(serde::Deserialize)]
pub struct EventsQuery {
    #[serde(rename = "type")]
    event_type: Option<String>,
    state: Option<String>,
    limit: Option<usize>,
    before: Option<String>,
}

/// `GET /events?type=&state=&limit=&before=`: unexpired events, newest first.
pub async fn list(
    State(state): State<SharedState>,
    key: ApiKey,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<EventList>, Failure> {
    let q = query(q, "limit", "limit must be a number from 1 to 100")?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(Failure::validation(
            "limit",
            "limit must be a number from 1 to 100",
        ));
    }
    if let Some(t) = q.event_type.as_deref()
        && WebhookEvent::parse(t).is_none()
    {
        return Err(Failure::validation("type", "Unknown event type"));
    }
    if let Some(s) = q.state.as_deref()
        && !matches!(s, "pending" | "delivered" | "failed" | "dead")
    {
        return Err(Failure::validation(
            "state",
            "Use pending, delivered, failed or dead",
        ));
    }
    let mut events = state.core.webhook_events(
        &key.chatbot_id,
        q.event_type.as_deref(),
        q.state.as_deref(),
        q.before.as_deref(),
        limit + 1,
    )?;
    let has_more = events.len() > limit;
    events.truncate(limit);
    Ok(Json(EventList {
        events: events.iter().map(summary).collect(),
        has_more,
    }))
}

fn no_such_event() -> Failure {
    Failure::new(
        ApiErrorCode::NotFound,
        "No such event (events expire after 30 days)",
    )
}

/// `GET /events/{event_id}`: the event, its payload, its delivery attempts.
pub async fn detail(
    State(state): State<SharedState>,
    key: ApiKey,
    event_id: Result<Path<String>, PathRejection>,
) -> Result<Json<EventDetail>, Failure> {
    let event_id = path(event_id, "event")?;
    let event = state
        .core
        .webhook_event(&key.chatbot_id, &event_id)?
        .ok_or_else(no_such_event)?;
    let delivery_attempts = state
        .core
        .webhook_attempts(&key.chatbot_id, &event_id)?
        .ok_or_else(no_such_event)?
        .into_iter()
        .map(|a| AttemptView {
            delivery_id: a.delivery_id,
            attempt: a.attempt,
            at: ids::rfc3339(a.at_ms / 1000),
            status_code: a.status,
            error: a.error,
            duration_ms: a.duration_ms,
        })
        .collect();
    Ok(Json(EventDetail {
        event: summary(&event),
        payload: serde_json::from_str(&event.payload).unwrap_or_default(),
        delivery_attempts,
    }))
}

/// `POST /events/{event_id}/replay`: deliver again now, with the same `event_id`.
pub async fn replay(
    State(state): State<SharedState>,
    key: ApiKey,
    event_id: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<EventSummary>), Failure> {
    let event_id = path(event_id, "event")?;
    let event = state
        .core
        .replay_webhook(&key.chatbot_id, &event_id)?
        .ok_or_else(no_such_event)?;
    Ok((StatusCode::ACCEPTED, Json(summary(&event))))
}
