//! Every failure answers with the seed's `ApiError` envelope and the status of its code.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, Path, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dgbot_protocol::api::{ApiError, ApiErrorCode, FieldError};
use tokio::time::{Instant, Sleep};
use tokio_stream::Stream;

use dgbot_core::CoreError;
use serde::de::DeserializeOwned;

/// An `ApiError` on its way out, with the status of its code unless `status` overrides it.
#[derive(Debug)]
pub struct Failure {
    pub error: ApiError,
    pub status: Option<StatusCode>,
    /// `Retry-After` in seconds (with `429 rate_limited`).
    pub retry_after: Option<u64>,
}

impl From<dgbot_core::model::StoreError> for Failure {
    /// A database failure: `500 internal`, logged; the visitor sees a generic error and retries.
    fn from(e: dgbot_core::model::StoreError) -> Self {
        CoreError::Store(e).into()
    }
}

/// Seed 002's code for a core error.
pub fn code_of(e: &CoreError) -> ApiErrorCode {
    match e {
        CoreError::Validation(_) => ApiErrorCode::Validation,
        CoreError::Unauthorized(_) => ApiErrorCode::Unauthorized,
        CoreError::Forbidden(_) => ApiErrorCode::Forbidden,
        CoreError::NotFound(_) => ApiErrorCode::NotFound,
        CoreError::Conflict(_) => ApiErrorCode::Conflict,
        CoreError::RateLimited(_) => ApiErrorCode::RateLimited,
        CoreError::Store(_) => ApiErrorCode::Internal,
    }
}

/// What a person reads of a core error, in English: the fields at fault, the time to wait, or
/// a generic apology for a database failure (which is logged instead, with its cause).
pub fn message_of(e: &CoreError) -> String {
    match e {
        CoreError::Validation(params) => {
            let fields: Vec<String> = params
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect();
            format!("Validation failed ({})", fields.join("; "))
        }
        CoreError::Unauthorized(m)
        | CoreError::Forbidden(m)
        | CoreError::NotFound(m)
        | CoreError::Conflict(m) => m.clone(),
        CoreError::RateLimited(secs) => {
            format!("Too many messages. Please wait {secs} s and try again.")
        }
        CoreError::Store(e) => {
            tracing::warn!("{e}");
            INTERNAL.into()
        }
    }
}

/// What a visitor reads when the server failed.
pub const INTERNAL: &str = "Something went wrong on our side. Please try again.";

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Validation(params) => {
                ApiError::new(ApiErrorCode::Validation, "Validation failed")
                    .with_params(params)
                    .into()
            }
            CoreError::RateLimited(secs) => Failure::rate_limited(secs),
            other => Failure::new(code_of(&other), message_of(&other)),
        }
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure {
            error,
            status: None,
            retry_after: None,
        }
    }
}

impl Failure {
    pub fn new(code: ApiErrorCode, message: impl Into<String>) -> Self {
        ApiError::new(code, message).into()
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ApiErrorCode::Unauthorized, message)
    }
    /// `429 rate_limited` with `Retry-After: secs`.
    pub fn rate_limited(secs: u64) -> Self {
        Failure {
            retry_after: Some(secs),
            ..Self::new(
                ApiErrorCode::RateLimited,
                format!("Too many messages. Please wait {secs} s and try again."),
            )
        }
    }
    pub fn validation(field: &str, message: &str) -> Self {
        ApiError::new(ApiErrorCode::Validation, "Validation failed")
            .with_params(vec![FieldError {
                field: field.to_owned(),
                message: message.to_owned(),
            }])
            .into()
    }
}

/// A query string that does not parse is `422 validation` naming `field`, not axum's plain text.
pub fn query<T>(
    q: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
    field: &str,
    message: &str,
) -> Result<T, Failure> {
    q.map(|axum::extract::Query(v)| v)
        .map_err(|_| Failure::validation(field, message))
}

