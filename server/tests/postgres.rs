//! The server on PostgreSQL (issue 16), against a real throwaway cluster (`common::postgres`):
//!
//! - the store's whole API, the same suite on SQLite and on PostgreSQL;
//! - two stores on one database, as two instances: an assignment race and the webhook outbox
//!   claimed by both at once (each event taken once); two hubs on `LISTEN/NOTIFY`, carrying
//!   events in order, a long one through the spill table;
//! - two real server processes on one database: a visitor on instance A hands over, an agent
//!   on instance B answers, the visitor's long poll on A gets it (and the cross-instance
//!   latency is printed); instance A is killed mid-answer and the visitor's retry on B gets the
//!   answer with nothing lost or doubled; webhooks go out once across both; a rate limit holds
//!   across both.
//!
//! When PostgreSQL's server binaries are not installed, the PostgreSQL halves say so and skip.

mod common;

use dgbot_server::core::CoreError;
use dgbot_server::core::store::{
    ConversationStore as _, HealthStore as _, LivechatStore as _, OutboxStore as _,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::ReleaseServer;
use common::postgres::Postgres;
use dgbot_protocol::Message;
use dgbot_protocol::api::{AnswerFeedback, FeedbackValue};
use dgbot_protocol::livechat::LivechatStatus;
use dgbot_server::config::RateLimit;
use dgbot_server::core::ConversationKey;
use dgbot_server::model::{AttachmentMeta, Attempt, OutboxEvent, Rating, Session};
use dgbot_server::store::{Database, Store};
use dgbot_testkit::Api;
use serde_json::{Value, json};

fn message(id: &str, role: &str, text: &str) -> Message {
    serde_json::from_value(json!({
        "message_id": id, "role": role, "parts": [{ "type": "text", "text": text }]
    }))
    .unwrap()
}

fn session(id: &str, key: &ConversationKey) -> Session {
    Session {
        id: id.into(),
        key: key.clone(),
        status: LivechatStatus::Waiting,
        platform: "website".into(),
        source: "manual_button".into(),
        part_id: None,
        language: "da".into(),
        requested_at: "2026-12-04T12:00:00Z".into(),
        updated_at: "2026-12-04T12:00:00Z".into(),
        closed_at: None,
        closed_by: None,
        closed_by_agent_id: None,
        close_reason: None,
        agent_id: None,
        state_version: 0,
        agent_typing_until: 0,
        visitor_typing_until: 0,
        feedback_status: None,
        feedback_rating: None,
        feedback_comment: None,
        last_author: None,
        message_count: 0,
    }
}

fn outbox_event(id: &str, created_at: u64) -> OutboxEvent {
    OutboxEvent {
        event_id: id.into(),
        chatbot_id: "demo-shop".into(),
        event_type: "livechat.handover.requested".into(),
        payload: format!(r#"{{"event_id":"{id}"}}"#),
        created_at,
        state: "pending".into(),
        attempts: 0,
        next_attempt_at: created_at,
        delivered_at: None,
    }
}

/// Every method of the store, as the server uses it. Run on each database.
fn exercise(store: &Store) {
    let v = ConversationKey::new("demo-shop", "v_store_suite");
    let other = ConversationKey::new("demo-shop", "v_other");

    // Messages, in order, sent once per client id, with the answer after the question.
    assert!(
        store
            .push_in(
                &v,
                None,
                Some("client-1"),
                &message("msg_q1", "user", "Hello")
            )
            .unwrap()
    );
    assert!(
        !store
            .push_in(
                &v,
                None,
                Some("client-1"),
                &message("msg_q1b", "user", "Hello")
            )
            .unwrap(),
        "a client id is stored once"
    );
    store
        .push(&v, &message("msg_a1", "assistant", "Hi! How can I help?"))
        .unwrap();
    store
        .push(&other, &message("msg_o1", "user", "Someone else"))
        .unwrap();
    let (sent, answer) = store.by_client_id(&v, "client-1").unwrap().unwrap();
    assert_eq!(sent.message_id, "msg_q1");
    assert_eq!(answer.unwrap().message_id, "msg_a1");
    let history: Vec<String> = store
        .messages(&v)
        .unwrap()
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(history, ["msg_q1", "msg_a1"]);
    // A partial answer is history, but not a retry's answer.
    assert!(
        store
            .push_in(
                &v,
                None,
                Some("client-2"),
                &message("msg_q2", "user", "More?")
            )
            .unwrap()
    );
    store
        .push_partial(&v, &message("msg_a2", "assistant", "Half an ans"))
        .unwrap();
    let (_, answer) = store.by_client_id(&v, "client-2").unwrap().unwrap();
    assert!(answer.is_none(), "a partial answer is not replayed");
    assert_eq!(store.messages(&v).unwrap().len(), 4);

    // A secret is made once and kept.
    let secret = store.secret("suite").unwrap();
    assert_eq!(secret.len(), 32);
    assert_eq!(store.secret("suite").unwrap(), secret);

    // Ratings and identities: the latest counts.
    for (rating, feedback) in [(2u8, None), (5, Some("Great".to_owned()))] {
        store
            .rate(&Rating {
                chatbot_id: v.chatbot_id.clone(),
                visitor_id: v.visitor_id.clone(),
                rating,
                feedback,
                created_at: "2026-12-04T12:00:00Z".into(),
            })
            .unwrap();
    }
    let ratings = store.ratings().unwrap();
    assert_eq!(ratings.len(), 1);
    assert_eq!(
        (ratings[0].rating, ratings[0].feedback.as_deref()),
        (5, Some("Great"))
    );
    let mut who: dgbot_protocol::api::IdentifyRequest =
        serde_json::from_value(json!({ "user_id": "u1", "email": "ada@example.com" })).unwrap();
    store.identify(&v, &who, false).unwrap();
    who.name = Some("Ada".into());
    store.identify(&v, &who, true).unwrap();
    let (identity, verified) = store.identity_of(&v).unwrap().unwrap();
    assert_eq!((identity.name.as_deref(), verified), (Some("Ada"), true));
    assert_eq!(store.identities().unwrap().len(), 1);

    // Classification.
    store.classified(&v, "msg_a1", Some("Ordre")).unwrap();
    assert!(matches!(
        store.classification(&v, "msg_a1").unwrap(),
        Some(Some(topic)) if topic == "Ordre"
    ));
    assert!(store.classification(&other, "msg_a1").unwrap().is_none());

    // Per-answer feedback (issue 27): one row per answer, the latest vote; the next step after
    // "not helpful" is kept once.
    let vote = |value, reason: Option<&str>, at: &str| AnswerFeedback {
        value,
        reason: reason.map(str::to_owned),
        comment: None,
        updated_at: at.into(),
    };
    let (before, kept) = store
        .put_answer_feedback(
            &v,
            "msg_a1",
            &vote(FeedbackValue::Up, None, "2026-12-04T12:00:00Z"),
            None,
        )
        .unwrap();
    assert!(before.is_none() && !kept);
    let down = vote(
        FeedbackValue::Down,
        Some("incorrect"),
        "2026-12-04T12:01:00Z",
    );
    let (before, kept) = store
        .put_answer_feedback(&v, "msg_a1", &down, Some("msg_next_1"))
        .unwrap();
    assert_eq!(before.unwrap().value, FeedbackValue::Up);
    assert!(kept, "the first next step is kept");
    let again = vote(
        FeedbackValue::Down,
        Some("incomplete"),
        "2026-12-04T12:02:00Z",
    );
    let (before, kept) = store
        .put_answer_feedback(&v, "msg_a1", &again, Some("msg_next_2"))
        .unwrap();
    assert_eq!(before.unwrap(), down);
    assert!(!kept, "a next step is offered once per answer");
    let votes = store.answer_feedback(&v).unwrap();
    assert_eq!(votes.len(), 1);
    assert_eq!(votes["msg_a1"], again);
    assert!(store.answer_feedback(&other).unwrap().is_empty());
    // Replacing an answer: it and what follows go, with their votes.
    let r = ConversationKey::new("demo-shop", "v_replaced");
    for (id, role) in [
        ("msg_r1", "user"),
        ("msg_r2", "assistant"),
        ("msg_r3", "user"),
        ("msg_r4", "assistant"),
    ] {
        store.push(&r, &message(id, role, "…")).unwrap();
    }
    store
        .put_answer_feedback(&r, "msg_r4", &again, None)
        .unwrap();
    store.classified(&r, "msg_r4", Some("Ordre")).unwrap();
    assert_eq!(store.delete_from(&r, "msg_r3").unwrap(), 2);
    assert_eq!(store.delete_from(&r, "msg_nope").unwrap(), 0);
    assert_eq!(
        store.delete_from(&other, "msg_r1").unwrap(),
        0,
        "another visitor's"
    );
    let left: Vec<String> = store
        .messages(&r)
        .unwrap()
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(left, ["msg_r1", "msg_r2"]);
    assert!(store.answer_feedback(&r).unwrap().is_empty());
    assert!(store.classification(&r, "msg_r4").unwrap().is_none());

    // Livechat: one open session per visitor; changes count up the version.
    let (first, created) = store.start_session(session("lc_1", &v)).unwrap();
    assert!(created);
    assert_eq!(first.state_version, 1);
    let (again, created) = store.start_session(session("lc_2", &v)).unwrap();
    assert!(!created);
    assert_eq!(again.id, "lc_1");
    let changed = store
        .update_session("lc_1", &mut |s| {
            s.status = LivechatStatus::Active;
            s.agent_id = Some("agent-alice".into());
            Ok(())
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.status, changed.state_version),
        (LivechatStatus::Active, 2)
    );
    let version = store
        .push_livechat(&changed, "agent", None, &message("msg_l1", "agent", "Hej"))
        .unwrap();
    assert_eq!(version, Some(3));
    assert_eq!(store.livechat_messages(&v, None).unwrap().len(), 1);
    assert!(
        store
            .livechat_messages(&v, Some("msg_l1"))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .sessions("demo-shop", Some(LivechatStatus::Active))
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .sessions("demo-shop", Some(LivechatStatus::Waiting))
            .unwrap()
            .is_empty()
    );
    store
        .add_session_token("hash-1", "lc_1", 4_000_000_000)
        .unwrap();
    assert_eq!(
        store.session_token("hash-1").unwrap(),
        Some(("lc_1".into(), 4_000_000_000))
    );
    let alice: dgbot_protocol::message::Author = serde_json::from_value(
        json!({ "agent_id": "agent-alice", "display_name": "Alice", "avatar_url": null }),
    )
    .unwrap();
    store.put_agent("demo-shop", &alice).unwrap();
    store.put_agent("demo-shop", &alice).unwrap();
    assert_eq!(
        store.agent("demo-shop", "agent-alice").unwrap(),
        Some(alice)
    );
    let bytes: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
    let meta = AttachmentMeta {
        id: "att_1".into(),
        key: v.clone(),
        session_id: "lc_1".into(),
        filename: "receipt.pdf".into(),
        mime_type: "application/pdf".into(),
        size_bytes: bytes.len() as u64,
        created_at: 1_000,
    };
    store.put_attachment(&meta, &bytes).unwrap();
    assert_eq!(store.attachment("att_1").unwrap(), Some((meta, bytes)));

    // The webhook outbox: claimed once (leased), attempted, paged, replayed, expired.
    for (i, at) in [(1, 100u64), (2, 101), (3, 102)] {
        store
            .enqueue_webhook(&outbox_event(&format!("evt_{i}"), at))
            .unwrap();
    }
    assert_eq!(store.next_webhook_due().unwrap(), Some(100));
    let claimed = store.claim_due_webhooks(200, 60, 10).unwrap();
    assert_eq!(claimed.len(), 3);
    assert!(
        store.claim_due_webhooks(200, 60, 10).unwrap().is_empty(),
        "leased"
    );
    store
        .webhook_attempted(
            &Attempt {
                delivery_id: "dlv_1".into(),
                event_id: "evt_1".into(),
                attempt: 1,
                at_ms: 200_000,
                status: Some(200),
                error: None,
                duration_ms: 3,
            },
            "delivered",
            0,
            Some(200),
        )
        .unwrap();
    assert_eq!(store.webhook_attempts("evt_1").unwrap().len(), 1);
    let page = store
        .webhook_events("demo-shop", 0, None, None, None, 2)
        .unwrap();
    let ids: Vec<&str> = page.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, ["evt_3", "evt_2"], "newest first");
    let rest = store
        .webhook_events("demo-shop", 0, None, None, Some("evt_2"), 2)
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        store
            .webhook_events("demo-shop", 0, None, Some("delivered"), None, 10)
            .unwrap()
            .len(),
        1
    );
    store.replay_webhook("evt_1", 300).unwrap();
    assert_eq!(
        store.webhook_event_any("evt_1").unwrap().unwrap().state,
        "pending"
    );
    assert_eq!(store.expire_webhooks(101, 100).unwrap(), (2, 1));

    // A shared rate limit: three in the window, then the time to wait.
    let limit = RateLimit {
        messages: 3,
        per_seconds: 60,
    };
    for t in [0u64, 10_000, 20_000] {
        assert_eq!(
            store
                .count_hit("c", "ada", "messages", limit, 1_000_000 + t)
                .unwrap(),
            Ok(())
        );
    }
    assert_eq!(
        store
            .count_hit("c", "ada", "messages", limit, 1_030_000)
            .unwrap(),
        Err(30)
    );
    assert_eq!(
        store
            .count_hit("c", "bob", "messages", limit, 1_030_000)
            .unwrap(),
        Ok(())
    );
    assert_eq!(
        store
            .count_hit("c", "ada", "messages", limit, 1_060_000)
            .unwrap(),
        Ok(())
    );

    // Deletion removes the visitor's rows and nobody else's.
    let deleted = store.delete_visitor(&v).unwrap();
    assert_eq!(
        (
            deleted.messages,
            deleted.ratings,
            deleted.livechat_sessions,
            deleted.attachments
        ),
        (5, 1, 1, 1)
    );
    assert!(store.messages(&v).unwrap().is_empty());
    assert!(
        store.answer_feedback(&v).unwrap().is_empty(),
        "votes go too"
    );
    assert_eq!(store.messages(&other).unwrap().len(), 1);
    store.ready().unwrap();
    assert_eq!(store.ops_counts().unwrap().webhook_queue, 1);
}

