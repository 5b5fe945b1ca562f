//! Every failure answers with the seed's `ApiError` envelope and the status of its code.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dgbot_protocol::api::{ApiError, ApiErrorCode, FieldError};

use crate::core::CoreError;
use serde::de::DeserializeOwned;

/// An `ApiError` on its way out, with the status of its code unless `status` overrides it.
#[derive(Debug)]
pub struct Failure {
    pub error: ApiError,
    pub status: Option<StatusCode>,
    /// `Retry-After` in seconds (with `429 rate_limited`).
    pub retry_after: Option<u64>,
}

impl From<crate::store::StoreError> for Failure {
    /// A database failure: `500 internal`, logged; the visitor sees a generic error and retries.
    fn from(e: crate::store::StoreError) -> Self {
        CoreError::Store(e).into()
    }
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Validation(params) => {
                ApiError::new(ApiErrorCode::Validation, "Validation failed")
                    .with_params(params)
                    .into()
            }
            CoreError::RateLimited(secs) => Failure::rate_limited(secs),
            CoreError::Store(e) => {
                eprintln!("dgbot-server: {e}");
                Failure::new(
                    ApiErrorCode::Internal,
                    "Something went wrong on our side. Please try again.",
                )
            }
            other => Failure::new(other.code(), other.to_string()),
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

/// `Json<T>` whose rejections (malformed JSON, wrong content type, missing fields) answer
/// `422 validation` in the envelope instead of axum's plain-text errors; a body over the
/// route's limit answers `413` with code `validation`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
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
