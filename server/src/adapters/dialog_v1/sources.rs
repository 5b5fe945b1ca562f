//! The site owner's sources (issue 26), with the chatbot API key like the rest of seed 002's
//! setup: `POST /sources` adds a website, a file, a curated answer or a product feed (checked
//! at once, synced in the background); `GET /sources` lists them with their status;
//! `GET /sources/{source_id}` adds each page's state and why one failed; `POST
//! /sources/{source_id}/sync` syncs again now; `DELETE /sources/{source_id}` removes one, its
//! passages leaving the assistant's knowledge before the answer.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dgbot_core::model::ids::rfc3339;
use dgbot_core::model::knowledge::{DocumentRecord, DocumentState, SourceRecord, SourceSpec};
use dgbot_protocol::api::ApiErrorCode;
use dgbot_protocol::sources::{PageView, SourceDetail, SourceList, SourceView};

use crate::SharedState;
use crate::http::auth::ApiKey;
use crate::http::error::{ApiJson, Failure};

/// A `POST /sources` body: a 10 MB file, base64, with room for the JSON around it.
pub const MAX_SOURCE_BODY: usize = 15 * 1024 * 1024;

fn view(s: &SourceRecord) -> SourceView {
    SourceView {
        source_id: s.source_id.clone(),
        kind: s.spec.type_name().into(),
        url: s.spec.url().map(str::to_owned),
        filename: match &s.spec {
            SourceSpec::File { filename, .. } => Some(filename.clone()),
            _ => None,
        },
        status: s.status.as_str().into(),
        documents: s.documents,
        last_synced_at: s.last_synced_at.map(rfc3339_ms),
        error: s.error.clone(),
        from_config: s.from_config,
    }
}

/// RFC 3339 with milliseconds (two syncs in one second are told apart).
fn rfc3339_ms(ms: u64) -> String {
    let secs = rfc3339(ms / 1000);
    match secs.strip_suffix('Z') {
        Some(head) => format!("{head}.{:03}Z", ms % 1000),
        None => secs,
    }
}

fn page(d: &DocumentRecord) -> PageView {
    PageView {
        url: d.url.clone(),
        title: d.title.clone(),
        state: match d.state {
            DocumentState::Ok => "ok",
            DocumentState::Failed => "failed",
            DocumentState::Skipped => "skipped",
        }
        .into(),
        error: d.error.clone(),
        passages: d.passages.len() as u32,
        products: d.products.len() as u32,
    }
}

fn source_id(id: Result<Path<String>, PathRejection>) -> Result<String, Failure> {
    id.map(|Path(id)| id)
        .map_err(|_| Failure::new(ApiErrorCode::NotFound, "No such source"))
}

/// `POST /sources` → `201` with the source, `queued`.
pub async fn add(
    State(state): State<SharedState>,
    key: ApiKey,
    ApiJson(spec): ApiJson<SourceSpec>,
) -> Result<(StatusCode, Json<SourceView>), Failure> {
    let source = state.core.add_source(&key.chatbot_id, spec).await?;
    Ok((StatusCode::CREATED, Json(view(&source))))
}

/// `GET /sources`.
pub async fn list(
    State(state): State<SharedState>,
    key: ApiKey,
) -> Result<Json<SourceList>, Failure> {
    let sources = state.core.sources(&key.chatbot_id)?;
    Ok(Json(SourceList {
        sources: sources.iter().map(view).collect(),
    }))
}

/// `GET /sources/{source_id}`.
pub async fn detail(
    State(state): State<SharedState>,
    key: ApiKey,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<SourceDetail>, Failure> {
    let (source, documents) = state.core.source(&key.chatbot_id, &source_id(id)?)?;
    Ok(Json(SourceDetail {
        source: view(&source),
        pages: documents.iter().map(page).collect(),
    }))
}

/// `POST /sources/{source_id}/sync` → `202` with the source, `queued`.
pub async fn sync(
    State(state): State<SharedState>,
    key: ApiKey,
    id: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<SourceView>), Failure> {
    let source = state.core.queue_sync(&key.chatbot_id, &source_id(id)?)?;
    Ok((StatusCode::ACCEPTED, Json(view(&source))))
}

/// `DELETE /sources/{source_id}` → `204`.
pub async fn remove(
    State(state): State<SharedState>,
    key: ApiKey,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, Failure> {
    let id = source_id(id)?;
    let (source, _) = state.core.source(&key.chatbot_id, &id)?;
    if source.from_config {
        return Err(Failure::new(
            ApiErrorCode::Conflict,
            "This source is set in the server's configuration file: remove it there",
        ));
    }
    state.core.delete_source(&key.chatbot_id, &id)?;
    Ok(StatusCode::NO_CONTENT)
}
