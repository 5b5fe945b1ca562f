//! What can go wrong, as values: a request that failed ([`TransportError`]), a chat that cannot
//! start ([`StartupError`]), and what each failure tells the visitor and the host page.
//!
//! Nothing the visitor typed is ever dropped: a message the server did not take stays in the
//! log marked unsent ([`unsent_reason`] says why), and the host page hears an `error`
//! ([`error_action`]).

use dgbot_protocol::api::ApiError;
use dgbot_protocol::bridge::FrameAction;

use crate::logic::i18n::t;

#[derive(Debug, Clone, PartialEq)]
pub enum TransportError {
    /// A non-2xx answer with the seed's `ApiError` envelope (or a synthesized one).
    Api {
        status: u16,
        error: ApiError,
        retry_after_secs: Option<u32>,
    },
    /// No answer, or the connection dropped mid-stream.
    Network(String),
    /// The request was aborted by us (stop button).
    Aborted,
}

impl TransportError {
    pub fn message(&self) -> String {
        match self {
            TransportError::Api { error, .. } => error.error.message.clone(),
            TransportError::Network(_) => {
                t("Could not reach the chat service. Check your connection.").into()
            }
            TransportError::Aborted => t("Stopped.").into(),
        }
    }
}

/// Why the chat cannot start (shown instead of the composer).
#[derive(Clone, Debug, PartialEq)]
pub struct StartupError(pub String);

/// The host's `error` event for a failed request.
pub fn error_action(e: &TransportError) -> FrameAction {
    let (code, retryable) = match e {
        TransportError::Api { error, status, .. } => {
            (error.error.code.as_str(), *status == 429 || *status >= 500)
        }
        TransportError::Network(_) => ("network", true),
        TransportError::Aborted => ("aborted", false),
    };
    FrameAction::Error {
        code: code.into(),
        message: e.message(),
        retryable,
    }
}

/// What to tell the visitor about a message that did not go out.
pub fn unsent_reason(e: &TransportError) -> String {
    match e {
        TransportError::Api { error, .. } => match &error.error.params {
            Some(params) if !params.is_empty() => params
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            _ => error.error.message.clone(),
        },
        other => other.message(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::ApiErrorCode;
    use dgbot_protocol::api::FieldError;

    fn api(status: u16, error: ApiError) -> TransportError {
        TransportError::Api {
            status,
            error,
            retry_after_secs: None,
        }
    }

    #[test]
    fn the_host_hears_which_failures_are_worth_retrying() {
        let retryable = |e: &TransportError| match error_action(e) {
            FrameAction::Error {
                code, retryable, ..
            } => (code, retryable),
            other => panic!("{other:?}"),
        };
        let busy = api(429, ApiError::new(ApiErrorCode::RateLimited, "slow down"));
        assert_eq!(retryable(&busy), ("rate_limited".into(), true));
        let down = api(503, ApiError::new(ApiErrorCode::Internal, "down"));
        assert!(retryable(&down).1);
        let refused = api(400, ApiError::new(ApiErrorCode::Validation, "no"));
        assert!(!retryable(&refused).1);
        assert_eq!(
            retryable(&TransportError::Network("reset".into())),
            ("network".into(), true)
        );
        assert_eq!(
            retryable(&TransportError::Aborted),
            ("aborted".into(), false)
        );
    }

    #[test]
    fn an_unsent_message_says_the_servers_reasons() {
        let mut error = ApiError::new(ApiErrorCode::Validation, "The message is invalid.");
        assert_eq!(
            unsent_reason(&api(400, error.clone())),
            "The message is invalid."
        );
        error.error.params = Some(vec![
            FieldError {
                field: "message.parts[0].text".into(),
                message: "Too long.".into(),
            },
            FieldError {
                field: "message.parts[1]".into(),
                message: "Not an image.".into(),
            },
        ]);
        assert_eq!(unsent_reason(&api(400, error)), "Too long. Not an image.");
        assert_eq!(
            unsent_reason(&TransportError::Network("reset".into())),
            "Could not reach the chat service. Check your connection."
        );
    }
}