#[test]
fn the_store_on_sqlite() {
    exercise(&Store::in_memory());
}

fn postgres() -> Option<Postgres> {
    Postgres::start()
}

#[test]
fn the_store_on_postgres() {
    let Some(pg) = postgres() else { return };
    let url = pg.database("store_suite");
    let store = Store::connect(&Database::Postgres(url.clone())).unwrap();
    exercise(&store);
    // A second start finds the schema migrated and the rows kept.
    drop(store);
    let again = Store::connect(&Database::Postgres(url)).unwrap();
    again.ready().unwrap();
    assert_eq!(
        again
            .messages(&ConversationKey::new("demo-shop", "v_other"))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn two_instances_never_take_the_same_session_or_webhook() {
    let Some(pg) = postgres() else { return };
    let url = pg.database("two_stores");
    let a = Arc::new(Store::connect(&Database::Postgres(url.clone())).unwrap());
    let b = Arc::new(Store::connect(&Database::Postgres(url)).unwrap());

    // Hand-overs for one visitor asked of both at once: one session.
    let key = ConversationKey::new("demo-shop", "v_race");
    let race = |store: Arc<Store>, id: &'static str| {
        let key = key.clone();
        std::thread::spawn(move || store.start_session(session(id, &key)).unwrap().1)
    };
    let (x, y) = (race(a.clone(), "lc_a"), race(b.clone(), "lc_b"));
    let created = [x.join().unwrap(), y.join().unwrap()];
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");

    // Two agents on two instances take the session: one wins.
    let take = |store: Arc<Store>, agent: &'static str| {
        std::thread::spawn(move || {
            let id = store
                .latest_session(&ConversationKey::new("demo-shop", "v_race"))
                .unwrap()
                .unwrap()
                .id;
            store
                .update_session(&id, &mut |s| {
                    if s.agent_id.is_some() {
                        return Err(CoreError::Conflict("taken".into()));
                    }
                    s.agent_id = Some(agent.into());
                    s.status = LivechatStatus::Active;
                    Ok(())
                })
                .is_ok()
        })
    };
    for _ in 0..5 {
        let s = a.latest_session(&key).unwrap().unwrap();
        a.update_session(&s.id, &mut |s| {
            s.agent_id = None;
            Ok(())
        })
        .unwrap();
        let (x, y) = (take(a.clone(), "agent-alice"), take(b.clone(), "agent-bob"));
        let won = [x.join().unwrap(), y.join().unwrap()];
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    }

    // 200 due events, both instances' workers claiming at once: each taken exactly once.
    for i in 0..200 {
        a.enqueue_webhook(&outbox_event(&format!("evt_race_{i}"), 10))
            .unwrap();
    }
    let claim = |store: Arc<Store>| {
        std::thread::spawn(move || {
            let mut got = vec![];
            loop {
                let batch = store.claim_due_webhooks(1_000, 600, 7).unwrap();
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch.into_iter().map(|e| e.event_id));
            }
        })
    };
    let (x, y) = (claim(a.clone()), claim(b.clone()));
    let (x, y) = (x.join().unwrap(), y.join().unwrap());
    let all: BTreeSet<&String> = x.iter().chain(&y).collect();
    assert_eq!(
        x.len() + y.len(),
        200,
        "claimed twice: {} + {}",
        x.len(),
        y.len()
    );
    assert_eq!(all.len(), 200);
}

