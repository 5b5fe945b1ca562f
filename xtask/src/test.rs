//! `cargo xtask test [protocol|server|widget|e2e|all]`: what the subset needs (tools, the
//! release build), then its tests, with one tally line printed last:
//! `N passed, M failed, K skipped`.
//!
//!   protocol  `cargo test -p dgbot-protocol`: no tools, no build
//!   server    `cargo test -p dgbot-server` (and `-p` every other member under server/, such
//!             as dgbot-core), and `node --test server/tests/console/` (the agent
//!             console's scripts); the release build of the widget (a test reads dist/), the
//!             seeds' clients, TypeScript, Python's websockets, PostgreSQL; no browser
//!   widget    the app's native unit tests (`cargo test -p dgbot --lib --bins`, `--doc`), and
//!             tests/wasm.rs in headless Chromium; no release build
//!   e2e       every tests/*.rs of the root crate but wasm.rs and bench.rs (`cargo xtask
//!             bench`'s), one `--test` each: the release build, Chromium, every tool
//!   all       (the default) `cargo test --workspace`, tests/wasm.rs in Chromium, and the Node
//!             tests: the union of the above, and bench.rs's ignored benchmarks

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::Result;
use crate::build::build_with;
use crate::setup::{Needs, setup};
use crate::tools::*;

#[derive(Default)]
pub struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
}

/// Run a cargo test command, echo its output, and add up its `test result:` lines.
pub fn cargo_test(c: &mut Command, tally: &mut Tally) -> Result {
    counted(c, tally, |line, tally| {
        if let Some(rest) = line.trim().strip_prefix("test result: ") {
            let num = |word: &str| {
                rest.split(';')
                    .find_map(|p| {
                        p.trim()
                            .strip_suffix(word)
                            .and_then(|n| n.trim().rsplit(' ').next()?.parse::<u64>().ok())
                    })
                    .unwrap_or(0)
            };
            tally.passed += num(" passed");
            tally.failed += num(" failed");
            tally.ignored += num(" ignored");
        }
    })
}

/// Run Node's test runner, echo its output, and add up its summary (`# pass 3` in TAP, which
/// it prints when its output is not a terminal; `ℹ pass 3` in its `spec` report).
fn node_test(c: &mut Command, tally: &mut Tally) -> Result {
    counted(c, tally, |line, tally| {
        let Some(rest) = line
            .strip_prefix("# ")
            .or_else(|| line.strip_prefix("\u{2139} "))
        else {
            return;
        };
        let Some((word, n)) = rest.split_once(' ') else {
            return;
        };
        let Ok(n) = n.trim().parse::<u64>() else {
            return;
        };
        match word {
            "pass" => tally.passed += n,
            "fail" | "cancelled" => tally.failed += n,
            "skipped" | "todo" => tally.ignored += n,
            _ => {}
        }
    })
}

/// Run a test command (or, in a dry run, only show it), echo its standard output line by line,
/// and let `count` add each line to the tally.
fn counted(c: &mut Command, tally: &mut Tally, count: impl Fn(&str, &mut Tally)) -> Result {
    let shown = format!("{c:?}");
    eprintln!("test: {shown}");
    if dry_run() {
        return Ok(());
    }
    let mut child = c
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        count(&line, tally);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}
/// A part of the test suite (the module's doc says which tests each one runs).
#[derive(Clone, Copy, PartialEq)]
enum Subset {
    Protocol,
    Server,
    Widget,
    E2e,
    All,
}

