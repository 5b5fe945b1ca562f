//! Seed 003's WebSocket `/api/livechat` under load (a measurement, not a test of timing; run
//! it on the release build):
//!
//! ```sh
//! cargo test --release -p dgbot-server --test load_webchatagent -- --ignored --nocapture
//! ```
//!
//! `concurrent_websockets` (DESIGN.md budget: 1,000 WebSockets on this 2-core machine,
//! nothing dropped) starts the release binary with the shipped configuration (the demo bot
//! paced as in the demo, 35 ms between events) and its own database; starts N sessions with
//! `POST /api/chat`; opens N sockets, then joins each to its session, reading the server's
//! memory after each step with all of them idle; then has every socket ask the assistant at once and reads each
//! streamed answer (`livechat:chunk`s, then the whole `livechat:message`). Reports the memory
//! per idle connection, time to the first chunk and to the whole answer (p50, p99), events a
//! second, sockets dropped, and the server's peak memory. N is `DGBOT_LOAD_SOCKETS` (1000).

mod common;

use common::ReleaseServer;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;

use common::QUESTIONS;

#[derive(Debug)]
struct Outcome {
    first_chunk: Option<Duration>,
    whole: Option<Duration>,
    events: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo test --release -p dgbot-server --test load_webchatagent -- --ignored"]
async fn concurrent_websockets() {
    let n: usize = std::env::var("DGBOT_LOAD_SOCKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let server = ReleaseServer::start_with(
        common::BIN,
        "webchatagent",
        &[("DGBOT_AUTH_PUBLIC_PER_MINUTE", "1000000")],
    );
    let (base, pid) = (server.base.clone(), server.pid);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(100)
        .build()
        .unwrap();
    let sessions = start_sessions(&http, &base, n).await;
    tokio::time::sleep(Duration::from_secs(2)).await; // classification after each answer
    let before = memory_kb(pid, "VmRSS:");

    let url = format!("{}/api/livechat", base.replacen("http", "ws", 1));
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        sockets.push(tokio_tungstenite::connect_async(&url).await.unwrap().0);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let connected = memory_kb(pid, "VmRSS:");
    for (ws, session) in sockets.iter_mut().zip(&sessions) {
        let join = json!({ "type": "client:join", "chatbotId": "demo-shop", "sessionId": session, "as": "user" });
        ws.send(Frame::Text(join.to_string().into())).await.unwrap();
        let status = next_event(ws).await.expect("the join's status");
        assert_eq!(status["type"], "livechat:status", "{status}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = memory_kb(pid, "VmRSS:");

    let start = Arc::new(tokio::sync::Barrier::new(n));
    let began = Instant::now();
    let tasks: Vec<_> = sockets
        .into_iter()
        .zip(sessions)
        .enumerate()
        .map(|(i, (mut ws, session))| {
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                let sent = Instant::now();
                let ask = json!({ "type": "client:message", "chatbotId": "demo-shop", "sessionId": session, "sender": "user", "content": QUESTIONS[i % QUESTIONS.len()] });
                let mut outcome = Outcome { first_chunk: None, whole: None, events: 0 };
                if ws.send(Frame::Text(ask.to_string().into())).await.is_err() {
                    return outcome;
                }
                while let Some(event) = next_event(&mut ws).await {
                    outcome.events += 1;
                    assert_eq!(event["sessionId"], session.as_str(), "{event}");
                    match event["type"].as_str() {
                        Some("livechat:chunk") => {
                            outcome.first_chunk.get_or_insert(sent.elapsed());
                        }
                        Some("livechat:message") if event["sender"] == "bot" => {
                            outcome.whole = Some(sent.elapsed());
                            break;
                        }
                        _ => {}
                    }
                }
                outcome
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(n);
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let elapsed = began.elapsed();
    let peak = memory_kb(pid, "VmHWM:");

    let answered = outcomes.iter().filter(|o| o.whole.is_some()).count();
    let events: usize = outcomes.iter().map(|o| o.events).sum();
    let mut firsts: Vec<Duration> = outcomes.iter().filter_map(|o| o.first_chunk).collect();
    let mut wholes: Vec<Duration> = outcomes.iter().filter_map(|o| o.whole).collect();
    let per = |from: u64, to: u64| to.saturating_sub(from) as f64 / n as f64;
    println!(
        "webchatagent load: server memory {:.1} MiB with {n} sessions; {:.1} MiB with {n} sockets open ({:.1} KiB each); {:.1} MiB with each joined to its session, idle ({:.1} KiB each in all)",
        before as f64 / 1024.0,
        connected as f64 / 1024.0,
        per(before, connected),
        idle as f64 / 1024.0,
        per(before, idle)
    );
    println!(
        "webchatagent load: {answered}/{n} streamed answers whole ({} dropped) in {:.2} s; {events} events, {:.0} events/s",
        n - answered,
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64()
    );
    println!(
        "webchatagent load: first chunk p50 {} ms, p99 {} ms; whole answer p50 {} ms, p99 {} ms; server peak memory (VmHWM) {:.1} MiB",
        percentile(&mut firsts, 50),
        percentile(&mut firsts, 99),
        percentile(&mut wholes, 50),
        percentile(&mut wholes, 99),
        peak as f64 / 1024.0
    );
    assert_eq!(answered, n, "every socket gets its whole answer");
    drop(server);
}

/// `n` sessions, started with `POST /api/chat` a hundred at a time: their ids.
async fn start_sessions(http: &reqwest::Client, base: &str, n: usize) -> Vec<String> {
    let gate = Arc::new(tokio::sync::Semaphore::new(100));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (http, base, gate) = (http.clone(), base.to_owned(), gate.clone());
            tokio::spawn(async move {
                let _turn = gate.acquire().await.unwrap();
                let res = http
                    .post(format!("{base}/api/chat"))
                    .json(&json!({ "message": "Hello", "chatbotId": "demo-shop" }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                res.headers()["x-chat-session-id"]
                    .to_str()
                    .unwrap()
                    .to_owned()
            })
        })
        .collect();
    let mut sessions = Vec::with_capacity(n);
    for t in tasks {
        sessions.push(t.await.unwrap());
    }
    sessions
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next event on the socket (pings skipped); `None` when it ends or stays silent 30 s.
async fn next_event(ws: &mut Ws) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Frame::Text(t)))) => return serde_json::from_str(&t).ok(),
            Ok(Some(Ok(Frame::Ping(_) | Frame::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

fn percentile(v: &mut [Duration], p: usize) -> u128 {
    if v.is_empty() {
        return 0;
    }
    v.sort();
    v[(v.len() * p / 100).min(v.len() - 1)].as_millis()
}

/// A line of `/proc/PID/status` in KiB (`VmRSS:` now, `VmHWM:` the peak).
fn memory_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
