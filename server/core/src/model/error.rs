//! A database failure, as every store reports it: what kind of failure (so callers and
//! operators can tell a full disk from a lost connection) and the error underneath.

use std::error::Error;
use std::fmt;

/// What went wrong in the database, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The database cannot be reached: a lost connection, an exhausted pool, a stopped runtime.
    Unavailable,
    /// The disk (or the database's quota) is full.
    Full,
    /// A row does not read back as what was written (a column of the wrong type, bad JSON).
    Corrupt,
    /// Anything else: a failed statement, a missing table, a locked file.
    Other,
}

/// A database failure: the request fails with `500 internal`, nothing half-written stays.
#[derive(Debug)]
pub struct StoreError {
    kind: StoreErrorKind,
    source: Box<dyn Error + Send + Sync>,
}

impl StoreError {
    pub fn new(kind: StoreErrorKind, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        StoreError {
            kind,
            source: source.into(),
        }
    }

    /// A failure of kind [`StoreErrorKind::Other`].
    pub fn other(source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::new(StoreErrorKind::Other, source)
    }

    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database: {}", self.source)
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.source)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::new(StoreErrorKind::Corrupt, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_failed_and_keeps_the_cause() {
        let e = StoreError::new(StoreErrorKind::Full, "disk full");
        assert_eq!(e.kind(), StoreErrorKind::Full);
        assert_eq!(e.to_string(), "database: disk full");
        assert_eq!(e.source().unwrap().to_string(), "disk full");
    }
}
