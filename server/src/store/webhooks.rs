//! The webhook outbox: events (written before their first attempt, so a crash or a restart
//! never loses one), their delivery attempts, and endpoints set through the API. Workers claim
//! due events in a transaction that locks them (`SKIP LOCKED` on PostgreSQL) and moves their
//! next attempt ahead, so with several instances on one database each event goes out once.

use super::db::{Row, args, upsert};
use super::{Result, Store};
use dgbot_core::model::{Attempt, OutboxEvent};
use dgbot_core::store::OutboxStore;
use dgbot_protocol::webhooks::WebhookConfig;

const EVENT_COLUMNS: &str = "event_id, chatbot_id, type, payload, created_at, state, attempts, next_attempt_at, delivered_at";

fn event_of(r: &Row) -> Result<OutboxEvent> {
    Ok(OutboxEvent {
        event_id: r.get(0)?,
        chatbot_id: r.get(1)?,
        event_type: r.get(2)?,
        payload: r.get(3)?,
        created_at: r.get(4)?,
        state: r.get(5)?,
        attempts: r.get(6)?,
        next_attempt_at: r.get(7)?,
        delivered_at: r.get(8)?,
    })
}

impl OutboxStore for Store {
    fn webhook_config(&self, chatbot_id: &str) -> Result<Option<WebhookConfig>> {
        self.json(
            "SELECT config FROM webhook_configs WHERE chatbot_id = ?1",
            chatbot_id,
        )
    }

    fn put_webhook_config(&self, chatbot_id: &str, config: &WebhookConfig) -> Result<()> {
        self.exec(
            &upsert(
                "webhook_configs",
                "chatbot_id, config, updated_at",
                "chatbot_id",
            ),
            args![chatbot_id, serde_json::to_string(config)?, self.now()],
        )?;
        Ok(())
    }

    fn enqueue_webhook(&self, e: &OutboxEvent) -> Result<()> {
        self.exec(
            &format!("INSERT INTO webhook_events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
            args![e.event_id, e.chatbot_id, e.event_type, e.payload, e.created_at, e.state, e.attempts, e.next_attempt_at, e.delivered_at],
        )?;
        Ok(())
    }

    /// Pending events due by `now`, oldest first, claimed: their next attempt moves `lease`
    /// seconds ahead, so a second worker (this instance's or another's, or a slow attempt)
    /// does not send them twice.
    fn claim_due_webhooks(&self, now: u64, lease: u64, limit: usize) -> Result<Vec<OutboxEvent>> {
        self.tx(|c| {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, created_at LIMIT ?2{}",
                c.dialect().skip_locked()
            );
            let due = c
                .rows(&sql, args![now, limit as u64])?
                .iter()
                .map(event_of)
                .collect::<Result<Vec<_>>>()?;
            for e in &due {
                c.exec(
                    "UPDATE webhook_events SET next_attempt_at = ?2 WHERE event_id = ?1",
                    args![e.event_id, now + lease],
                )?;
            }
            Ok(due)
        })
    }

    /// The earliest next attempt of a pending event (the worker sleeps until then).
    fn next_webhook_due(&self) -> Result<Option<u64>> {
        self.row(
            "SELECT MIN(next_attempt_at) FROM webhook_events WHERE state = 'pending'",
            &[],
        )?
        .map_or(Ok(None), |r| r.get(0))
    }

    /// Record an attempt and the event's new state.
    fn webhook_attempted(
        &self,
        attempt: &Attempt,
        state: &str,
        next_attempt_at: u64,
        delivered_at: Option<u64>,
    ) -> Result<()> {
        self.tx(|c| {
            c.exec(
                "INSERT INTO webhook_attempts (delivery_id, event_id, attempt, at_ms, status, error, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                args![attempt.delivery_id, attempt.event_id, attempt.attempt, attempt.at_ms, attempt.status, attempt.error, attempt.duration_ms],
            )?;
            c.exec(
                "UPDATE webhook_events SET attempts = ?2, state = ?3, next_attempt_at = ?4, delivered_at = COALESCE(?5, delivered_at) WHERE event_id = ?1",
                args![attempt.event_id, attempt.attempt, state, next_attempt_at, delivered_at],
            )?;
            Ok(())
        })
    }