/// A path id that does not decode (`%ff`, not UTF-8) names nothing: `404 not_found` in the
/// envelope, not axum's plain-text `400`.
pub fn path<T>(p: Result<Path<T>, PathRejection>, what: &str) -> Result<T, Failure> {
    p.map(|Path(v)| v)
        .map_err(|_| Failure::new(ApiErrorCode::NotFound, format!("No such {what}")))
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| {
            StatusCode::from_u16(self.error.error.code.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        });
        let mut res = (status, Json(self.error)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}

/// A request body may take this long, and then must keep arriving at [`MIN_BODY_RATE`] on
/// average (the deadline moves [`BODY_GRACE`] + received / rate after the start).
pub const BODY_GRACE: Duration = Duration::from_secs(10);
/// Bytes a second a body must average past [`BODY_GRACE`]: a slow phone uploads a 5 MB photo
/// well above it; a body trickled a byte at a time (slowloris, "R-U-Dead-Yet") falls below.
pub const MIN_BODY_RATE: u64 = 1024;

/// What [`Paced`] saw of a body.
#[derive(Default)]
struct Seen {
    /// The deadline passed: the rejection is then `408`, not a broken body.
    too_slow: AtomicBool,
    /// The body began with something other than `{` (after white space): every body of the
    /// API is an object, and serde would otherwise take an array as a struct's fields in order.
    not_an_object: AtomicBool,
}

/// A request body that ends with an error once it falls behind its deadline, so a client that
/// trickles or stalls a body cannot hold a connection and a task forever.
struct Paced {
    inner: BodyDataStream,
    start: Instant,
    received: u64,
    deadline: Pin<Box<Sleep>>,
    /// Whether the first byte that is not white space was seen yet.
    started: bool,
    /// The body ended (or failed): nothing is left to read.
    ended: bool,
    seen: Arc<Seen>,
}

/// A body over its route's limit is refused after [`MAX_DRAIN`] of it has been read and thrown
/// away at most, for at most [`DRAIN_TIME`]: a client that sends a body in one go (no
/// `Expect: 100-continue`) then reads the `413` instead of a broken pipe (a lingering close,
/// as nginx does).
const MAX_DRAIN: u64 = 64 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(10);

impl Drop for Paced {
    /// A body dropped before its end, not for being too slow, was refused for its size: read
    /// the rest (bounded) in the background, so the connection takes it while the `413` goes
    /// out.
    fn drop(&mut self) {
        if self.ended || self.seen.too_slow.load(Ordering::Relaxed) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut rest = std::mem::replace(&mut self.inner, Body::empty().into_data_stream());
        runtime.spawn(async move {
            use tokio_stream::StreamExt;
            let mut drained = 0u64;
            let _ = tokio::time::timeout(DRAIN_TIME, async {
                while let Some(Ok(bytes)) = rest.next().await {
                    drained += bytes.len() as u64;
                    if drained > MAX_DRAIN {
                        break;
                    }
                }
            })
            .await;
        });
    }
}

impl Paced {
    fn new(body: Body, seen: Arc<Seen>) -> Self {
        let start = Instant::now();
        Paced {
            inner: body.into_data_stream(),
            start,
            received: 0,
            deadline: Box::pin(tokio::time::sleep_until(start + BODY_GRACE)),
            started: false,
            ended: false,
            seen,
        }
    }
}

impl Stream for Paced {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                if !this.started
                    && let Some(&first) = bytes.iter().find(|b| !b" \t\r\n".contains(b))
                {
                    this.started = true;
                    this.seen
                        .not_an_object
                        .store(first != b'{', Ordering::Relaxed);
                }
                this.received += bytes.len() as u64;
                let earned =
                    Duration::from_millis(this.received.saturating_mul(1000) / MIN_BODY_RATE);
                this.deadline
                    .as_mut()
                    .reset(this.start + BODY_GRACE + earned);
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(None) => {
                this.ended = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.ended = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.seen.too_slow.store(true, Ordering::Relaxed);
                    Poll::Ready(Some(Err(axum::Error::new(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "request body too slow",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// `Json<T>` whose rejections (malformed JSON, wrong content type, missing fields) answer
/// `422 validation` in the envelope instead of axum's plain-text errors; a body over the
/// route's limit answers `413`, and one that arrives too slowly ([`BODY_GRACE`],
/// [`MIN_BODY_RATE`]) `408`, both with code `validation`. A body must be a JSON object.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let seen = Arc::new(Seen::default());
        let req = req.map(|body| Body::from_stream(Paced::new(body, seen.clone())));
        match Json::<T>::from_request(req, state).await {
            Ok(_) if seen.not_an_object.load(Ordering::Relaxed) => Err(Failure::new(
                ApiErrorCode::Validation,
                "The request body must be a JSON object",
            )),
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(_) if seen.too_slow.load(Ordering::Relaxed) => Err(Failure {
                error: ApiError::new(
                    ApiErrorCode::Validation,
                    "The request body arrived too slowly; send it again",
                ),
                status: Some(StatusCode::REQUEST_TIMEOUT),
                retry_after: None,
            }),
            Err(rejection) => {
                let too_large = rejection.status() == StatusCode::PAYLOAD_TOO_LARGE;
                let message = match rejection {
                    JsonRejection::JsonDataError(e) => {
                        format!("Invalid request body: {}", e.body_text())
                    }
                    JsonRejection::JsonSyntaxError(_) => {
                        "Request body is not valid JSON".to_owned()
                    }
                    JsonRejection::MissingJsonContentType(_) => {
                        "Expected Content-Type: application/json".to_owned()
                    }
                    _ if too_large => "Request body is too large".to_owned(),
                    other => other.body_text(),
                };
                Err(Failure {
                    error: ApiError::new(ApiErrorCode::Validation, message),
                    status: too_large.then_some(StatusCode::PAYLOAD_TOO_LARGE),
                    retry_after: None,
                })
            }
        }
    }
}
