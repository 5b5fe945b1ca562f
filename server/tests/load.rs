//! The reference server under load (DESIGN.md budget: 1,000 concurrent SSE streams on this
//! 2-core machine, nothing dropped). Starts the release binary with the shipped configuration
//! (its own temporary database), gives each of N visitors a token, then opens all N
//! `POST /api/v1/chat/messages` streams at once and reads them to `done`, as paced as in the demo
//! (35 ms between events). Reports throughput, time to first event (p50, p99), streams dropped,
//! and the server's peak memory. A measurement, not a test of timing:
//! `cargo xtask bench-server [N]` runs it (N = 1000 by default).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dgbot_protocol::sse::SseParser;
use futures_util::StreamExt;
use serde_json::{Value, json};

const QUESTIONS: &[&str] = &[
    "How long does shipping take?",
    "Which lamps do you recommend?",
    "Can I return a lamp?",
    "When are you open on Saturday?",
    "Compare your lamps",
    "Where is my order?",
];

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
    let n: usize = std::env::var("DGBOT_LOAD_STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = std::env::temp_dir().join(format!("dgbot-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = std::fs::read_to_string(dgbot_server::config::repo_config()).unwrap();
    let server_dir = dgbot_server::config::repo_config()
        .parent()
        .unwrap()
        .to_path_buf();
    let config = shipped
        .replace(
            "database = \"../target/dgbot.sqlite\"",
            &format!("database = {:?}", dir.join("load.sqlite")),
        )
        .replace(
            "faq = \"demo/kb\"",
            &format!("faq = {:?}", server_dir.join("demo/kb")),
        )
        .replace(
            "catalogue = \"demo/catalogue.json\"",
            &format!("catalogue = {:?}", server_dir.join("demo/catalogue.json")),
        );
    std::fs::write(dir.join("load.toml"), config).unwrap();

    let mut server = Command::new(env!("CARGO_BIN_EXE_dgbot-server"))
        .env("PORT", "0")
        .env("DGBOT_CONFIG", dir.join("load.toml"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = server.id();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .expect("the widget URL")
        .trim_end_matches(')')
        .to_owned();

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(n)
        .build()
        .unwrap();
    // Tokens first (one visitor each), so that the streams start together.
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
    let memory_before = peak_memory_kb(pid);

    let start = Arc::new(tokio::sync::Barrier::new(n));
    let began = Instant::now();
    let tasks: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let (http, base, start) = (http.clone(), base.clone(), start.clone());
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
    let peak = peak_memory_kb(pid);
    let _ = server.kill();
    let _ = std::fs::remove_dir_all(&dir);

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
        "load: {n} concurrent SSE conversations against the release server, 35 ms between events"
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
    println!(
        "load: server peak memory (VmHWM): {:.1} MiB (idle with {n} tokens issued: {:.1} MiB)",
        peak as f64 / 1024.0,
        memory_before as f64 / 1024.0
    );
    assert_eq!(completed, n, "every stream ends with done");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The process's peak resident memory so far, in KiB (`VmHWM` of `/proc/PID/status`).
fn peak_memory_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
