//! The conversation hub across server instances, on PostgreSQL's `LISTEN/NOTIFY`: each
//! instance keeps its own [`InProcessHub`] for the subscribers it holds, sends what happens in
//! a conversation to the others on the `dgbot_hub` channel, and republishes what they send.
//! So an agent's message written through instance A reaches a visitor streaming or polling on
//! instance B.
//!
//! What crosses: everything but an answer's deltas and parts while it streams (dozens a second
//! per answer, they stay with the instance streaming them: its subscribers see the answer grow,
//! others get it whole with `done`). Events are notifications, as in one process: a subscriber
//! that was away re-reads the store. Order is kept per instance (one sender task). A payload
//! over `NOTIFY`'s 8,000 bytes (a long agent message) goes through the `hub_spill` table and
//! only its id is notified.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dgbot_protocol::StreamEvent;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use dgbot_core::hub::{ConversationEvent, Hub, InProcessHub};
use dgbot_core::model::ConversationKey;

/// The channel every instance listens on.
const CHANNEL: &str = "dgbot_hub";
/// Payloads longer than this go through `hub_spill` (`NOTIFY` takes less than 8,000 bytes).
const NOTIFY_MAX: usize = 7_000;

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The sending instance (its own notifications come back to it, and are passed over).
    from: String,
    /// A count per sender: `NOTIFY` folds identical payloads of one transaction into one.
    n: u64,
    chatbot_id: String,
    visitor_id: String,
    event: ConversationEvent,
}

/// Whether `event` goes to the other instances: not an answer's deltas and parts.
fn crosses(event: &ConversationEvent) -> bool {
    !matches!(
        event,
        ConversationEvent::Answer(StreamEvent::PartDelta(_) | StreamEvent::Part(_))
    )
}

/// The hub of an instance whose store is on PostgreSQL.
pub struct PostgresHub {
    local: Arc<InProcessHub>,
    instance: String,
    sent: AtomicU64,
    outbox: mpsc::UnboundedSender<String>,
}

impl PostgresHub {
    /// Listen on `url`'s database and send there, on `runtime` (the store's).
    pub fn start(url: &str, runtime: &tokio::runtime::Handle) -> PostgresHub {
        let local = Arc::new(InProcessHub::default());
        let instance = dgbot_core::model::ids::new_id("inst");
        let (outbox, queue) = mpsc::unbounded_channel();
        runtime.spawn(send_loop(url.to_owned(), queue));
        runtime.spawn(listen_loop(url.to_owned(), instance.clone(), local.clone()));
        PostgresHub {
            local,
            instance,
            sent: AtomicU64::new(0),
            outbox,
        }
    }
}

impl Hub for PostgresHub {
    fn publish(&self, key: &ConversationKey, event: ConversationEvent) {
        if crosses(&event) {
            let envelope = Envelope {
                from: self.instance.clone(),
                n: self.sent.fetch_add(1, Ordering::Relaxed),
                chatbot_id: key.chatbot_id.clone(),
                visitor_id: key.visitor_id.clone(),
                event: event.clone(),
            };
            if let Ok(json) = serde_json::to_string(&envelope) {
                let _ = self.outbox.send(json);
            }
        }
        self.local.publish(key, event);
    }

    fn subscribe(&self, key: &ConversationKey) -> broadcast::Receiver<ConversationEvent> {
        self.local.subscribe(key)
    }

