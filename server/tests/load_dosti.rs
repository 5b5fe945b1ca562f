//! Dosti (seed 004) under load, a measurement, not a test of timing (DESIGN.md budget: 1,000
//! Socket.IO clients on this 2-core machine, nothing dropped). Run it with
//!
//! ```sh
//! cargo test --release -p dgbot-server --test load_dosti -- --ignored --nocapture
//! ```
//!
//! It starts the release binary with the shipped configuration (answers paced as in the demo,
//! 35 ms between events) and its own temporary database, then has Node open N
//! `socket.io-client` 4.x connections (`dosti_client/load.js`, N = `DGBOT_LOAD_CLIENTS`, 1,000
//! by default; transport `DGBOT_LOAD_TRANSPORT`, `websocket` by default, or `polling`), each
//! its own visitor. With all of them connected and idle it reads the server's memory (the
//! memory per idle connection); then every visitor asks a question at once and waits for the
//! streamed answer (the assistant typing, then the answer). Reports answers received,
//! connections dropped, time to the first event and to the answer (p50, p99), and the server's
//! peak memory.

mod common;

use common::ReleaseServer;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

#[test]
#[ignore = "a benchmark: cargo test --release -p dgbot-server --test load_dosti -- --ignored --nocapture"]
fn socket_io_clients_each_get_a_streamed_answer() {
    let n: usize = env_or("DGBOT_LOAD_CLIENTS", "1000").parse().unwrap();
    let transport = env_or("DGBOT_LOAD_TRANSPORT", "websocket");
    let server = ReleaseServer::start(common::BIN, "dosti");
    std::thread::sleep(Duration::from_millis(500));
    let before = memory_kb(server.pid, "VmRSS:");

    let mut node = Command::new("node")
        .arg(script("load.js"))
        .args([&server.base, "dosti_pub_demo", &n.to_string(), &transport])
        .env("NODE_PATH", node_modules())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut next = |event: &str| loop {
        let line = lines.next().expect("load.js printed its results").unwrap();
        let value: Value = serde_json::from_str(&line).unwrap();
        if value["event"] == event {
            return value;
        }
        eprintln!("load: {line}");
    };

    let connected = next("connected");
    println!("load: {connected}");
    // Let the connections settle (handshakes done, buffers back to idle) before measuring.
    std::thread::sleep(Duration::from_secs(3));
    let idle = memory_kb(server.pid, "VmRSS:");
    let open = connected["connected"].as_u64().unwrap().max(1);
    println!(
        "load: server memory: {:.1} MiB before, {:.1} MiB with {open} idle {transport} connections: {:.1} KiB per idle connection",
        before as f64 / 1024.0,
        idle as f64 / 1024.0,
        idle.saturating_sub(before) as f64 / open as f64
    );

    writeln!(node.stdin.as_mut().unwrap(), "go").unwrap();
    let done = next("done");
    let _ = node.wait();
    println!("load: {done}");
    println!(
        "load: {} of {n} answered, {} dropped; first event (assistant typing) p50 {} ms, p99 {} ms; whole answer p50 {} ms, p99 {} ms; in {} ms",
        done["answered"],
        done["dropped"],
        done["first_event_ms"]["p50"],
        done["first_event_ms"]["p99"],
        done["answer_ms"]["p50"],
        done["answer_ms"]["p99"],
        done["elapsed_ms"]
    );
    println!(
        "load: server peak memory (VmHWM): {:.1} MiB",
        memory_kb(server.pid, "VmHWM:") as f64 / 1024.0
    );
    assert_eq!(
        connected["connected"].as_u64(),
        Some(n as u64),
        "every client connects"
    );
    assert_eq!(
        done["answered"].as_u64(),
        Some(n as u64),
        "every client gets its answer"
    );
    assert_eq!(done["dropped"].as_u64(), Some(0), "no connection dropped");
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/dosti_client")
        .join(name)
}

fn node_modules() -> PathBuf {
    let modules = std::env::var_os("DGBOT_SEED_CLIENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/tools/seed-clients/node_modules")
        });
    assert!(
        modules.join("socket.io-client").is_dir(),
        "socket.io-client is not in {}: run `cargo xtask setup` or set DGBOT_SEED_CLIENTS",
        modules.display()
    );
    modules
}

/// A line of `/proc/PID/status` in KiB (`VmRSS:` now, `VmHWM:` the peak).
fn memory_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
