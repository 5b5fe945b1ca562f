//! What a core call can fail with. The HTTP layer maps each to seed 002's `ApiError` codes and
//! English messages (the server's `http::error`); other adapters to their own error frames. The
//! `Display` here is for logs.

use dgbot_protocol::api::FieldError;

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
                write!(f, "invalid: {}", fields.join("; "))
            }
            CoreError::Unauthorized(m)
            | CoreError::Forbidden(m)
            | CoreError::NotFound(m)
            | CoreError::Conflict(m) => f.write_str(m),
            CoreError::RateLimited(secs) => write!(f, "rate limited for {secs} s"),
            CoreError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CoreError::Store(e) => Some(e),
            _ => None,
        }
    }
}
