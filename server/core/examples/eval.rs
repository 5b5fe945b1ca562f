//! Retrieval evaluation (issue 26), end to end: a folder of HTML pages is served on 127.0.0.1,
//! crawled by [`fetch::website`] as a site owner's site is, built into the
//! [`KnowledgeBase`] both responders use, and asked a question set. Prints the crawl (pages,
//! passages, times), hit@1, hit@3 and MRR of the cited section, the "don't know" rates of
//! [`KnowledgeBase::retrieve`] (what the assistant does), retrieval latency, and how the "don't
//! know" rates move with the relevance thresholds.
//!
//! ```text
//! cargo run --release -p dgbot-core --example eval -- <pages folder> <questions.json> [lang]
//! cargo run --release -p dgbot-core --example eval -- --scale <pages> <pages folder> <questions.json>
//! ```
//!
//! `cargo xtask eval` runs both on `eval/`'s sets. The crawl starts at `index.<lang>.html` of the
//! folder; a question's `expect` names `page` (a file name) and `section` (the anchor);
//! out-of-scope questions expect nothing.
//!
//! `--scale N`: a synthetic site of N pages (the folder's English sections, three to a page, under
//! an `h1` and two `h2`s, each page linking to a few others, and a sitemap listing all) crawled
//! with `max_pages` N: crawl and index times, memory (peak and resident, from /proc/self/status)
//! and retrieval latency over the question set, asked twice.
//!
//! Environment: `EVAL_MISSES=1` lists the misses (section not ranked, wrong and right "don't
//! know"), `EVAL_DEBUG=<id>` prints the ranking of one question, `EVAL_SCORES=1` the best hit's
//! coverage and known coverage of each question, and whether it is the right section (`right`,
//! `wrong`, or `outside` for an out-of-scope question), `EVAL_SUMMARY=1` adds
//! `eval-summary` and `eval-grid` lines for `cargo xtask eval`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use dgbot_core::knowledge::base::{Found, KnowledgeBase, RELEVANT_COVERAGE, RELEVANT_KNOWN};
use dgbot_core::knowledge::extract;
use dgbot_core::knowledge::fetch::{self, FetchPolicy};
use dgbot_core::model::knowledge::{DocumentRecord, DocumentState};
use serde_json::Value;

/// The thresholds tried for "don't know" (the rule of `base::relevant`, on the best hit).
const GRID_KNOWN: [f32; 5] = [0.3, 0.4, 0.5, 0.6, 0.7];
const GRID_COVERAGE: [f32; 6] = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4];

/// What the loopback site serves: the files of a folder, or pages held in memory.
struct Site {
    folder: Option<PathBuf>,
    pages: HashMap<String, Vec<u8>>,
}

async fn serve(State(site): State<Arc<Site>>, uri: Uri) -> Response {
    let path = uri.path();
    let body = match (&site.folder, site.pages.get(path)) {
        (_, Some(body)) => Some(body.clone()),
        (Some(folder), None) => {
            let name = path.trim_start_matches('/');
            let plain = !name.is_empty() && !name.split('/').any(|p| p == ".." || p.is_empty());
            plain
                .then(|| std::fs::read(folder.join(name)).ok())
                .flatten()
        }
        (None, None) => None,
    };
    let Some(body) = body else {
        return (StatusCode::NOT_FOUND, "not here").into_response();
    };
    let kind = match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html",
        "css" => "text/css",
        "xml" => "application/xml",
        "png" => "image/png",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// Serves `site` on 127.0.0.1; returns its origin (`http://127.0.0.1:port`).
async fn start(site: Site) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port on 127.0.0.1");
    let port = listener.local_addr().expect("an address").port();
    let app = Router::new().fallback(serve).with_state(Arc::new(site));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the site") });
    format!("http://127.0.0.1:{port}")
}

/// Crawls `url` as the sync worker does (but on loopback and without a pause); the documents
/// and the time it took.
async fn crawl(url: &str, max_pages: u32) -> (Vec<DocumentRecord>, Duration) {
    let policy = FetchPolicy {
        allow_private: true,
        delay: Duration::ZERO,
        ..FetchPolicy::default()
    };
    let http = fetch::client(&policy).expect("the HTTP client");
    let started = Instant::now();
    let docs = fetch::website(&http, url, Some(max_pages), &[], &[], &[], &policy)
        .await
        .unwrap_or_else(|e| panic!("the crawl of {url}: {e}"));
    (docs, started.elapsed())
}

