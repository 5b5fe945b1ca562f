//! What a core call can fail with; the HTTP layer maps each to seed 002's `ApiError` codes
//! (other adapters to their own error frames).

use dgbot_protocol::api::{ApiErrorCode, FieldError};

use crate::model::StoreError;

#[derive(Debug)]
pub enum CoreError {
    /// `422 validation` with the fields at fault.
    Validation(Vec<FieldError>),
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    /// `409 conflict`: the request clashes with the session's state.
    Conflict(String),
    /// Too many requests: wait this many seconds.
    RateLimited(u64),
    /// The database failed: `500 internal`.
    Store(StoreError),
}

impl CoreError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        CoreError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn code(&self) -> ApiErrorCode {
        match self {
            CoreError::Validation(_) => ApiErrorCode::Validation,
            CoreError::Unauthorized(_) => ApiErrorCode::Unauthorized,
            CoreError::Forbidden(_) => ApiErrorCode::Forbidden,
            CoreError::NotFound(_) => ApiErrorCode::NotFound,
            CoreError::Conflict(_) => ApiErrorCode::Conflict,
            CoreError::RateLimited(_) => ApiErrorCode::RateLimited,
            CoreError::Store(_) => ApiErrorCode::Internal,
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        CoreError::Store(e)
    }
}

impl std::fmt::Display for CoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CoreError::Validation(params) => {
                let fields: Vec<String> = params
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.message))
                    .collect();
                write!(f, "Validation failed ({})", fields.join("; "))
            }
            CoreError::Unauthorized(m)
            | CoreError::Forbidden(m)
            | CoreError::NotFound(m)
            | CoreError::Conflict(m) => f.write_str(m),
            CoreError::RateLimited(secs) => {
                write!(f, "Too many messages. Please wait {secs} s and try again.")
            }
            CoreError::Store(e) => write!(f, "{e}"),
        }
    }
}
