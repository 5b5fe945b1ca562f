//! Per-visitor rate limiting (seed 002: `429 rate_limited`, "back off before retrying"): each
//! chatbot's `rate_limit` allows `messages` requests in any window of `per_seconds` seconds per
//! visitor and endpoint; one more gets `429` with `Retry-After`, the seconds until the oldest
//! request in the window expires. A sliding-window log: in memory when the store is SQLite (one
//! process; limits reset on restart), in the database when it is PostgreSQL, so that limits
//! hold across the instances sharing it ([`Core::count_request`], through the store's
//! [`super::store::LimitStore`]).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::ConversationKey as Visitor;
use crate::Core;
use crate::model::RateLimit;

impl Core {
    /// Count one `what` request of `key` (a visitor, or a scope and a caller such as
    /// `("ip", address)`) against `limit`; `Err(seconds to wait)` when over it.
    pub fn count_request(
        &self,
        key: &Visitor,
        what: &'static str,
        limit: RateLimit,
    ) -> Result<(), u64> {
        // Real time, like the in-memory windows' `Instant`s (a test's manual clock stands still).
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        match self
            .store
            .rate_hit(&key.chatbot_id, &key.visitor_id, what, limit, now_ms)
        {
            None => {} // one process's store: counted here
            Some(Ok(Ok(()))) => return Ok(()),
            Some(Ok(Err(wait))) => {
                metrics::counter!("dgbot_rate_limited_total", "limit" => what).increment(1);
                return Err(wait);
            }
            // The database is away: count here rather than refuse everyone.
            Some(Err(e)) => tracing::warn!("rate limit: {e}; counting in this instance"),
        }
        self.limiter.check(key, what, limit)
    }
}

/// Request times in the current window, by (chatbot id, visitor id, endpoint).
type Windows = HashMap<(String, String, &'static str), VecDeque<Instant>>;

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<Windows>,
}

/// Above this many tracked visitors, windows that have emptied are dropped.
const PRUNE_AT: usize = 10_000;

impl RateLimiter {
    /// Count one `what` request of `visitor`; `Err(seconds to wait)` when over the limit.
    pub fn check(
        &self,
        visitor: &Visitor,
        what: &'static str,
        limit: RateLimit,
    ) -> Result<(), u64> {
        self.check_at(visitor, what, limit, Instant::now())
    }

    fn check_at(
        &self,
        visitor: &Visitor,
        what: &'static str,
        limit: RateLimit,
        now: Instant,
    ) -> Result<(), u64> {
        let window = Duration::from_secs(limit.per_seconds);
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > PRUNE_AT {
            windows.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = windows
            .entry((visitor.chatbot_id.clone(), visitor.visitor_id.clone(), what))
            .or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() >= limit.messages as usize {
            let oldest = *times.front().expect("a full window");
            let wait = window.saturating_sub(now.duration_since(oldest));
            metrics::counter!("dgbot_rate_limited_total", "limit" => what).increment(1);
            return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sliding_window_per_visitor_and_endpoint() {
        let limiter = RateLimiter::default();
        let limit = RateLimit {
            messages: 3,
            per_seconds: 60,
        };
        let ada = Visitor::new("c", "ada");
        let bob = Visitor::new("c", "bob");
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(
                limiter.check_at(&ada, "messages", limit, t0 + Duration::from_secs(i * 10)),
                Ok(())
            );
        }
        assert_eq!(
            limiter.check_at(&ada, "messages", limit, t0 + Duration::from_secs(30)),
            Err(30)
        );
        assert_eq!(
            limiter.check_at(&bob, "messages", limit, t0 + Duration::from_secs(30)),
            Ok(())
        );
        assert_eq!(
            limiter.check_at(&ada, "actions", limit, t0 + Duration::from_secs(30)),
            Ok(())
        );
        // The first request leaves the window after 60 s: one more fits, then wait for the second.
        assert_eq!(
            limiter.check_at(&ada, "messages", limit, t0 + Duration::from_secs(60)),
            Ok(())
        );
        assert_eq!(
            limiter.check_at(&ada, "messages", limit, t0 + Duration::from_millis(60_500)),
            Err(10)
        );
    }
}
