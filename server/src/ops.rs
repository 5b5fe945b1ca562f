//! Running the server for real (docs/deploy.md): structured logs, one line per request with a
//! request id, health and readiness, and Prometheus metrics.
//!
//! Logs never carry message text, names, emails or tokens at `info`: a request's line has its
//! method, matched route (the pattern, not the path), status, latency, chatbot id and request id.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use crate::SharedState;

/// The request id header: taken from the request when a proxy set one, else made; echoed.
pub const REQUEST_ID: &str = "x-request-id";

/// How logs are written (`DGBOT_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object a line (for a log collector).
    Json,
    /// Readable lines (for a terminal).
    Human,
}

/// Install the global log subscriber: `filter` is a `RUST_LOG`-style directive
/// (`info`, `dgbot_server=debug,tower=warn`). Logs go to standard error.
pub fn init_logging(format: LogFormat, filter: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| format!("DGBOT_LOG {filter:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let done = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Human => builder.try_init(),
    };
    done.map_err(|e| e.to_string())
}

/// The process's metrics recorder (installed once; every server of the process shares it).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_seconds".into()),
                &[
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ],
            )
            .expect("buckets are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (an embedding program): ours then stays empty.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// An open long-lived connection, counted in `dgbot_open_connections{kind}` for as long as
/// this lives (dropped when the connection ends, however it ends).
pub struct OpenConnection(&'static str);

impl OpenConnection {
    /// `kind`: `sse`, `ws` (seed 001's `/ws`), `livechat` (`/api/livechat`), `socketio`.
    pub fn new(kind: &'static str) -> Self {
        metrics::gauge!("dgbot_open_connections", "kind" => kind).increment(1.0);
        OpenConnection(kind)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!("dgbot_open_connections", "kind" => self.0).decrement(1.0);
    }
}

/// A request id from the client or its proxy is kept when it is short and printable.
fn request_id(req: &Request<Body>) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).expect("the OS has a random source");
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        })
}

/// The chatbot a request is for, when it says: `chatbot_id` in the query, or the visitor
/// token's chatbot (verified; an invalid token names none).
fn chatbot_of(req: &Request<Body>, state: &SharedState) -> Option<String> {
    let from_query = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("chatbot_id="))
        .filter(|id| {
            id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned);
    from_query.or_else(|| {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        state.tokens.verify(token.trim()).ok().map(|c| c.cid)
    })
}

/// One log line and the request metrics per request, and the `x-request-id` header. The
/// latency is to the response's head (a stream's own length is not in it).
pub async fn request_log(
    State(state): State<SharedState>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| {
            // Socket.IO is answered before routing; anything else unmatched is one label.
            if req.uri().path().starts_with("/socket.io/") {
                "/socket.io/".to_owned()
            } else {
                "unmatched".to_owned()
            }
        });
    let chatbot = chatbot_of(&req, &state);
    let mut res = next.run(req).await;
    let status = res.status().as_u16();
    let latency = started.elapsed();
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    metrics::counter!(
        "dgbot_http_requests_total",
        "method" => method.to_string(),
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("dgbot_http_request_duration_seconds", "route" => route.clone())
        .record(latency.as_secs_f64());
    tracing::info!(
        request_id = %id,
        method = %method,
        route = %route,
        status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        chatbot_id = chatbot.as_deref().unwrap_or(""),
        "request"
    );
    res
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and its schema is migrated; `503` otherwise.
pub async fn readyz(State(state): State<SharedState>) -> Response {
    match state.core.ready() {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::warn!("not ready: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": e.to_string() })),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format. The gauges read from the database (livechat sessions
/// by state, webhook queue depth) are refreshed on each scrape.
pub async fn metrics(State(state): State<SharedState>) -> Response {
    let handle = metrics_handle();
    refresh_store_gauges(&state);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

fn refresh_store_gauges(state: &Arc<crate::AppState>) {
    match state.core.ops_counts() {
        Ok(counts) => {
            for status in ["waiting", "active", "closed"] {
                let n = counts
                    .sessions
                    .iter()
                    .find(|(s, _)| s == status)
                    .map_or(0, |(_, n)| *n);
                metrics::gauge!("dgbot_livechat_sessions", "state" => status).set(n as f64);
            }
            for (status, n) in &counts.sessions {
                if !["waiting", "active", "closed"].contains(&status.as_str()) {
                    metrics::gauge!("dgbot_livechat_sessions", "state" => status.clone())
                        .set(*n as f64);
                }
            }
            metrics::gauge!("dgbot_webhook_queue_depth").set(counts.webhook_queue as f64);
        }
        Err(e) => tracing::warn!("metrics: {e}"),
    }
}
