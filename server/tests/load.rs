//! The reference server under load, two measurements (not tests of timing; `cargo xtask
//! bench-server [N]` runs both, N = 1000 by default). Each starts the release binary with the
//! shipped configuration and its own temporary database.
//!
//! - `concurrent_sse_streams` (DESIGN.md budget: 1,000 concurrent SSE streams on this 2-core
//!   machine, nothing dropped): gives each of N visitors a token, then opens all N
//!   `POST /api/v1/chat/messages` streams at once and reads them to `done`, as paced as in the
//!   demo (35 ms between events). Reports throughput, time to first event (p50, p99), streams
//!   dropped, and the server's peak memory.
//!   `concurrent_sse_streams_postgres` does the same on PostgreSQL, with one instance and then
//!   two instances on one database sharing the visitors (issue 16).
//! - `cross_instance_delivery`: an agent's message written through one instance to the
//!   visitor's long poll on the other (the hub over PostgreSQL's `LISTEN/NOTIFY`).
//! - `webhook_delivery` (seed 002 webhooks): N hand-overs queue N signed events for a Node
//!   receiver that verifies each with the seed's function and fails every third attempt;
//!   delivery throughput and latency, and a visitor request's p99 with and without the load.
//! - `livechat_polling` (seed 002 livechat): N visitors waiting for a person; the cost of one
//!   poll of `GET /livechat/state` and `GET /livechat/messages` (time and bytes), and the time
//!   from an agent's message to the visitor seeing it, with the long poll (`wait=`).
//! - `websocket_connections` (seed 001 `/ws`): N clients of the seed's Python library connect at
//!   once, each asks a question and reads the streamed answer to `stream_end`, then all stay
//!   connected and idle: answers completed, connections dropped, and the server's memory per
//!   idle connection.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::ReleaseServer;
use common::postgres::Postgres;
use dgbot_protocol::sse::SseParser;
use futures_util::StreamExt;
use serde_json::{Value, json};

use common::QUESTIONS;

