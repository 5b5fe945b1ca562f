//! `cargo xtask lint`: formatting, clippy (the native targets, and the widget on wasm32) and
//! rustdoc's links, every warning denied. Every step runs; the failed ones are named last,
//! with the number of problems each found.

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::process::{Command, Stdio};

use crate::Result;
use crate::setup::wasm_target;
use crate::tools::*;

/// rustdoc's lints for links that lead nowhere (or to items the docs leave out).
const RUSTDOCFLAGS: &str = "-D rustdoc::broken_intra_doc_links -D rustdoc::private_intra_doc_links";

pub fn lint() -> Result {
    components()?;
    wasm_target()?;
    // Colours when a person watches (the output goes through xtask, which counts the problems).
    let color = if std::io::stderr().is_terminal() {
        "always"
    } else {
        "never"
    };
    let steps: [(&str, Command); 5] = [
        ("fmt", {
            let mut c = cmd("cargo");
            c.args(["fmt", "--all", "--check"]);
            c
        }),
        ("clippy", {
            let mut c = cmd("cargo");
            c.args(["clippy", "--workspace", "--all-targets", "--color", color])
                .args(["--", "-D", "warnings"]);
            c
        }),
        // The widget's code for the browser (`cfg(target_arch = "wasm32")`) and tests/wasm.rs.
        ("clippy (wasm)", {
            let mut c = cmd("cargo");
            c.args([
                "clippy",
                "-p",
                "dgbot",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .args(["--lib", "--bins", "--test", "wasm", "--color", color])
            .args(["--", "-D", "warnings"]);
            c
        }),
        ("rustdoc", {
            let mut c = cmd("cargo");
            c.args([
                "doc",
                "--workspace",
                "--no-deps",
                "--document-private-items",
            ])
            .args(["--color", color])
            .env("RUSTDOCFLAGS", RUSTDOCFLAGS);
            c
        }),
        ("rustdoc (wasm)", {
            let mut c = cmd("cargo");
            c.args(["doc", "-p", "dgbot", "--target", "wasm32-unknown-unknown"])
                .args(["--no-deps", "--document-private-items", "--color", color])
                .env("RUSTDOCFLAGS", RUSTDOCFLAGS);
            c
        }),
    ];
    let mut summary = Vec::new();
    let mut failed = Vec::new();
    for (name, mut c) in steps {
        let (ok, found) = step(&mut c)?;
        summary.push(format!(
            "lint: {name}: {}{found}",
            if ok { "ok" } else { "FAILED" }
        ));
        if !ok {
            failed.push(name);
        }
    }
    for line in summary {
        eprintln!("{line}");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("lint failed: {}", failed.join(", ")))
    }
}

/// rustfmt and clippy, from rustup, when missing.
fn components() -> Result {
    for (tool, component) in [("fmt", "rustfmt"), ("clippy", "clippy")] {
        if output_of(Command::new("cargo").args([tool, "--version"])).is_none() {
            eprintln!("setup: adding the {component} component");
            run(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    Ok(())
}

/// What a step's output reported.
#[derive(Default)]
struct Found {
    errors: u64,
    warnings: u64,
    /// `cargo fmt --check`'s hunks, and the files they are in.
    diffs: u64,
    files: Vec<String>,
}

impl Found {
    fn add(&mut self, line: &str) {
        let line = without_escapes(line);
        if let Some(at) = line.strip_prefix("Diff in ") {
            self.diffs += 1;
            let file = at.split(':').next().unwrap_or(at).to_owned();
            if !self.files.contains(&file) {
                self.files.push(file);
            }
            return;
        }
        // Not the totals cargo and rustc print after the diagnostics.
        let total = line.contains("previous error")
            || line.contains("could not compile")
            || line.contains("could not document")
            || line.contains("build failed")
            || (line.starts_with("warning: `") && line.contains(" generated "));
        if total {
            return;
        }
        if line.starts_with("error:") || line.starts_with("error[") {
            self.errors += 1;
        } else if line.starts_with("warning:") || line.starts_with("warning[") {
            self.warnings += 1;
        }
    }

    fn merge(&mut self, other: Found) {
        self.errors += other.errors;
        self.warnings += other.warnings;
        self.diffs += other.diffs;
        self.files.extend(other.files);
    }
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.diffs > 0 {
            parts.push(format!(
                "{} unformatted hunks in {} files",
                self.diffs,
                self.files.len()
            ));
        }
        if self.errors > 0 {
            parts.push(format!("{} errors", self.errors));
        }
        if self.warnings > 0 {
            parts.push(format!("{} warnings", self.warnings));
        }
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// `line` without its colour codes.
fn without_escapes(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ parameters… final letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Run one step, echoing its output, and count what it reports (in a dry run, only show it).
fn step(c: &mut Command) -> Result<(bool, Found)> {
    let shown = format!("{c:?}");
    eprintln!("lint: {shown}");
    if dry_run() {
        return Ok((true, Found::default()));
    }
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let found = std::thread::scope(|s| {
        let out = s.spawn(|| echo(stdout.expect("piped"), false));
        let mut found = echo(stderr.expect("piped"), true);
        found.merge(out.join().expect("the stdout reader"));
        found
    });
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok((status.success(), found))
}

fn echo(from: impl Read, to_stderr: bool) -> Found {
    let mut found = Found::default();
    for line in BufReader::new(from).lines().map_while(std::io::Result::ok) {
        if to_stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
        found.add(&line);
    }
    found
}
