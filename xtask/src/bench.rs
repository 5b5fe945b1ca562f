//! `cargo xtask bench` (the widget in headless Chromium) and `bench-server` (the release
//! server under load).

use crate::Result;
use crate::build::build_with;
use crate::setup::Needs;
use crate::tools::*;

pub fn bench() -> Result {
    build_with(Needs::Everything)?;
    let chromedriver = which("chromedriver").ok_or("chromedriver is not on PATH")?;
    run(cmd("cargo")
        .args([
            "test",
            "--release",
            "--test",
            "bench",
            "--",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CHROMEDRIVER", chromedriver))
}

/// N concurrent SSE conversations against the release server (server/tests/load.rs).
pub fn bench_server(streams: &str) -> Result {
    let n: u32 = streams
        .parse()
        .map_err(|_| format!("bench-server takes a number of streams, not {streams:?}"))?;
    run(cmd("cargo")
        .args([
            "test",
            "--release",
            "-p",
            "dgbot-server",
            "--test",
            "load",
            "--test",
            "load_webchatagent",
            "--test",
            "load_dosti",
            "--",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DGBOT_LOAD_STREAMS", n.to_string())
        .env(
            "DGBOT_SEED_CLIENTS",
            seed_clients_dir().join("node_modules"),
        )
        .env("DGBOT_PYTHONPATH", python_dir()))
}