/// The knowledge of the crawled documents, and the time the build took.
fn build(docs: Vec<DocumentRecord>) -> (KnowledgeBase, Duration) {
    let started = Instant::now();
    let kb = KnowledgeBase::build(1, docs.into_iter().map(|d| ("site".into(), d)).collect());
    (kb, started.elapsed())
}

/// A field of /proc/self/status in kB (`VmHWM`, `VmRSS`).
fn vm(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The `p` quantile of sorted durations.
fn quantile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn questions(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn summary_wanted() -> bool {
    std::env::var_os("EVAL_SUMMARY").is_some_and(|v| !v.is_empty() && v != "0")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--scale") {
        let (Some(n), Some(folder), Some(questions)) = (
            args.get(1).and_then(|n| n.parse().ok()),
            args.get(2),
            args.get(3),
        ) else {
            usage();
        };
        return scale(n, folder, questions).await;
    }
    let (Some(folder), Some(questions)) = (args.first(), args.get(1)) else {
        usage();
    };
    let lang = args.get(2).map(String::as_str).unwrap_or("en");
    evaluate(folder, questions, lang).await;
}

fn usage() -> ! {
    eprintln!(
        "usage: eval <pages folder> <questions.json> [lang]\n       \
         eval --scale <pages> <pages folder> <questions.json>"
    );
    std::process::exit(2);
}

/// What one question gave.
struct Outcome {
    inside: bool,
    /// The best hit's coverage and known coverage (none: nothing ranked).
    best: Option<(f32, f32)>,
}

/// "Don't know" under thresholds `known` and `coverage`: no hit, or the best one not relevant
/// (the rule of `base::relevant`, which `retrieve` applies to the best hit).
fn dont_know(best: Option<(f32, f32)>, known: f32, coverage: f32) -> bool {
    !best.is_some_and(|(c, k)| k >= known && c >= coverage)
}

/// The page file name and anchor a passage is cited with.
fn cited(f: &Found<'_>) -> (String, Option<String>) {
    let url = f.entry.url.split(['?', '#']).next().unwrap_or("");
    let page = url.rsplit('/').next().unwrap_or("").to_owned();
    (page, f.entry.passage.anchor.clone())
}

async fn evaluate(folder: &str, questions_path: &str, lang: &str) {
    let origin = start(Site {
        folder: Some(PathBuf::from(folder)),
        pages: HashMap::new(),
    })
    .await;
    let (docs, crawl_time) = crawl(&format!("{origin}/index.{lang}.html"), 1000).await;
    let read = docs.iter().filter(|d| d.state == DocumentState::Ok).count();
    for d in docs.iter().filter(|d| d.state != DocumentState::Ok) {
        println!(
            "eval {lang}: not read: {} ({:?}: {})",
            d.url.strip_prefix(&origin).unwrap_or(&d.url),
            d.state,
            d.error.as_deref().unwrap_or("")
        );
    }
    let suffix = format!(".{lang}.html");
    let mut missing: Vec<String> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(&suffix))
        .filter(|n| {
            !docs
                .iter()
                .any(|d| d.state == DocumentState::Ok && d.url.ends_with(&format!("/{n}")))
        })
        .collect();
    missing.sort();
    if !missing.is_empty() {
        println!("eval {lang}: pages of the folder the crawl missed: {missing:?}");
    }
    // The passages as they are stored: sizes and languages.
    let mut sizes: Vec<usize> = docs
        .iter()
        .flat_map(|d| &d.passages)
        .map(|p| p.text.chars().count())
        .collect();
    sizes.sort_unstable();
    let mut langs: HashMap<String, usize> = HashMap::new();
    for p in docs.iter().flat_map(|d| &d.passages) {
        *langs.entry(p.lang.clone()).or_default() += 1;
    }
    let mut langs: Vec<_> = langs.into_iter().collect();
    langs.sort_by_key(|l| std::cmp::Reverse(l.1));
    let chars: usize = sizes.iter().sum();
    let (kb, build_time) = build(docs);
    let passages = kb.entries().len();
    println!(
        "eval {lang}: crawled {read} pages into {passages} passages in {crawl_time:.2?}, \
         indexed in {build_time:.2?}"
    );
    println!(
        "eval {lang}: passages: {chars} characters, median {}, largest {}, {} under 200, \
         {} of 1,700 or more; languages {langs:?}",
        sizes.get(sizes.len() / 2).copied().unwrap_or(0),
        sizes.last().copied().unwrap_or(0),
        sizes.iter().filter(|&&s| s < 200).count(),
        sizes.iter().filter(|&&s| s >= 1_700).count(),
    );

    let set = questions(questions_path);
    let debug = std::env::var("EVAL_DEBUG").ok();
    let scores = std::env::var_os("EVAL_SCORES").is_some();
    let (mut inside, mut hit1, mut hit3, mut rr, mut wrong_dk, mut answered) = (0, 0, 0, 0.0, 0, 0);
    let (mut outside, mut right_dk) = (0, 0);
    let mut times = vec![];
    let mut outcomes = vec![];
    let mut misses = vec![];
    for q in &set {
        let id = q["id"].as_str().unwrap_or("");
        let text = q["question"].as_str().expect("a question");
        let expect: Vec<(String, String)> = q["expect"]
            .as_array()
            .expect("expect")
            .iter()
            .map(|e| {
                (
                    e["page"].as_str().unwrap_or("").to_owned(),
                    e["section"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        let expected = |(page, anchor): &(String, Option<String>)| {
            expect
                .iter()
                .any(|(p, s)| p == page && anchor.as_deref() == Some(s.as_str()))
        };
        let ranked = kb.ranked(text);
        let t = Instant::now();
        let found = kb.retrieve(text, 3);
        times.push(t.elapsed());
        let dk = found.is_empty();
        let best = ranked.first().map(|f| (f.coverage, f.known_coverage));
        if debug.as_deref() == Some(id) {
            println!("  {id}: {text}");
            for f in &ranked {
                println!(
                    "  score {:.2} coverage {:.2} known {:.2} {:?} {} [{}] {}",
                    f.score,
                    f.coverage,
                    f.known_coverage,
                    cited(f),
                    f.entry.passage.heading,
                    f.entry.passage.lang,
                    f.entry.passage.text.chars().count()
                );
            }
            println!(
                "  retrieve: {:?}",
                found.iter().map(cited).collect::<Vec<_>>()
            );
        }
        let top = ranked
            .first()
            .map(|f| {
                format!(
                    "{:?} coverage {:.2} known {:.2}",
                    cited(f),
                    f.coverage,
                    f.known_coverage
                )
            })
            .unwrap_or_else(|| "nothing".into());
        outcomes.push(Outcome {
            inside: !expect.is_empty(),
            best,
        });
        if scores {
            let first = ranked.first().map(cited);
            let verdict = match (&first, expect.is_empty()) {
                (_, true) => "outside",
                (Some(c), false) if expected(c) => "right",
                _ => "wrong",
            };
            let (c, k) = best.unwrap_or((0.0, 0.0));
            println!("eval-score {id} {verdict} coverage {c:.3} known {k:.3}");
        }
        if expect.is_empty() {
            outside += 1;
            if dk {
                right_dk += 1;
            } else {
                misses.push(format!("answered (out of scope) {id}: {text} → {top}"));
            }
            continue;
        }
        inside += 1;
        if dk {
            wrong_dk += 1;
        }
        if found.iter().any(|f| expected(&cited(f))) {
            answered += 1;
        }
        // The cited sections in rank order (a section cut into several passages counts once,
        // at its best rank).
        let mut sections: Vec<(String, Option<String>)> = vec![];
        for f in &ranked {
            let c = cited(f);
            if !sections.contains(&c) {
                sections.push(c);
            }
        }
        let rank = sections.iter().position(expected);
        match rank {
            Some(r) => {
                hit1 += usize::from(r == 0);
                hit3 += usize::from(r < 3);
                rr += 1.0 / (r + 1) as f64;
                if r >= 3 {
                    misses.push(format!("rank {} {id}: {text} → {top}", r + 1));
                }
            }
            None => misses.push(format!("not ranked {id}: {text} → {top}")),
        }
        if dk {
            let at = rank.map_or("not ranked".into(), |r| format!("at rank {}", r + 1));
            misses.push(format!("don't know (section {at}) {id}: {text} → {top}"));
        }
    }
    times.sort();
    let f = |a: usize, b: usize| a as f64 / b.max(1) as f64;
    let (p50, p99) = (quantile(&times, 0.5), quantile(&times, 0.99));
    println!(
        "eval {lang}: hit@1 {:.2}  hit@3 {:.2}  MRR {:.2}  answered citing the section {:.2}  \
         ({inside} questions inside the content)",
        f(hit1, inside),
        f(hit3, inside),
        rr / inside.max(1) as f64,
        f(answered, inside)
    );
    println!(
        "eval {lang}: wrong \"don't know\" {:.2} ({wrong_dk} of {inside} inside), right \"don't \
         know\" {:.2} ({right_dk} of {outside} outside); known {RELEVANT_KNOWN}, coverage \
         {RELEVANT_COVERAGE}",
        f(wrong_dk, inside),
        f(right_dk, outside)
    );
    println!("eval {lang}: retrieval p50 {p50:.2?}, p99 {p99:.2?}");
    println!("eval {lang}: thresholds (wrong / right \"don't know\"), known down, coverage across");
    let mut head = "  known \\ coverage".to_owned();
    for c in GRID_COVERAGE {
        head.push_str(&format!("  {c:>9.2}"));
    }
    println!("{head}");
    let summary = summary_wanted();
    for k in GRID_KNOWN {
        let mut row = format!("  {k:>17.2}");
        for c in GRID_COVERAGE {
            let wrong = outcomes
                .iter()
                .filter(|o| o.inside && dont_know(o.best, k, c))
                .count();
            let right = outcomes
                .iter()
                .filter(|o| !o.inside && dont_know(o.best, k, c))
                .count();
            row.push_str(&format!(
                "  {:.2}/{:.2}",
                f(wrong, inside),
                f(right, outside)
            ));
            if summary {
                println!(
                    "eval-grid lang={lang} known={k:.2} coverage={c:.2} wrong_dk={:.3} right_dk={:.3}",
                    f(wrong, inside),
                    f(right, outside)
                );
            }
        }
        println!("{row}");
    }
    // The grid varies the two thresholds of `retrieve`'s rule on the best hit; it leaves out
    // the rule's third clause (a lower coverage where the headings name the topic), so at the
    // thresholds in use it may differ from the line above by the questions that clause answers.
    if summary {
        println!(
            "eval-summary lang={lang} pages={read} passages={passages} crawl_ms={} build_ms={} \
             hit1={:.3} hit3={:.3} mrr={:.3} answered={:.3} wrong_dk={:.3} right_dk={:.3} \
             p50_us={} p99_us={}",
            crawl_time.as_millis(),
            build_time.as_millis(),
            f(hit1, inside),
            f(hit3, inside),
            rr / inside.max(1) as f64,
            f(answered, inside),
            f(wrong_dk, inside),
            f(right_dk, outside),
            p50.as_micros(),
            p99.as_micros()
        );
    }
    if std::env::var_os("EVAL_MISSES").is_some() {
        for m in misses {
            println!("  miss {m}");
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A section's text as HTML: its lines (paragraphs, `- ` list items) as paragraphs.
fn paragraphs(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("<p>{}</p>\n", escape(l)))
        .collect()
}

/// The synthetic site: `n` pages under `/site/`, three sections of the folder's English pages
/// each (cycling), linked to a few others, and `/sitemap.xml` listing them all.
fn synthetic_site(n: usize, folder: &str, origin_hint: &str) -> HashMap<String, Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.to_string_lossy().ends_with(".en.html"))
        .collect();
    files.sort();
    let mut sections = vec![];
    for path in files {
        let page = extract::html(&std::fs::read_to_string(&path).unwrap_or_default());
        for s in page.sections {
            let heading = s
                .headings
                .last()
                .cloned()
                .unwrap_or_else(|| page.title.clone());
            if s.text.trim().len() >= 80 {
                sections.push((heading, s.text));
            }
        }
    }
    assert!(!sections.is_empty(), "no English sections in {folder}");
    let name = |i: usize| format!("/site/page-{i:04}.html");
    let mut site = HashMap::new();
    let mut sitemap = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for i in 0..n {
        let s = |j: usize| &sections[(3 * i + j) % sections.len()];
        let ((h1, t1), (h2a, t2a), (h2b, t2b)) = (s(0), s(1), s(2));
        let links: String = [1, 7, 31 * i + 17, 101]
            .iter()
            .map(|d| (i + d) % n)
            .map(|j| format!("<li><a href=\"{}\">Page {j}</a></li>", name(j)))
            .collect();
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{title} ({i})</title></head>\n<body>\
             <nav><ul><li><a href=\"{home}\">Home</a></li>{links}</ul></nav>\n<main>\
             <h1>{title}</h1>\n{p1}<h2 id=\"s{i}-a\">{h2a}</h2>\n{p2}<h2 id=\"s{i}-b\">{h2b}</h2>\n{p3}\
             <p>See also: <a href=\"{next}\">the next page</a>.</p></main>\n\
             <footer>Synthetic page {i} of {n}</footer></body></html>\n",
            title = escape(h1),
            home = name(0),
            h2a = escape(h2a),
            h2b = escape(h2b),
            p1 = paragraphs(t1),
            p2 = paragraphs(t2a),
            p3 = paragraphs(t2b),
            next = name((i + 1) % n),
        );
        site.insert(name(i), html.into_bytes());
        sitemap.push_str(&format!("<url><loc>{origin_hint}{}</loc></url>\n", name(i)));
    }
    sitemap.push_str("</urlset>\n");
    site.insert("/sitemap.xml".into(), sitemap.into_bytes());
    site
}

async fn scale(n: usize, folder: &str, questions_path: &str) {
    // The port first: the sitemap names the pages by absolute URL.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
    let port = listener.local_addr().expect("an address").port();
    let origin = format!("http://127.0.0.1:{port}");
    let site = synthetic_site(n, folder, &origin);
    let bytes: usize = site.values().map(Vec::len).sum();
    listener
        .set_nonblocking(true)
        .expect("a non-blocking socket");
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    let app = Router::new().fallback(serve).with_state(Arc::new(Site {
        folder: None,
        pages: site,
    }));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the site") });

    let (peak_before, rss_before) = (vm("VmHWM"), vm("VmRSS"));
    let (docs, crawl_time) = crawl(&format!("{origin}/site/page-0000.html"), n as u32).await;
    let read = docs.iter().filter(|d| d.state == DocumentState::Ok).count();
    let not_read = docs.len() - read;
    let rss_crawled = vm("VmRSS");
    let (kb, build_time) = build(docs);
    let (peak_after, rss_after) = (vm("VmHWM"), vm("VmRSS"));
    let passages = kb.entries().len();

    let set = questions(questions_path);
    let mut times = vec![];
    let mut answered = 0;
    for _ in 0..2 {
        for q in &set {
            let text = q["question"].as_str().expect("a question");
            let t = Instant::now();
            let found = kb.retrieve(text, 3);
            times.push(t.elapsed());
            answered += usize::from(!found.is_empty());
        }
    }
    times.sort();
    let (p50, p99) = (quantile(&times, 0.5), quantile(&times, 0.99));
    println!(
        "scale {n}: served {n} pages ({:.1} MB of HTML); crawled {read} pages ({not_read} not \
         read) into {passages} passages in {crawl_time:.2?}, indexed in {build_time:.2?}",
        bytes as f64 / 1e6
    );
    println!(
        "scale {n}: peak memory (VmHWM) {:.0} MB before, {:.0} MB after; resident (VmRSS) \
         {:.0} MB before, {:.0} MB after the crawl, {:.0} MB with the index: +{:.0} MB",
        mb(peak_before),
        mb(peak_after),
        mb(rss_before),
        mb(rss_crawled),
        mb(rss_after),
        mb(rss_after.saturating_sub(rss_before))
    );
    println!(
        "scale {n}: retrieval p50 {p50:.2?}, p99 {p99:.2?} over {} questions ({answered} answered)",
        times.len()
    );
    if summary_wanted() {
        println!(
            "eval-summary lang=scale-{n} pages={read} passages={passages} crawl_ms={} \
             build_ms={} peak_before_mb={:.0} peak_after_mb={:.0} rss_growth_mb={:.0} \
             p50_us={} p99_us={}",
            crawl_time.as_millis(),
            build_time.as_millis(),
            mb(peak_before),
            mb(peak_after),
            mb(rss_after.saturating_sub(rss_before)),
            p50.as_micros(),
            p99.as_micros()
        );
    }
}
