//! `cargo xtask eval`: the assistant's retrieval measured end to end (issue 26, eval/README.md).
//!
//! Installs Debian's `debian-reference-{en,de,es}` when their pages are missing, builds
//! dgbot-core's `eval` example in release mode, and runs it on each language's question set
//! (the pages served on 127.0.0.1, crawled by the sync's crawler, indexed into the knowledge
//! base the responders use), then on a synthetic 1,000-page site. Each run's own report is
//! printed as it comes; then the "don't know" rates over a grid of thresholds side by side, and
//! one table of the figures. `EVAL_MISSES=1` and `EVAL_DEBUG=<id>` reach the example.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use crate::Result;
use crate::setup::{DEBIAN_REFERENCE, EVAL_LANGS, eval_corpus};
use crate::tools::*;

/// Pages of the synthetic site of the scale run.
const SCALE_PAGES: usize = 1000;

pub fn eval() -> Result {
    eval_corpus()?;
    run(cmd("cargo").args([
        "build",
        "--release",
        "-p",
        "dgbot-core",
        "--example",
        "eval",
    ]))?;
    let example = root().join("target/release/examples/eval");
    let questions = |lang: &str| {
        root()
            .join(format!("eval/debian-reference/questions.{lang}.json"))
            .to_string_lossy()
            .into_owned()
    };
    let mut summaries = vec![];
    let mut grid: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    for lang in EVAL_LANGS {
        let out = report(
            cmd(&example)
                .args([DEBIAN_REFERENCE, &questions(lang), lang])
                .env("EVAL_SUMMARY", "1"),
        )?;
        for line in out.lines() {
            if let Some(fields) = line.strip_prefix("eval-summary ") {
                summaries.push(fields_of(fields));
            } else if let Some(fields) = line.strip_prefix("eval-grid ") {
                let f = fields_of(fields);
                let cell = format!("{}/{}", short(&f, "wrong_dk"), short(&f, "right_dk"));
                grid.entry((get(&f, "known"), get(&f, "coverage")))
                    .or_default()
                    .insert(get(&f, "lang"), cell);
            }
        }
    }
    let out = report(
        cmd(&example)
            .args([
                "--scale",
                &SCALE_PAGES.to_string(),
                DEBIAN_REFERENCE,
                &questions("en"),
            ])
            .env("EVAL_SUMMARY", "1"),
    )?;
    let scale: Vec<_> = out
        .lines()
        .filter_map(|l| l.strip_prefix("eval-summary "))
        .map(fields_of)
        .collect();
    if dry_run() {
        return Ok(());
    }

    println!();
    println!("\"don't know\" by thresholds: wrong (in scope) / right (out of scope)");
    print!("  {:>6}  {:>8}", "known", "coverage");
    for lang in EVAL_LANGS {
        print!("  {lang:>9}");
    }
    println!();
    for ((known, coverage), cells) in &grid {
        print!("  {known:>6}  {coverage:>8}");
        for lang in EVAL_LANGS {
            print!("  {:>9}", cells.get(lang).map_or("-", String::as_str));
        }
        println!();
    }
    println!();
    println!(
        "{:<5} {:>5} {:>8} {:>9} {:>8} {:>5} {:>5} {:>5} {:>8} {:>8} {:>8} {:>8}",
        "lang",
        "pages",
        "passages",
        "crawl",
        "index",
        "hit@1",
        "hit@3",
        "MRR",
        "wrong DK",
        "right DK",
        "p50",
        "p99"
    );
    for s in &summaries {
        println!(
            "{:<5} {:>5} {:>8} {:>9} {:>8} {:>5} {:>5} {:>5} {:>8} {:>8} {:>8} {:>8}",
            get(s, "lang"),
            get(s, "pages"),
            get(s, "passages"),
            ms(s, "crawl_ms"),
            ms(s, "build_ms"),
            short(s, "hit1"),
            short(s, "hit3"),
            short(s, "mrr"),
            short(s, "wrong_dk"),
            short(s, "right_dk"),
            us(s, "p50_us"),
            us(s, "p99_us"),
        );
    }
    println!(
        "{:<5} {:>5} {:>8} {:>9} {:>8} {:>5} {:>5} {:>5} {:>8} {:>8}",
        "goal", "", "", "", "", "", "≥0.90", "", "≤0.10", "≥0.90"
    );
    for s in &scale {
        println!(
            "{} pages: {} passages, crawled in {}, indexed in {}; peak memory {} → {} MB, \
             resident +{} MB; retrieval p50 {}, p99 {}",
            get(s, "pages"),
            get(s, "passages"),
            ms(s, "crawl_ms"),
            ms(s, "build_ms"),
            get(s, "peak_before_mb"),
            get(s, "peak_after_mb"),
            get(s, "rss_growth_mb"),
            us(s, "p50_us"),
            us(s, "p99_us"),
        );
    }
    Ok(())
}

/// Runs `c`, printing its output but for the `eval-summary`/`eval-grid` lines, and returns it
/// all. In a dry run, prints the command and returns nothing.
fn report(c: &mut Command) -> Result<String> {
    let shown = format!("{c:?}");
    if dry_run() {
        eprintln!("dry run: {shown}");
        return Ok(String::new());
    }
    let out = c
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for line in text.lines() {
        if !line.starts_with("eval-summary ") && !line.starts_with("eval-grid ") {
            println!("{line}");
        }
    }
    if !out.status.success() {
        return Err(format!("{shown} failed ({})", out.status));
    }
    Ok(text)
}

/// `key=value key=value` into a map.
fn fields_of(line: &str) -> BTreeMap<String, String> {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn get(fields: &BTreeMap<String, String>, key: &str) -> String {
    fields.get(key).cloned().unwrap_or_else(|| "-".into())
}

fn number(fields: &BTreeMap<String, String>, key: &str) -> Option<f64> {
    fields.get(key)?.parse().ok()
}

/// A rate with two decimals.
fn short(fields: &BTreeMap<String, String>, key: &str) -> String {
    number(fields, key).map_or("-".into(), |v| format!("{v:.2}"))
}

fn ms(fields: &BTreeMap<String, String>, key: &str) -> String {
    number(fields, key).map_or("-".into(), |v| {
        if v >= 1000.0 {
            format!("{:.2} s", v / 1000.0)
        } else {
            format!("{v:.0} ms")
        }
    })
}

fn us(fields: &BTreeMap<String, String>, key: &str) -> String {
    number(fields, key).map_or("-".into(), |v| format!("{:.2} ms", v / 1000.0))
}
