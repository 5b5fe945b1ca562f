//! Retrieval evaluation (issue 26): a question set against a corpus of HTML pages, through the
//! same extraction and retrieval the assistant uses. Prints hit@1, hit@3 and MRR of the cited
//! section, and the "don't know" rates at the confidence threshold.
//!
//!   cargo run --release -p dgbot-core --example eval -- <pages folder> <questions.json> [lang]
//!
//! (`cargo xtask eval` runs it on `eval/`'s sets.) Pages are the `*.<lang>.html` files of the
//! folder; a question's `expect` names `page` and `section` (the anchor); out-of-scope
//! questions expect nothing.

use std::time::Instant;

use dgbot_core::knowledge::extract;
use dgbot_core::knowledge::index::{Doc, PassageIndex, passage_lang};
use dgbot_core::knowledge::lang::Lang;
use serde_json::Value;

fn index_heading(headings: &[String], i: usize) -> &str {
    &headings[i]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(folder), Some(questions)) = (args.first(), args.get(1)) else {
        eprintln!("usage: eval <pages folder> <questions.json> [lang] [threshold]");
        std::process::exit(2);
    };
    let lang = args.get(2).map(String::as_str).unwrap_or("en");
    let threshold: f32 = args.get(3).and_then(|t| t.parse().ok()).unwrap_or(0.5);
    let suffix = format!(".{lang}.html");
    let started = Instant::now();
    let mut meta = vec![];
    let mut docs = vec![];
    let mut pages: Vec<_> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(&suffix))
        .collect();
    pages.sort();
    for path in &pages {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let page = extract::html(&std::fs::read_to_string(path).unwrap());
        for s in page.sections {
            let heading = s.heading_line(&page.title);
            let l = passage_lang(page.lang.as_deref(), &s.text, Lang::En);
            meta.push((name.clone(), s.anchor.clone()));
            docs.push(Doc {
                heading,
                text: s.text,
                lang: l,
            });
        }
    }
    let n = docs.len();
    let headings: Vec<String> = docs.iter().map(|d| d.heading.clone()).collect();
    let index = PassageIndex::build(docs).expect("the index");
    let built = started.elapsed();
    let set: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(questions).unwrap()).unwrap();
    let (mut inside, mut hit1, mut hit3, mut rr, mut wrong_dk) = (0, 0, 0, 0.0, 0);
    let (mut outside, mut right_dk) = (0, 0);
    let mut times = vec![];
    let mut misses = vec![];
    for q in &set {
        let text = q["question"].as_str().unwrap();
        let t = Instant::now();
        let hits = index.search(text);
        times.push(t.elapsed());
        let confident = hits.first().is_some_and(|h| h.coverage >= threshold);
        if std::env::var("EVAL_DEBUG").ok().as_deref() == q["id"].as_str() {
            for h in &hits {
                println!(
                    "  {:.2} {:.2} {:?} {}",
                    h.score,
                    h.coverage,
                    meta[h.passage],
                    index_heading(&headings, h.passage)
                );
            }
        }
        let expect: Vec<(String, String)> = q["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["page"].as_str().unwrap().to_owned(),
                    e["section"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        if expect.is_empty() {
            outside += 1;
            if !confident {
                right_dk += 1;
            }
            continue;
        }
        inside += 1;
        if !confident {
            wrong_dk += 1;
        }
        // The cited section: a passage's page and anchor (sections cut into several passages
        // count once, at their best rank).
        let mut ranked: Vec<(String, Option<String>)> = vec![];
        for h in &hits {
            let m = meta[h.passage].clone();
            if !ranked.contains(&m) {
                ranked.push(m);
            }
        }
        let rank = ranked.iter().position(|(page, anchor)| {
            expect
                .iter()
                .any(|(p, s)| p == page && anchor.as_deref() == Some(s.as_str()))
        });
        match rank {
            Some(0) => {
                hit1 += 1;
                hit3 += 1;
                rr += 1.0;
            }
            Some(r) => {
                if r < 3 {
                    hit3 += 1;
                }
                rr += 1.0 / (r + 1) as f64;
            }
            None => misses.push(format!(
                "{}: {text} → {:?}",
                q["id"].as_str().unwrap_or(""),
                ranked.first()
            )),
        }
    }
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    let f = |a: usize, b: usize| a as f64 / b.max(1) as f64;
    println!(
        "eval {lang}: {n} passages from {} pages indexed in {built:.1?}",
        pages.len()
    );
    println!(
        "eval {lang}: hit@1 {:.2}  hit@3 {:.2}  MRR {:.2}  ({inside} questions inside the content)",
        f(hit1, inside),
        f(hit3, inside),
        rr / inside.max(1) as f64
    );
    println!(
        "eval {lang}: wrong \"don't know\" {:.2} (inside), right \"don't know\" {:.2} ({outside} outside), threshold {threshold}",
        f(wrong_dk, inside),
        f(right_dk, outside)
    );
    println!(
        "eval {lang}: retrieval p50 {:.1?}, p99 {:.1?}",
        pct(0.5),
        pct(0.99)
    );
    if std::env::var_os("EVAL_MISSES").is_some() {
        for m in misses {
            println!("  miss {m}");
        }
    }
}
