//! The delivery worker: takes due events from the outbox, signs and POSTs them with seed 002's
//! six headers, and records every attempt. Non-2xx answers and network failures are retried
//! with exponential backoff and jitter, up to `webhook_max_attempts`; the `event_id` is the same
//! on every attempt and replay (`x-di-delivery-id` is new each time). It runs apart from the
//! requests: a slow or dead receiver never slows a visitor or an agent. Expiry runs here too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{RETENTION_SECS, WebhookEvent, signing};
use crate::Core;
use crate::model::ids;
use crate::model::{Attempt, OutboxEvent};

/// Deliveries in flight at once.
const PARALLEL: usize = 16;
/// Expired events are kept this much longer (as `dead` when never delivered), then removed.
const GRACE_SECS: u64 = 7 * 86_400;

/// The wait before attempt `attempt + 1`: `base · 2^(attempt-1)`, ±25 % jitter, at most an hour.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(Duration::from_secs(3600));
    let mut r = [0u8; 2];
    getrandom::fill(&mut r).expect("the OS has a random source");
    let jitter = f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX); // 0..1
    capped.mul_f64(0.75 + jitter * 0.5)
}

/// Run the worker until `stop` turns `true`: then it claims nothing more, lets the deliveries
/// it has started finish (each records its attempt in the outbox) and returns. Events it never
/// claimed stay pending for the next start.
pub fn spawn(
    core: Arc<Core>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(core.settings.webhook_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("dgbot-webhooks/1")
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("webhooks are off: {e}");
                return;
            }
        };
        let slots = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        let lease_ms = core.settings.webhook_timeout.as_millis() as u64 + 5_000;
        loop {
            if *stop.borrow() {
                // Wait for the deliveries in flight (their permits) before returning.
                let _ = slots.acquire_many(PARALLEL as u32).await;
                return;
            }
            let now = core.clock.unix();
            if let Err(e) = core.store.expire_webhooks(
                now.saturating_sub(RETENTION_SECS),
                now.saturating_sub(RETENTION_SECS + GRACE_SECS),
            ) {
                tracing::warn!("webhook expiry: {e}");
            }
            let due = core
                .store
                .claim_due_webhooks(core.clock.unix_ms(), lease_ms, PARALLEL * 4)
                .unwrap_or_else(|e| {
                    tracing::warn!("webhook outbox: {e}");
                    vec![]
                });
            let busy = !due.is_empty();
            for event in due {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let (core, client) = (core.clone(), client.clone());
                tokio::spawn(async move {
                    deliver(&core, &client, event).await;
                    drop(permit);
                    core.webhook_wake.notify_one(); // a retry may be due soon
                });
            }
            // Sleep until the next event is due (at most a second, so a moved clock and new
            // events are seen), or until an event is queued.
            let wait = match core.store.next_webhook_due() {
                Ok(Some(at)) => Duration::from_millis(at.saturating_sub(core.clock.unix_ms())),
                _ => Duration::from_secs(1),
            }
            .min(Duration::from_secs(1));
            if !busy || !wait.is_zero() {
                tokio::select! {
                    _ = core.webhook_wake.notified() => {}
                    changed = stop.changed() => {
                        if changed.is_err() {
                            return; // the server is gone
                        }
                    }
                    _ = tokio::time::sleep(wait.max(Duration::from_millis(5))) => {}
                }
            }
        }
    })
}

/// The body for this attempt: the handover event carries a fresh session token for the
/// agent system (tokens are short-lived; a retry or replay hours later must still work).
fn body_for_attempt(core: &Core, event: &OutboxEvent) -> String {
    if event.event_type != WebhookEvent::HandoverRequested.as_str() {
        return event.payload.clone();
    }
    let Ok(mut payload) = serde_json::from_str::<Value>(&event.payload) else {
        return event.payload.clone();
    };
    let session_id = payload["livechat_session"]["id"]
        .as_str()
        .map(str::to_owned);
    if let Some(id) = session_id
        && let Ok(token) = core.issue_session_token(&id)
        && let Some(session) = payload["livechat_session"].as_object_mut()
    {
        session.insert("token".into(), token.token.into());
        session.insert("expires_at".into(), token.expires_at.into());
    }
    payload.to_string()
}

async fn deliver(core: &Core, client: &reqwest::Client, event: OutboxEvent) {
    let attempt = event.attempts + 1;
    let delivery_id = ids::new_id("dlv");
    let started = Instant::now();
    let at_ms = core.clock.unix_ms();
    let outcome = match core.webhook_config(&event.chatbot_id) {
        Ok(Some(config)) => {
            let body = body_for_attempt(core, &event);
            let timestamp = core.clock.unix().to_string();
            let signature = signing::sign(&config.secret, &timestamp, &body);
            client
                .post(&config.url)
                .header("content-type", "application/json")
                .header("x-di-event", &event.event_type)
                .header("x-di-timestamp", &timestamp)
                .header("x-di-signature", signature)
                .header("x-di-delivery-id", &delivery_id)
                .header("x-di-attempt", attempt.to_string())
                .header("x-di-environment", &config.environment)
                .body(body)
                .send()
                .await
                .map(|res| res.status().as_u16())
                .map_err(|e| {
                    if e.is_timeout() {
                        "timed out".to_owned()
                    } else {
                        format!("{e}")
                    }
                })
        }
        Ok(None) => Err("the chatbot has no webhook endpoint".to_owned()),
        Err(e) => Err(e.to_string()),
    };
    let (status, error) = match outcome {
        Ok(s) => (
            Some(s),
            (!(200..300).contains(&s)).then(|| format!("HTTP {s}")),
        ),
        Err(e) => (None, Some(e)),
    };
    let delivered = error.is_none();
    let outcome = if delivered {
        "delivered"
    } else if attempt >= core.settings.webhook_max_attempts {
        "failed"
    } else {
        "retry"
    };
    metrics::counter!("dgbot_webhook_deliveries_total", "outcome" => outcome).increment(1);
    let now_ms = core.clock.unix_ms();
    let (state, next) = if delivered {
        ("delivered", now_ms)
    } else if attempt >= core.settings.webhook_max_attempts {
        ("failed", now_ms)
    } else {
        let wait = backoff(core.settings.webhook_retry_base, attempt);
        ("pending", now_ms + wait.as_millis() as u64)
    };
    let record = Attempt {
        delivery_id,
        event_id: event.event_id.clone(),
        attempt,
        at_ms,
        status,
        error,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    if let Err(e) =
        core.store
            .webhook_attempted(&record, state, next, delivered.then(|| core.clock.unix()))
    {
        tracing::warn!("webhook attempt of {} not recorded: {e}", event.event_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let base = Duration::from_secs(10);
        for (attempt, nominal) in [(1, 10.0), (2, 20.0), (3, 40.0), (4, 80.0)] {
            let d = backoff(base, attempt).as_secs_f64();
            assert!(
                (nominal * 0.75..=nominal * 1.25).contains(&d),
                "{attempt}: {d}"
            );
        }
        assert!(backoff(base, 30) <= Duration::from_secs(4500));
    }
}
