//! The send loop's decisions, as plain Rust with native tests: after one attempt to send a
//! visitor message, renew the token, wait and try again, or stop (the caller then shows what
//! happened). The same message, with the same `Idempotency-Key`, goes out on every retry, so
//! the server stores it once.

use crate::logic::errors::TransportError;

/// At most this many waits for `429 rate_limited` before the message is shown unsent.
pub const MAX_RATE_LIMIT_WAITS: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// The token was refused: get a new one (once), then send again.
    Renew,
    /// Too many requests: wait this many seconds, then send again.
    Wait(u32),
    /// Done, or a failure retrying will not fix.
    Stop,
}

/// Retries so far of one message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempts {
    pub renewed: bool,
    pub waits: u32,
}

impl Attempts {
    /// What to do after an attempt that ended with `result`; counts the retry it allows.
    pub fn next(&mut self, result: &Result<(), TransportError>) -> Next {
        match result {
            Err(TransportError::Api { status: 401, .. }) if !self.renewed => {
                self.renewed = true;
                Next::Renew
            }
            Err(TransportError::Api {
                status: 429,
                retry_after_secs,
                ..
            }) if self.waits < MAX_RATE_LIMIT_WAITS => {
                self.waits += 1;
                Next::Wait(retry_after_secs.unwrap_or(2).clamp(1, 60))
            }
            _ => Next::Stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::{ApiError, ApiErrorCode};

    fn api(status: u16, retry_after_secs: Option<u32>) -> Result<(), TransportError> {
        Err(TransportError::Api {
            status,
            error: ApiError::new(ApiErrorCode::Unknown, "x"),
            retry_after_secs,
        })
    }

    #[test]
    fn a_refused_token_is_renewed_once() {
        let mut a = Attempts::default();
        assert_eq!(a.next(&api(401, None)), Next::Renew);
        assert_eq!(a.next(&api(401, None)), Next::Stop, "a second 401 is real");
    }

    #[test]
    fn rate_limits_are_waited_out_three_times_within_bounds() {
        let mut a = Attempts::default();
        assert_eq!(a.next(&api(429, Some(7))), Next::Wait(7));
        assert_eq!(a.next(&api(429, None)), Next::Wait(2));
        assert_eq!(a.next(&api(429, Some(3600))), Next::Wait(60));
        assert_eq!(a.next(&api(429, Some(1))), Next::Stop);
    }

    #[test]
    fn success_and_other_failures_stop() {
        let mut a = Attempts::default();
        assert_eq!(a.next(&Ok(())), Next::Stop);
        assert_eq!(a.next(&api(500, None)), Next::Stop);
        assert_eq!(
            a.next(&Err(TransportError::Network("reset".into()))),
            Next::Stop
        );
        assert_eq!(a.next(&Err(TransportError::Aborted)), Next::Stop);
    }
}
