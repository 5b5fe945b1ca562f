//! The seed's webhook verifier as a receiver: `server/tests/webhook_receiver/receiver.js`
//! checks every delivery with seed 002's `verifyDialogeWebhook` (TypeScript, compiled at start;
//! `cargo xtask setup` installs it) and prints one JSON line per delivery.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The Node receiver: one JSON line per delivery (`verified`, `status`, `headers`, `body`).
pub struct Receiver {
    pub port: u16,
    lines: tokio::sync::mpsc::Receiver<Value>,
    /// Deliveries `until` passed over, oldest first.
    passed_over: Vec<Value>,
    _child: tokio::process::Child,
}

fn typescript() -> String {
    std::env::var("DGBOT_TYPESCRIPT").unwrap_or_else(|_| {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/tools/typescript/node_modules/typescript");
        assert!(
            p.exists(),
            "TypeScript is not installed: run `cargo xtask setup` (it installs it into target/tools)"
        );
        p.display().to_string()
    })
}

impl Receiver {
    /// Listen on `port` (0: any), verifying with `secret`, answering 500 to the first `fail_first` deliveries of
    /// each event.
    pub async fn listen(secret: &str, port: u16, fail_first: u32) -> Receiver {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/webhook_receiver/receiver.js");
        let mut child = tokio::process::Command::new("node")
            .arg(script)
            .env("DGBOT_TYPESCRIPT", typescript())
            .env("SECRET", secret)
            .env("PORT", port.to_string())
            .env("FAIL_FIRST", fail_first.to_string())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node (Node.js) on PATH");
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let first: Value = serde_json::from_str(
            &out.next_line()
                .await
                .unwrap()
                .expect("the receiver started"),
        )
        .unwrap();
        let (tx, lines) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = tx.send(v).await;
                }
            }
        });
        Receiver {
            port: first["listening"].as_u64().unwrap() as u16,
            lines,
            passed_over: Vec::new(),
            _child: child,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks", self.port)
    }

    /// The next delivery, within 20 s (one passed over by [`Self::until`] first).
    pub async fn next(&mut self) -> Value {
        if !self.passed_over.is_empty() {
            return self.passed_over.remove(0);
        }
        tokio::time::timeout(Duration::from_secs(20), self.lines.recv())
            .await
            .expect("a delivery within 20 s")
            .expect("the receiver is running")
    }

    /// The first delivery of `event_type`. Deliveries run in parallel, so events queued a
    /// moment apart may arrive in either order: the others are kept for later calls.
    pub async fn until(&mut self, event_type: &str) -> Value {
        if let Some(i) = self
            .passed_over
            .iter()
            .position(|d| d["headers"]["x-di-event"] == event_type)
        {
            return self.passed_over.remove(i);
        }
        loop {
            let d = tokio::time::timeout(Duration::from_secs(20), self.lines.recv())
                .await
                .expect("a delivery within 20 s")
                .expect("the receiver is running");
            if d["headers"]["x-di-event"] == event_type {
                return d;
            }
            self.passed_over.push(d);
        }
    }
}
