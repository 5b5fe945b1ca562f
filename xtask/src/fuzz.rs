//! `cargo xtask fuzz`: cargo-fuzz on the protocol crate's decoders.

use std::path::PathBuf;
use std::process::Command;

use crate::Result;
use crate::tools::*;

/// Each cargo-fuzz target of `protocol/fuzz/` for `seconds`, from its seeds: the SSE parser
/// and transcript reducer (`seed.sse`), and every other decoder of the protocol crate (livechat,
/// webhooks, the bridge, messages, forms, the URL allow-lists; `seeds/wire_types/`).
pub fn fuzz(seconds: &str) -> Result {
    let seconds: u32 = seconds
        .parse()
        .map_err(|_| format!("fuzz takes a number of seconds, not {seconds:?}"))?;
    if output_of(Command::new(cargo_bin().join("cargo-fuzz")).arg("--version")).is_none() {
        eprintln!("setup: installing cargo-fuzz");
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let dir = root().join("protocol/fuzz");
    let seeds = |target: &str| -> std::io::Result<Vec<PathBuf>> {
        if target == "sse_and_reducer" {
            return Ok(vec![dir.join("seed.sse")]);
        }
        std::fs::read_dir(dir.join("seeds").join(target))?
            .map(|e| e.map(|e| e.path()))
            .collect()
    };
    for target in ["sse_and_reducer", "wire_types"] {
        let corpus = dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
        for seed in seeds(target).map_err(|e| format!("{target} seeds: {e}"))? {
            let name = seed.file_name().ok_or("a seed file")?;
            std::fs::copy(&seed, corpus.join(name)).map_err(|e| e.to_string())?;
        }
        // cargo-fuzz passes nightly-only flags; RUSTC_BOOTSTRAP lets this stable toolchain take
        // them. No sanitizer (-s none): the stable toolchain ships no sanitizer runtimes.
        run(cmd("cargo")
            .current_dir(root().join("protocol"))
            .env("RUSTC_BOOTSTRAP", "1")
            .args([
                "fuzz",
                "run",
                target,
                "-s",
                "none",
                "--",
                &format!("-max_total_time={seconds}"),
            ]))?;
    }
    Ok(())
}