    /// An event of `chatbot_id` created after `since` (older ones have expired).
    fn webhook_event(
        &self,
        chatbot_id: &str,
        event_id: &str,
        since: u64,
    ) -> Result<Option<OutboxEvent>> {
        self.row(
            &format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE event_id = ?1 AND chatbot_id = ?2 AND created_at > ?3"),
            args![event_id, chatbot_id, since],
        )?
        .as_ref()
        .map(event_of)
        .transpose()
    }

    /// Any event by id, expired or not (for the worker and for tests of expiry).
    fn webhook_event_any(&self, event_id: &str) -> Result<Option<OutboxEvent>> {
        self.row(
            &format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE event_id = ?1"),
            args![event_id],
        )?
        .as_ref()
        .map(event_of)
        .transpose()
    }

    fn webhook_attempts(&self, event_id: &str) -> Result<Vec<Attempt>> {
        self.rows(
            "SELECT delivery_id, event_id, attempt, at_ms, status, error, duration_ms FROM webhook_attempts WHERE event_id = ?1 ORDER BY attempt, at_ms",
            args![event_id],
        )?
        .iter()
        .map(|r| {
            Ok(Attempt {
                delivery_id: r.get(0)?,
                event_id: r.get(1)?,
                attempt: r.get(2)?,
                at_ms: r.get(3)?,
                status: r.get(4)?,
                error: r.get(5)?,
                duration_ms: r.get(6)?,
            })
        })
        .collect()
    }

    /// A page of a chatbot's unexpired events, newest first, optionally of one type and state;
    /// `before`: an event id from the previous page.
    fn webhook_events(
        &self,
        chatbot_id: &str,
        since: u64,
        event_type: Option<&str>,
        state: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>> {
        self.run(|c| {
            let before_rowid: i64 = match before {
                Some(id) => c
                    .row(
                        "SELECT rowid FROM webhook_events WHERE event_id = ?1",
                        args![id],
                    )?
                    .map_or(Ok(i64::MAX), |r| r.get(0))?,
                None => i64::MAX,
            };
            c.rows(
                &format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE chatbot_id = ?1 AND created_at > ?2 AND (CAST(?3 AS TEXT) IS NULL OR type = ?3) AND (CAST(?4 AS TEXT) IS NULL OR state = ?4) AND rowid < ?5 ORDER BY rowid DESC LIMIT ?6"),
                args![chatbot_id, since, event_type, state, before_rowid, limit as u64],
            )?
            .iter()
            .map(event_of)
            .collect()
        })
    }

    /// Deliver event `event_id` again now (`pending`, due at `now`).
    fn replay_webhook(&self, event_id: &str, now: u64) -> Result<()> {
        self.exec(
            "UPDATE webhook_events SET state = 'pending', next_attempt_at = ?2 WHERE event_id = ?1",
            args![event_id, now],
        )?;
        Ok(())
    }

    /// Expiry: events created before `expired_before` that were never delivered become
    /// `dead`; those created before `delete_before` are removed with their attempts.
    fn expire_webhooks(&self, expired_before: u64, delete_before: u64) -> Result<(usize, usize)> {
        self.tx(|c| {
            let dead = c.exec(
                "UPDATE webhook_events SET state = 'dead' WHERE created_at <= ?1 AND state IN ('pending', 'failed')",
                args![expired_before],
            )?;
            c.exec(
                "DELETE FROM webhook_attempts WHERE event_id IN (SELECT event_id FROM webhook_events WHERE created_at <= ?1)",
                args![delete_before],
            )?;
            let deleted = c.exec(
                "DELETE FROM webhook_events WHERE created_at <= ?1",
                args![delete_before],
            )?;
            Ok((dead as usize, deleted as usize))
        })
    }
}