#[derive(Debug)]
struct Outcome {
    first_event: Duration,
    total: Duration,
    events: usize,
    done: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench-server"]
async fn concurrent_sse_streams() {
    let server = ReleaseServer::start(common::BIN, "sse");
    sse_conversations("SQLite", &[&server], load_streams()).await;
}

fn load_streams() -> usize {
    std::env::var("DGBOT_LOAD_STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// `instances` release servers on one new PostgreSQL database.
fn on_postgres(pg: &Postgres, name: &str, instances: usize) -> Vec<ReleaseServer> {
    let url = pg.database(name);
    (0..instances)
        .map(|i| {
            ReleaseServer::start_with(
                common::BIN,
                &format!("{name}-{i}"),
                &[("DGBOT_DATABASE_URL", url.as_str()), ("DGBOT_LOG", "warn")],
            )
        })
        .collect()
}

/// `concurrent_sse_streams` on PostgreSQL: one instance, then two sharing the load (each
/// visitor's token from one, the stream from the other).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench-server"]
async fn concurrent_sse_streams_postgres() {
    let Some(pg) = Postgres::start() else { return };
    let one = on_postgres(&pg, "sse_one", 1);
    sse_conversations("PostgreSQL, one instance", &[&one[0]], load_streams()).await;
    drop(one);
    let two = on_postgres(&pg, "sse_two", 2);
    sse_conversations(
        "PostgreSQL, two instances",
        &[&two[0], &two[1]],
        load_streams(),
    )
    .await;
}

/// From an agent's message on one instance to the visitor's long poll on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench-server"]
async fn cross_instance_delivery() {
    let Some(pg) = Postgres::start() else { return };
    let two = on_postgres(&pg, "cross_instance", 2);
    let mut latencies = common::agent_to_visitor(&two[0].base, &two[1].base, 200).await;
    println!(
        "load: an agent's message on instance B to the visitor's long poll on instance A (PostgreSQL LISTEN/NOTIFY; 200 messages, the agent's request included): p50 {:.1} ms, p99 {:.1} ms",
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99)
    );
}

/// N visitors (tokens first, so the streams start together) ask at once, spread over
/// `servers`, and read their answers to `done`.
async fn sse_conversations(label: &str, servers: &[&ReleaseServer], n: usize) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(n)
        .build()
        .unwrap();
    let mut tokens = Vec::with_capacity(n);
    for (i, server) in servers.iter().enumerate() {
        let share = n / servers.len() + usize::from(i < n % servers.len());
        tokens.extend(visitor_tokens(&http, &server.base, share).await);
    }
    // Each stream on the next instance from its token's: a visitor may land anywhere.
    let bases: Vec<String> = (0..n)
        .map(|i| servers[(i + 1) % servers.len()].base.clone())
        .collect();
    let memory_before: Vec<u64> = servers.iter().map(|s| peak_memory_kb(s.pid)).collect();

    let start = Arc::new(tokio::sync::Barrier::new(n));
    let began = Instant::now();
    let tasks: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let (http, base, start) = (http.clone(), bases[i].clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let sent = Instant::now();
                let body = json!({ "message": { "parts": [{ "type": "text", "text": QUESTIONS[i % QUESTIONS.len()] }] } });
                let res = match http.post(format!("{base}/api/v1/chat/messages")).bearer_auth(&token).json(&body).send().await {
                    Ok(res) if res.status().is_success() => res,
                    _ => return Outcome { first_event: Duration::MAX, total: sent.elapsed(), events: 0, done: false },
                };
                let mut stream = res.bytes_stream();
                let (mut parser, mut events, mut first, mut done) = (SseParser::new(), vec![], None, false);
                let mut count = 0;
                while let Some(chunk) = stream.next().await {
                    let Ok(chunk) = chunk else { break };
                    parser.feed(&chunk, &mut events);
                    if !events.is_empty() {
                        first.get_or_insert_with(|| sent.elapsed());
                        count += events.len();
                        done |= events.iter().any(|e| e.event == "done");
                        events.clear();
                    }
                }
                Outcome { first_event: first.unwrap_or(Duration::MAX), total: sent.elapsed(), events: count, done }
            })
        })
        .collect();
    let mut outcomes = vec![];
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let wall = began.elapsed();
    let peak: Vec<u64> = servers.iter().map(|s| peak_memory_kb(s.pid)).collect();

    let completed = outcomes.iter().filter(|o| o.done).count();
    let events: usize = outcomes.iter().map(|o| o.events).sum();
    let mut first: Vec<Duration> = outcomes
        .iter()
        .filter(|o| o.done)
        .map(|o| o.first_event)
        .collect();
    first.sort();
    let mut totals: Vec<Duration> = outcomes.iter().map(|o| o.total).collect();
    totals.sort();
    let pct = |v: &[Duration], p: f64| {
        v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "load: {n} concurrent SSE conversations against the release server ({label}), 35 ms between events"
    );
    println!(
        "load: completed with `done`: {completed}; dropped: {}",
        n - completed
    );
    println!(
        "load: {events} SSE events in {:.2} s: {:.0} events/s, {:.0} conversations/s",
        wall.as_secs_f64(),
        events as f64 / wall.as_secs_f64(),
        completed as f64 / wall.as_secs_f64()
    );
    println!(
        "load: time to first event: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(pct(&first, 0.5)),
        ms(pct(&first, 0.99)),
        ms(*first.last().unwrap_or(&Duration::ZERO))
    );
    println!(
        "load: whole answer: p50 {:.2} s, p99 {:.2} s",
        pct(&totals, 0.5).as_secs_f64(),
        pct(&totals, 0.99).as_secs_f64()
    );
    let mib = |kb: &[u64]| {
        kb.iter()
            .map(|k| format!("{:.1}", *k as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    println!(
        "load: server peak memory (VmHWM): {} MiB (idle with {n} tokens issued: {} MiB)",
        mib(&peak),
        mib(&memory_before)
    );
    assert_eq!(completed, n, "every stream ends with done");
}

/// A visitor token each for `n` new visitors.
async fn visitor_tokens(http: &reqwest::Client, base: &str, n: usize) -> Vec<String> {
    let mut tokens = Vec::with_capacity(n);
    for _ in 0..n {
        let res = http
            .post(format!("{base}/api/v1/chat/auth/public"))
            .json(&json!({ "chatbot_id": "demo-shop", "host_origin": "http://localhost:3000" }))
            .send()
            .await
            .unwrap();
        tokens.push(
            res.json::<Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    tokens
}

/// Ask for a person as this visitor; the new (waiting) session's id.
async fn handover(http: &reqwest::Client, base: &str, token: &str) -> String {
    let res: Value = http
        .post(format!("{base}/api/v1/chat/livechat/handover"))
        .bearer_auth(token)
        .json(&json!({ "platform": "website", "source": "manual_button" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["status"], "waiting", "{res}");
    res["livechat_session_id"].as_str().unwrap().to_owned()
}

fn percentile(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    ms(
        v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench-server"]
async fn livechat_polling() {
    let n: usize = std::env::var("DGBOT_LOAD_STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let server = ReleaseServer::start(common::BIN, "livechat");
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let tokens = visitor_tokens(&http, &base, n).await;
    let mut sessions = Vec::with_capacity(n);
    for token in &tokens {
        sessions.push(handover(&http, &base, token).await);
    }

    // One poll: state, then messages, one request at a time (the time is the server's plus
    // loopback), over a spread of the waiting visitors.
    let (mut state_times, mut message_times, mut state_bytes, mut message_bytes) =
        (vec![], vec![], 0, 0);
    let polls = n.min(500);
    for token in tokens.iter().step_by((n / polls).max(1)) {
        for (path, times, bytes) in [
            ("state", &mut state_times, &mut state_bytes),
            ("messages", &mut message_times, &mut message_bytes),
        ] {
            let t = Instant::now();
            let res = http
                .get(format!("{base}/api/v1/chat/livechat/{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success());
            *bytes = res.bytes().await.unwrap().len();
            times.push(t.elapsed());
        }
    }
    // Every waiting visitor polls both at once.
    let began = Instant::now();
    let all: Vec<_> = tokens
        .iter()
        .map(|token| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            tokio::spawn(async move {
                for path in ["state", "messages"] {
                    let res = http
                        .get(format!("{base}/api/v1/chat/livechat/{path}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    assert!(res.status().is_success());
                }
            })
        })
        .collect();
    for t in all {
        t.await.unwrap();
    }
    let burst = began.elapsed();

    // An agent's message to the visitor: the visitor's long poll (`wait=25`) returns with it.
    let mut latency = vec![];
    for (token, session) in tokens.iter().zip(&sessions).take(100) {
        let agent: Value = http
            .post(format!(
                "{base}/api/v1/chat/livechat/sessions/{session}/token"
            ))
            .basic_auth("demo-secret-key", Some(""))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let poll = {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            tokio::spawn(async move {
                let res: Value = http
                    .get(format!("{base}/api/v1/chat/livechat/messages?wait=25"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                (
                    Instant::now(),
                    res["messages"].as_array().map_or(0, Vec::len),
                )
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await; // the poll is waiting
        let sent = Instant::now();
        let res = http
            .post(format!("{base}/api/v1/chat/livechat/agent/messages"))
            .bearer_auth(agent["token"].as_str().unwrap())
            .json(&json!({ "agent_id": "agent-alice", "message": { "parts": [{ "type": "text", "text": "Hi, I'm Alice." }] } }))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let (seen, count) = poll.await.unwrap();
        assert_eq!(count, 1, "the long poll returned the agent's message");
        latency.push(seen.duration_since(sent));
    }

    println!("livechat: {n} visitors waiting for a person (release server, SQLite)");
    println!(
        "livechat: one poll, sequential: GET /livechat/state p50 {:.2} ms, p99 {:.2} ms, {state_bytes} B; GET /livechat/messages p50 {:.2} ms, p99 {:.2} ms, {message_bytes} B",
        percentile(&mut state_times, 0.5),
        percentile(&mut state_times, 0.99),
        percentile(&mut message_times, 0.5),
        percentile(&mut message_times, 0.99),
    );
    println!(
        "livechat: all {n} visitors poll state + messages at once: {:.0} ms, {:.0} polls/s",
        ms(burst),
        (2 * n) as f64 / burst.as_secs_f64()
    );
    println!(
        "livechat: agent message -> visitor's waiting long poll: p50 {:.2} ms, p99 {:.2} ms (100 sessions)",
        percentile(&mut latency, 0.5),
        percentile(&mut latency, 0.99)
    );
}

/// The Node receiver of `tests/webhook_receiver/` (seed 002's own verification), failing
/// every `fail_every`-th delivery; prints one JSON line per delivery.
fn webhook_receiver(
    fail_every: u32,
) -> (
    std::process::Child,
    u16,
    BufReader<std::process::ChildStdout>,
) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let typescript = std::env::var("DGBOT_TYPESCRIPT").unwrap_or_else(|_| {
        dir.join("../target/tools/typescript/node_modules/typescript")
            .display()
            .to_string()
    });
    let mut child = Command::new("node")
        .arg(dir.join("tests/webhook_receiver/receiver.js"))
        .env("DGBOT_TYPESCRIPT", typescript)
        .env("SECRET", "whsec_load_0123456789abcdef")
        .env("FAIL_EVERY", fail_every.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let port = serde_json::from_str::<Value>(&line).unwrap()["listening"]
        .as_u64()
        .unwrap() as u16;
    (child, port, out)
}

/// p99 of `GET /livechat/state` over `n` sequential requests.
async fn state_p99(http: &reqwest::Client, base: &str, token: &str, n: usize) -> f64 {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let res = http
            .get(format!("{base}/api/v1/chat/livechat/state"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let _ = res.bytes().await;
        times.push(t.elapsed());
    }
    percentile(&mut times, 0.99)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench-server"]
async fn webhook_delivery() {
    let n: usize = std::env::var("DGBOT_LOAD_STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    // Retries after 1 s (doubling) instead of 10 s, so the failed third of the attempts is
    // retried within the run.
    let server = ReleaseServer::start_with(
        common::BIN,
        "webhooks",
        &[("DGBOT_WEBHOOK_RETRY_BASE_MS", "1000")],
    );
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let (mut receiver, port, out) = webhook_receiver(3);
    let tokens = visitor_tokens(&http, &base, n + 1).await;
    let probe = tokens[n].clone();
    let quiet_p99 = state_p99(&http, &base, &probe, 500).await;
    let res = http
        .put(format!("{base}/api/v1/chat/webhooks"))
        .basic_auth("demo-secret-key", Some(""))
        .json(&json!({ "url": format!("http://127.0.0.1:{port}/hooks"), "secret": "whsec_load_0123456789abcdef", "events": ["livechat.handover.requested"] }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());

    // Read deliveries on a thread: session id -> when its successful delivery arrived.
    let (tx, rx) = std::sync::mpsc::channel::<(String, bool, bool, Instant)>();
    std::thread::spawn(move || {
        for line in out.lines() {
            let Ok(line) = line else { break };
            let Ok(d) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let id = d["body"]["livechat_session"]["id"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let ok = d["status"] == 200;
            if tx
                .send((id, ok, d["verified"] == true, Instant::now()))
                .is_err()
            {
                break;
            }
        }
    });
    let began = Instant::now();
    let mut sent_at = std::collections::HashMap::new();
    for token in &tokens[..n] {
        let t = Instant::now();
        sent_at.insert(handover(&http, &base, token).await, t);
    }
    let loaded_p99 = state_p99(&http, &base, &probe, 500).await;
    let (mut latencies, mut attempts, mut unverified) = (vec![], 0usize, 0usize);
    let mut first_try = vec![];
    let mut drained = None;
    let deadline = Instant::now() + Duration::from_secs(600);
    while latencies.len() < n && Instant::now() < deadline {
        let Ok((id, ok, verified, at)) = rx.recv_timeout(Duration::from_secs(60)) else {
            break;
        };
        attempts += 1;
        unverified += usize::from(!verified);
        if attempts == n {
            drained = Some(at.duration_since(began));
        }
        if ok && let Some(t) = sent_at.remove(&id) {
            latencies.push(at.duration_since(t));
            if attempts <= n {
                first_try.push(at.duration_since(t));
            }
        }
    }
    let wall = began.elapsed();
    let _ = receiver.kill();
    drop(server);
    let delivered = latencies.len();
    println!("webhooks: {n} hand-overs, one signed event each, receiver fails every third attempt");
    println!(
        "webhooks: delivered {delivered}/{n} in {:.2} s ({attempts} attempts, {unverified} failed verification): {:.0} events/s",
        wall.as_secs_f64(),
        delivered as f64 / wall.as_secs_f64()
    );
    println!(
        "webhooks: the first {n} attempts in {:.2} s ({:.0} attempts/s); events delivered at the first try: p50 {:.1} ms, p99 {:.1} ms after their hand-over",
        drained.unwrap_or(wall).as_secs_f64(),
        n as f64 / drained.unwrap_or(wall).as_secs_f64(),
        percentile(&mut first_try, 0.5),
        percentile(&mut first_try, 0.99)
    );
    println!(
        "webhooks: all events, from hand-over to delivery: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms (retries wait 1 s, 2 s, 4 s… ± 25 %)",
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.9),
        percentile(&mut latencies, 0.99)
    );
    println!(
        "webhooks: visitor GET /livechat/state p99: {quiet_p99:.2} ms quiet, {loaded_p99:.2} ms while the events were queued and delivered"
    );
    assert_eq!(delivered, n, "every event delivered");
    assert_eq!(unverified, 0);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The process's peak resident memory so far, in KiB (`VmHWM` of `/proc/PID/status`).
fn peak_memory_kb(pid: u32) -> u64 {
    proc_status_kb(pid, "VmHWM:")
}

/// The process's resident memory now, in KiB (`VmRSS`).
fn memory_kb(pid: u32) -> u64 {
    proc_status_kb(pid, "VmRSS:")
}

fn proc_status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench-server"]
async fn websocket_connections() {
    let n: usize = std::env::var("DGBOT_LOAD_STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let server = ReleaseServer::start(common::BIN, "ws");
    let (base, pid) = (server.base.replace("http://", "ws://"), server.pid);
    // Settle, then the baseline: the server idle with no connection.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = memory_kb(pid);
    let python_path = std::env::var("DGBOT_PYTHONPATH").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/tools/python").to_owned()
    });
    let mut clients = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/dgbot_ws_client/load.py"
        ))
        .args([&base, &n.to_string()])
        .env("PYTHONPATH", python_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with websockets (cargo xtask setup)");
    let mut out = BufReader::new(clients.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let report: Value = serde_json::from_str(&line).expect("the clients' report");
    // All answered and idle: what each open connection costs the server.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_idle = memory_kb(pid);
    let peak = peak_memory_kb(pid);
    use std::io::Write;
    writeln!(clients.stdin.take().unwrap()).unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    let _ = clients.wait();
    drop(server);

    let answered = report["answered"].as_u64().unwrap_or(0) as usize;
    println!(
        "load: {n} WebSocket clients (seed 001 /ws, Python websockets) at once, 35 ms between events"
    );
    println!(
        "load: answers read to stream_end: {answered}; dropped: {}; first failures: {}",
        n - answered,
        report["failed"]
    );
    println!(
        "load: all {n} answered in {} s (fewest chunks in one answer: {})",
        report["seconds"], report["chunks_min"]
    );
    println!(
        "load: server memory: {:.1} MiB idle, {:.1} MiB with {n} idle connections ({:.1} KiB each), peak {:.1} MiB",
        before as f64 / 1024.0,
        with_idle as f64 / 1024.0,
        (with_idle.saturating_sub(before)) as f64 / n as f64,
        peak as f64 / 1024.0
    );
    assert_eq!(answered, n, "every client got its whole answer");
}