    /// Someone on another instance may be attached: the events that cross are always built.
    fn is_watched(&self, _key: &ConversationKey) -> bool {
        true
    }
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Send queued payloads, in order, as many as are waiting in one statement.
async fn send_loop(url: String, mut queue: mpsc::UnboundedReceiver<String>) {
    let mut client: Option<tokio_postgres::Client> = None;
    let mut batch: Vec<String> = vec![];
    loop {
        if batch.is_empty() {
            match queue.recv().await {
                Some(first) => batch.push(first),
                None => return, // the hub is gone
            }
            while batch.len() < 256 {
                match queue.try_recv() {
                    Ok(more) => batch.push(more),
                    Err(_) => break,
                }
            }
        }
        let c = match &client {
            Some(c) if !c.is_closed() => c,
            _ => match connect(&url).await {
                Ok(c) => client.insert(c),
                Err(e) => {
                    tracing::warn!("hub: cannot reach the database to notify: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        match notify(c, &batch).await {
            Ok(()) => batch.clear(),
            Err(e) => {
                tracing::warn!("hub: notify failed: {e}");
                client = None;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

async fn notify(c: &tokio_postgres::Client, batch: &[String]) -> Result<(), String> {
    let mut payloads = Vec::with_capacity(batch.len());
    for json in batch {
        if json.len() <= NOTIFY_MAX {
            payloads.push(json.clone());
        } else {
            let row = c
                .query_one(
                    "INSERT INTO hub_spill (payload, at_ms) VALUES ($1, $2) RETURNING id",
                    &[json, &now_ms()],
                )
                .await
                .map_err(|e| e.to_string())?;
            payloads.push(format!("@{}", row.get::<_, i64>(0)));
        }
    }
    c.execute(
        &format!("SELECT pg_notify('{CHANNEL}', p) FROM unnest($1::text[]) WITH ORDINALITY AS t(p, i) ORDER BY i"),
        &[&payloads],
    )
    .await
    .map_err(|e| e.to_string())?;
    if payloads.len() < batch.len() || payloads.iter().any(|p| p.starts_with('@')) {
        // Spilled payloads are read within moments; keep a minute of them.
        let _ = c
            .execute(
                "DELETE FROM hub_spill WHERE at_ms < $1",
                &[&(now_ms() - 60_000)],
            )
            .await;
    }
    Ok(())
}

/// Listen on the channel and republish other instances' events here; reconnect when the
/// connection drops (what was missed meanwhile is in the store).
async fn listen_loop(url: String, instance: String, local: Arc<InProcessHub>) {
    loop {
        if let Err(e) = listen(&url, &instance, &local).await {
            tracing::warn!("hub: listening stopped ({e}); reconnecting");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn listen(url: &str, instance: &str, local: &InProcessHub) -> Result<(), String> {
    use tokio_postgres::AsyncMessage;
    let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    let (tx, mut notes) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if tx.send(n.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("hub: listening on {CHANNEL}");
    while let Some(payload) = notes.recv().await {
        let json = match payload.strip_prefix('@') {
            Some(id) => {
                let id: i64 = id.parse().unwrap_or(-1);
                match client
                    .query_opt("SELECT payload FROM hub_spill WHERE id = $1", &[&id])
                    .await
                {
                    Ok(Some(row)) => row.get::<_, String>(0),
                    _ => continue,
                }
            }
            None => payload,
        };
        let Ok(envelope) = serde_json::from_str::<Envelope>(&json) else {
            tracing::warn!("hub: a notification that is not an event");
            continue;
        };
        if envelope.from == instance {
            continue;
        }
        local.publish(
            &ConversationKey::new(envelope.chatbot_id, envelope.visitor_id),
            envelope.event,
        );
    }
    driver.abort();
    Err("the connection closed".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::livechat::LivechatStatus;
    use dgbot_protocol::message::Message;

    #[test]
    fn events_cross_as_json_and_come_back_the_same() {
        let message: Message = serde_json::from_str(
            r#"{"message_id":"msg_1","role":"agent","parts":[{"type":"text","text":"Hej"}],"author":{"agent_id":"agent-alice","display_name":"Alice"}}"#,
        )
        .unwrap();
        for event in [
            ConversationEvent::AgentMessage(message),
            ConversationEvent::Livechat {
                status: LivechatStatus::Active,
                state_version: 3,
            },
            ConversationEvent::AgentTyping { is_typing: true },
            ConversationEvent::Answer(StreamEvent::status("thinking")),
            ConversationEvent::Tool(dgbot_core::responder::ToolEvent {
                tool: "search_products".into(),
                status: dgbot_core::responder::ToolStatus::Calling,
            }),
        ] {
            assert!(crosses(&event));
            let envelope = Envelope {
                from: "inst_a".into(),
                n: 1,
                chatbot_id: "demo-shop".into(),
                visitor_id: "v_1".into(),
                event: event.clone(),
            };
            let json = serde_json::to_string(&envelope).unwrap();
            let back: Envelope = serde_json::from_str(&json).unwrap();
            assert_eq!(back.event, event, "{json}");
        }
    }

    #[test]
    fn deltas_stay_on_their_instance() {
        let delta = ConversationEvent::Answer(StreamEvent::delta(
            "p1",
            dgbot_protocol::stream::Delta::Text { text: "x".into() },
        ));
        assert!(!crosses(&delta));
    }
}