pub fn test(subset: Option<&str>) -> Result {
    let subset = match subset.unwrap_or("all") {
        "protocol" => Subset::Protocol,
        "server" => Subset::Server,
        "widget" => Subset::Widget,
        "e2e" => Subset::E2e,
        "all" => Subset::All,
        other => {
            return Err(format!(
                "test takes protocol, server, widget, e2e or all (the default), not {other:?}"
            ));
        }
    };
    let started = Instant::now();
    match subset {
        Subset::Protocol => {}
        Subset::Server => build_with(Needs::Server)?,
        Subset::Widget => setup(Needs::Widget)?,
        Subset::E2e | Subset::All => build_with(Needs::Everything)?,
    }
    let mut tally = Tally::default();
    let chromedriver = match subset {
        Subset::Protocol | Subset::Server => PathBuf::new(),
        _ => match which("chromedriver") {
            Some(path) => path,
            None if dry_run() => PathBuf::from("chromedriver"),
            None => return Err("chromedriver is not on PATH".to_owned()),
        },
    };
    let chromedriver = chromedriver.as_path();
    let results = match subset {
        Subset::Protocol => vec![cargo_test(
            &mut native(&["-p", "dgbot-protocol"], Tools::None),
            &mut tally,
        )],
        Subset::Server => {
            let mut args = Vec::new();
            for name in server_packages() {
                args.extend(["-p".to_owned(), name]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            vec![
                cargo_test(&mut native(&args, Tools::Npm), &mut tally),
                console(&mut tally),
            ]
        }
        Subset::Widget => vec![
            cargo_test(
                &mut native(&["-p", "dgbot", "--lib", "--bins"], Tools::None),
                &mut tally,
            ),
            cargo_test(
                &mut native(&["-p", "dgbot", "--doc"], Tools::None),
                &mut tally,
            ),
            wasm(chromedriver, &mut tally),
        ],
        Subset::E2e => {
            let mut args = vec!["-p".to_owned(), "dgbot".to_owned()];
            for name in end_to_end()? {
                args.extend(["--test".to_owned(), name]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            vec![cargo_test(
                &mut native(&args, Tools::Browser(chromedriver)),
                &mut tally,
            )]
        }
        // Native tests of every crate, including the end-to-end tests in tests/ (they start the
        // server on a free port, serving the release build, and drive headless Chromium).
        Subset::All => vec![
            cargo_test(
                &mut native(&["--workspace"], Tools::Browser(chromedriver)),
                &mut tally,
            ),
            wasm(chromedriver, &mut tally),
            console(&mut tally),
        ],
    };
    // The summary is the last line, so CI reads it (errors, if any, were printed above).
    let failed = results.into_iter().find_map(|r| r.err());
    if let Some(e) = &failed {
        eprintln!("xtask: {e}");
    }
    eprintln!("xtask: test finished in {:.0?}", started.elapsed());
    println!(
        "{} passed, {} failed, {} skipped",
        tally.passed, tally.failed, tally.ignored
    );
    match failed {
        Some(_) => Err("tests failed".to_owned()),
        None => Ok(()),
    }
}

/// What the tests of a `cargo test` command run besides themselves.
enum Tools<'a> {
    None,
    /// TypeScript, axe-core and the seeds' clients (npm, in target/tools/).
    Npm,
    /// Those, and ChromeDriver.
    Browser(&'a Path),
}

/// `cargo test <which> --no-fail-fast`, with the paths of the tools its tests run.
fn native(which: &[&str], tools: Tools) -> Command {
    let mut c = cmd("cargo");
    c.arg("test")
        .args(which)
        .args(["--no-fail-fast", "--color", "never"]);
    if let Tools::Browser(chromedriver) = tools {
        c.env("CHROMEDRIVER", chromedriver);
    }
    if !matches!(tools, Tools::None) {
        c.env("DGBOT_TYPESCRIPT", typescript_package())
            .env("DGBOT_AXE", axe_package().join("axe.min.js"))
            .env(
                "DGBOT_SEED_CLIENTS",
                seed_clients_dir().join("node_modules"),
            );
    }
    c
}

/// The app's components rendered in headless Chromium (wasm-bindgen-test).
fn wasm(chromedriver: &Path, tally: &mut Tally) -> Result {
    cargo_test(
        cmd("cargo")
            .args([
                "test",
                "-p",
                "dgbot",
                "--target",
                "wasm32-unknown-unknown",
                "--test",
                "wasm",
                "--color",
                "never",
            ])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                cargo_bin().join("wasm-bindgen-test-runner"),
            )
            .env("CHROMEDRIVER", chromedriver)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
        tally,
    )
}

/// The agent console's scripts, tested by Node's own runner, when there are any.
fn console(tally: &mut Tally) -> Result {
    let dir = "server/tests/console/";
    if !root().join(dir).is_dir() {
        eprintln!("test: no {dir}, no Node tests");
        return Ok(());
    }
    node_test(cmd("node").args(["--test", dir]), tally)
}

/// The workspace's packages under server/ (`dgbot-server`, and the crates it is made of, such
/// as server/core), from the root Cargo.toml's `members` and each member's `name`.
fn server_packages() -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap_or_default();
    let members = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or("", |(members, _)| members);
    let mut names = Vec::new();
    for member in members.split(',').map(|m| m.trim().trim_matches('"')) {
        if member != "server" && !member.starts_with("server/") {
            continue;
        }
        let manifest =
            std::fs::read_to_string(root().join(member).join("Cargo.toml")).unwrap_or_default();
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .map(|n| n.trim_end_matches('"').to_owned());
        names.extend(name);
    }
    if names.is_empty() {
        names.push("dgbot-server".to_owned());
    }
    names
}

/// The root crate's end-to-end tests: every tests/*.rs but wasm.rs (the wasm-bindgen tests) and
/// bench.rs (benchmarks, all `#[ignore]`d: `cargo xtask bench` runs them).
fn end_to_end() -> Result<Vec<String>> {
    let dir = root().join("tests");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        if path.extension().is_some_and(|e| e == "rs") && name != "wasm" && name != "bench" {
            names.push(name.into_owned());
        }
    }
    names.sort();
    Ok(names)
}