// ---- two server processes --------------------------------------------------------------

/// Two instances of the release server on one database, with `env` besides.
fn instances(pg: &Postgres, name: &str, env: &[(&str, &str)]) -> (ReleaseServer, ReleaseServer) {
    let url = pg.database(name);
    let mut all = vec![
        ("DGBOT_DATABASE_URL", url.as_str()),
        ("DGBOT_STREAM_DELAY_MS", "0"),
        ("DGBOT_LOG", "warn"),
    ];
    all.extend_from_slice(env);
    (
        ReleaseServer::start_with(common::BIN, &format!("{name}-a"), &all),
        ReleaseServer::start_with(common::BIN, &format!("{name}-b"), &all),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_on_one_instance_answers_a_visitor_on_the_other() {
    let Some(pg) = postgres() else { return };
    let (a, b) = instances(&pg, "handover", &[]);
    // Each of 40 agent messages sent on B ends the visitor's long poll on A (checked inside).
    let mut latencies = common::agent_to_visitor(&a.base, &b.base, 40).await;
    latencies.sort();
    eprintln!(
        "cross-instance: agent message on B → visitor's long poll on A: p50 {:.1} ms, p99 {:.1} ms ({} messages; includes the agent's request)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len()
    );
}

/// Read an SSE body into `seen` until `done`: `Ok` with the body, or `Err` with what had
/// arrived when the connection broke.
async fn read_stream(res: reqwest::Response, seen: Arc<Mutex<String>>) -> Result<String, String> {
    use futures_util::StreamExt;
    let mut chunks = res.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let mut body = seen.lock().unwrap();
        match chunk {
            Ok(bytes) => body.push_str(&String::from_utf8_lossy(&bytes)),
            Err(_) => return Err(body.clone()),
        }
        if body.contains("event: done") {
            break;
        }
    }
    Ok(seen.lock().unwrap().clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_whose_instance_dies_mid_answer_gets_it_from_the_other() {
    let Some(pg) = postgres() else { return };
    let url = pg.database("failover");
    // A paces its answer (so it can die in the middle of one); B answers at once.
    let mut a = ReleaseServer::start_with(
        common::BIN,
        "failover-a",
        &[
            ("DGBOT_DATABASE_URL", &url),
            ("DGBOT_STREAM_DELAY_MS", "40"),
            ("DGBOT_LOG", "warn"),
        ],
    );
    let b = ReleaseServer::start_with(
        common::BIN,
        "failover-b",
        &[
            ("DGBOT_DATABASE_URL", &url),
            ("DGBOT_STREAM_DELAY_MS", "0"),
            ("DGBOT_LOG", "warn"),
        ],
    );
    let http = reqwest::Client::new();
    let visitor = Api::new(&a.base).visitor().await.token;
    let ask = |base: &str| {
        http.post(format!("{base}/api/v1/chat/messages"))
            .bearer_auth(&visitor)
            .header("Idempotency-Key", "question-1")
            .json(&json!({ "message": { "parts": [{ "type": "text", "text": "What are your shipping times?" }] } }))
            .send()
    };
    let res = ask(&a.base).await.unwrap();
    assert_eq!(res.status(), 200);
    let seen = Arc::new(Mutex::new(String::new()));
    let stream = tokio::spawn(read_stream(res, seen.clone()));
    // Once the answer has begun, instance A dies (SIGKILL: nothing is flushed or said).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen.lock().unwrap().contains("part_delta") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.child.kill().unwrap();
    let cut = stream.await.unwrap();
    let partial = match cut {
        Err(partial) => partial,
        Ok(body) => panic!("the stream outlived its server: {body}"),
    };
    assert!(
        partial.contains("part_delta"),
        "the answer had begun: {partial}"
    );
    assert!(!partial.contains("event: done"));

    // The widget retries with the same Idempotency-Key; whichever instance takes it answers.
    let res = ask(&b.base).await.unwrap();
    assert_eq!(res.status(), 200);
    let body = read_stream(res, Default::default())
        .await
        .expect("the whole answer");
    assert!(body.contains("event: done"), "{body}");
    // The answer is stored as its stream ends, a moment after `done` went out.
    let mut roles = vec![];
    let deadline = Instant::now() + Duration::from_secs(10);
    while roles != ["user", "assistant"] && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let history = Api::new(&b.base).visitor_with(&visitor).history().await;
        roles = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap().to_owned())
            .collect();
        assert!(roles.len() <= 2, "the question once, one answer: {history}");
    }
    assert_eq!(
        roles,
        ["user", "assistant"],
        "the question once, one whole answer"
    );
}

/// A webhook endpoint that counts deliveries by `event_id`.
async fn receiver() -> (String, Arc<Mutex<BTreeMap<String, u32>>>) {
    let seen: Arc<Mutex<BTreeMap<String, u32>>> = Default::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |body: String| {
            let record = record.clone();
            async move {
                let v: Value = serde_json::from_str(&body).unwrap_or_default();
                if let Some(id) = v["event_id"].as_str() {
                    *record.lock().unwrap().entry(id.to_owned()).or_default() += 1;
                }
                "ok"
            }
        }),
    );
    (format!("{}/hooks", dgbot_testkit::side::serve(app)), seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_go_out_once_across_instances() {
    let Some(pg) = postgres() else { return };
    let (a, b) = instances(&pg, "webhooks", &[]);
    let http = reqwest::Client::new();
    for base in [&a.base, &b.base] {
        let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "migrated, and the database answers");
    }
    let (url, seen) = receiver().await;
    let (status, body) = Api::new(&a.base)
        .backend()
        .call(
        reqwest::Method::PUT,
        "/webhooks",
        Some(json!({ "url": url, "secret": "a webhook secret of some length", "events": ["livechat.handover.requested"] })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // 30 hand-overs, alternately on A and B: 30 events, queued by both.
    for i in 0..30 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        Api::new(base).visitor().await.handover().await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().len() < 30 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for a second delivery of anything, were one coming.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 30, "every event delivered: {seen:?}");
    assert!(
        seen.values().all(|n| *n == 1),
        "each exactly once: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_holds_across_instances() {
    let Some(pg) = postgres() else { return };
    let (a, b) = instances(&pg, "limits", &[("DGBOT_AUTH_PUBLIC_PER_MINUTE", "5")]);
    let http = reqwest::Client::new();
    let mut statuses = vec![];
    for i in 0..7 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let res = http
            .post(format!("{base}/api/v1/chat/auth/public"))
            .json(&json!({ "chatbot_id": "demo-shop", "host_origin": "http://localhost:5173" }))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 429, 429],
        "five a minute from one address, on either instance"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hub_carries_events_between_instances_in_order_long_ones_too() {
    use dgbot_server::core::hub::{ConversationEvent, Hub};
    use dgbot_server::store::hub::PostgresHub;
    let Some(pg) = postgres() else { return };
    let url = pg.database("hub");
    let store = Store::connect(&Database::Postgres(url.clone())).unwrap();
    let handle = store.postgres().unwrap().handle().clone();
    let (a, b) = (
        PostgresHub::start(&url, &handle),
        PostgresHub::start(&url, &handle),
    );
    let key = ConversationKey::new("demo-shop", "v_hub");
    let mut heard = b.subscribe(&key);
    let mut own = a.subscribe(&key);
    // Both listeners are up once a probe gets through.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        a.publish(&key, ConversationEvent::VisitorTyping { is_typing: true });
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), heard.recv()).await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "instance B never heard instance A"
        );
    }
    while heard.try_recv().is_ok() {}
    while own.try_recv().is_ok() {}

    // A long agent message (8,000 bytes of 'ø': over NOTIFY's limit, so it goes through the
    // spill table) between two short events: all three arrive, in order, once.
    let long = message("msg_long", "agent", &"ø".repeat(4000));
    let sent = [
        ConversationEvent::AgentTyping { is_typing: true },
        ConversationEvent::AgentMessage(long),
        ConversationEvent::AgentTyping { is_typing: false },
    ];
    for event in sent.clone() {
        a.publish(&key, event);
    }
    for expected in &sent {
        let got = tokio::time::timeout(Duration::from_secs(5), heard.recv())
            .await
            .expect("in time")
            .unwrap();
        assert_eq!(&got, expected);
        // The sender's own subscribers hear it once, from the sender itself.
        assert_eq!(&own.recv().await.unwrap(), expected);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(heard.try_recv().is_err(), "nothing twice");
    assert!(own.try_recv().is_err(), "not its own notification again");
}
