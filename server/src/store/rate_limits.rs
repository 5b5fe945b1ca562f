//! Rate limits that hold across server instances (PostgreSQL): the same sliding-window log as
//! `core::rate_limit`, kept in `rate_hits`, counted under a lock per key. On PostgreSQL one
//! call of the `dgbot_rate_hit` function (migration 7) does it in one round trip; the same
//! steps as statements run on SQLite (which the server itself counts in memory).

use super::db::{Dialect, args};
use super::{Result, Store};
use dgbot_core::model::RateLimit;
use dgbot_core::store::LimitStore;

impl LimitStore for Store {
    /// Shared only on PostgreSQL: one SQLite file is one process's, which counts in memory.
    fn rate_hit(
        &self,
        scope: &str,
        who: &str,
        what: &str,
        limit: RateLimit,
        now_ms: u64,
    ) -> Option<Result<std::result::Result<(), u64>>> {
        (self.dialect() == Dialect::Postgres)
            .then(|| self.count_hit(scope, who, what, limit, now_ms))
    }
}

impl Store {
    /// Count one `what` request of (`scope`, `who`) at `now_ms` against `limit`:
    /// `Ok(Err(seconds to wait))` when over it (and then nothing is counted).
    pub fn count_hit(
        &self,
        scope: &str,
        who: &str,
        what: &str,
        limit: RateLimit,
        now_ms: u64,
    ) -> Result<std::result::Result<(), u64>> {
        let window_ms = limit.per_seconds.saturating_mul(1000);
        if self.dialect() == Dialect::Postgres {
            let wait_ms: u64 = self
                .row(
                    "SELECT dgbot_rate_hit(?1, ?2, ?3, ?4, ?5, ?6)",
                    args![scope, who, what, now_ms, window_ms, limit.messages],
                )?
                .map_or(Ok(0), |r| r.get(0))?;
            return Ok(match wait_ms {
                0 => Ok(()),
                ms => Err(ms.div_ceil(1000).max(1)),
            });
        }
        self.tx(|c| {
            c.lock(&format!("rate:{scope}:{who}:{what}"))?;
            c.exec(
                "DELETE FROM rate_hits WHERE scope = ?1 AND who = ?2 AND what = ?3 AND at_ms <= ?4",
                args![scope, who, what, now_ms.saturating_sub(window_ms)],
            )?;
            let row = c.row(
                "SELECT COUNT(*), MIN(at_ms) FROM rate_hits WHERE scope = ?1 AND who = ?2 AND what = ?3",
                args![scope, who, what],
            )?;
            let (count, oldest): (u64, Option<u64>) = match row {
                Some(r) => (r.get(0)?, r.get(1)?),
                None => (0, None),
            };
            if count >= u64::from(limit.messages) {
                let wait_ms = (oldest.unwrap_or(now_ms) + window_ms).saturating_sub(now_ms);
                return Ok(Err(wait_ms.div_ceil(1000).max(1)));
            }
            c.exec(
                "INSERT INTO rate_hits (scope, who, what, at_ms) VALUES (?1, ?2, ?3, ?4)",
                args![scope, who, what, now_ms],
            )?;
            Ok(Ok(()))
        })
    }
}
