//! Project automation: `cargo xtask <command>` (a cargo alias in .cargo/config.toml).
//!
//! ```text
//!   setup       install what is missing: wasm32 target, wasm-split-cli, wasm-bindgen-cli, wasm-opt,
//!               Chromium and ChromeDriver, the evaluation's Debian Reference pages (each skipped
//!               when present at the right version)
//!   build       build the iframe app (release: split into chunks, wasm-opt) and the server
//!   demo        build, then run the server on 127.0.0.1:$PORT (default 8080)
//!   test [subset]  build, then the tests of a subset: protocol, server, widget, e2e, or all (the
//!               default: native, wasm in headless Chromium, end-to-end, the console's Node
//!               tests); each installs and builds only what its tests need (test.rs)
//!   lint        cargo fmt --check, clippy (native, and the widget on wasm32) and rustdoc's
//!               links, warnings denied; names the steps that failed
//!   screenshot  build, then retake docs/screenshot.png of the open widget on the demo page
//!   sizes       print the gzipped sizes of the loader and of the built widget
//!   bench       build, then stream a 5,000-event reply into the widget in headless Chromium,
//!               and measure the loader on the host page
//!   bench-server [n]  n concurrent SSE conversations, /ws clients, … against the release server (1000)
//!   eval        the assistant's retrieval on eval/'s question sets (en, de, es), each site
//!               served on 127.0.0.1, crawled and indexed as a site owner's is; then a 1,000-page
//!               site's crawl, index, memory and latency (installs the pages if missing)
//!   fuzz [s]    cargo-fuzz, s seconds (60) a target: the SSE parser + transcript reducer, and
//!               the other wire decoders, bridge commands and URL allow-lists
//! ```
//!
//! Every command that builds skips the steps after cargo's (split, bind, wasm-opt, terser,
//! hashing, precompression) and the loader's minification while their inputs are unchanged and
//! their outputs in place (build.rs, `Stamp`).
//!
//! `--dry-run` (or `XTASK_DRY_RUN=1`) after any command prints the commands that would change
//! something (installs, builds, tests) instead of running them.
//!
//! Standard library only, so it compiles in seconds on a fresh machine.

mod bench;
mod build;
mod demo;
mod eval;
mod fuzz;
mod lint;
mod screenshot;
mod setup;
mod sizes;
mod test;
mod tools;
mod wasm_trim;

use std::env;
use std::process::ExitCode;
use std::time::Instant;

use crate::setup::Needs;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    tools::forget_cargo_run_env();
    let mut args: Vec<String> = env::args().skip(1).collect();
    if args.iter().any(|a| a == "--dry-run") {
        args.retain(|a| a != "--dry-run");
        tools::set_dry_run();
    }
    let started = Instant::now();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::setup(Needs::Everything).and_then(|()| setup::eval_corpus()),
        Some("build") => build::build(),
        Some("demo") => demo::demo(),
        Some("test") => test::test(args.get(1).map(String::as_str)),
        Some("lint") => lint::lint(),
        Some("screenshot") => screenshot::screenshot(),
        Some("sizes") => sizes::sizes(),
        Some("bench") => bench::bench(),
        Some("bench-server") => {
            bench::bench_server(args.get(1).map(String::as_str).unwrap_or("1000"))
        }
        Some("eval") => eval::eval(),
        Some("fuzz") => fuzz::fuzz(args.get(1).map(String::as_str).unwrap_or("60")),
        _ => {
            eprintln!(
                "usage: cargo xtask <setup|build|demo|test [protocol|server|widget|e2e|all]|lint|\
                 screenshot|sizes|bench|bench-server [streams]|eval|fuzz [seconds]> [--dry-run]"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            if args[0] != "test" {
                eprintln!("xtask: {} finished in {:.0?}", args[0], started.elapsed());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
