//! The time, injectable: the server reads the system clock; tests set and advance a manual one
//! (working hours at fixed times, expiring tokens and links, retention).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<SystemTime>>>);

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => write!(f, "Clock::system"),
            Some(_) => write!(f, "Clock::manual({})", self.rfc3339()),
        }
    }
}

impl Clock {
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that stands still at `at` until [`Clock::set`] or [`Clock::advance`].
    pub fn manual(at: SystemTime) -> Self {
        Clock(Some(Arc::new(Mutex::new(at))))
    }

    /// A manual clock at an RFC 3339 time (`2026-11-23T10:00:00Z`).
    pub fn manual_at(rfc3339: &str) -> Self {
        let ts: jiff::Timestamp = rfc3339.parse().expect("an RFC 3339 time");
        Self::manual(SystemTime::from(ts))
    }

    pub fn now(&self) -> SystemTime {
        match &self.0 {
            None => SystemTime::now(),
            Some(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Seconds since 1970.
    pub fn unix(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// Milliseconds since 1970.
    pub fn unix_ms(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    pub fn rfc3339(&self) -> String {
        super::ids::rfc3339(self.unix())
    }

    /// Move a manual clock (no effect on the system clock).
    pub fn set(&self, at: SystemTime) {
        if let Some(t) = &self.0 {
            *t.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }

    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}
