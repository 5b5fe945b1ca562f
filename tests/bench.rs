//! The stream benchmark (DESIGN.md budget): a 5,000-event reply, one event every 2 ms, into the
//! real widget in headless Chromium. Reports the longest main-thread task, the main-thread time
//! of the whole stream, and the cost of the last 1,000 events against the first 1,000.
//! A measurement, not a test of timing: `cargo xtask bench` runs it and prints the figures.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use dgbot_server::core::store::ConversationStore as _;
use std::time::{Duration, Instant};

use dgbot_protocol::message::{Block, Part, RichText, Span};
use dgbot_protocol::stream::DoneEvent;
use dgbot_protocol::{Delta, Message, Role, StreamEvent};
use dgbot_server::{ScriptedEvent, ScriptedReply};
use serde_json::json;
use support::Harness;

/// Events in the streamed reply: 5,000, or `DGBOT_BENCH_EVENTS` (2,000: a language model's
/// 2,000-token answer, one delta a token).
fn events_wanted() -> usize {
    std::env::var("DGBOT_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n >= 10)
        .unwrap_or(5000)
}
const WORD: &str = " word";

/// 5,000 events (see [`events_wanted`]): start, paragraphs of 100 words each (block + span + 99
/// text ops), done.
fn long_reply() -> (Vec<ScriptedEvent>, usize) {
    let sse = |ev: StreamEvent| ScriptedEvent::Sse(ev.name().to_owned(), ev.data());
    let mut events = vec![sse(StreamEvent::delta(
        "p",
        Delta::Start {
            part: Part::RichText(RichText {
                part_id: "p".into(),
                blocks: vec![],
            }),
        },
    ))];
    let mut blocks = vec![];
    while events.len() < events_wanted() - 1 {
        if blocks.len() * 100 < events.len() {
            events.push(sse(StreamEvent::delta(
                "p",
                Delta::Block {
                    block: Block::paragraph(vec![]),
                },
            )));
            events.push(sse(StreamEvent::delta(
                "p",
                Delta::Span {
                    span: Span::text("Start"),
                },
            )));
            blocks.push("Start".to_owned());
        } else {
            events.push(sse(StreamEvent::delta(
                "p",
                Delta::Text { text: WORD.into() },
            )));
            blocks.last_mut().unwrap().push_str(WORD);
        }
    }
    let text_len: usize = blocks.iter().map(String::len).sum();
    let message = Message {
        message_id: "bench".into(),
        role: Role::Assistant,
        parts: vec![Part::RichText(RichText {
            part_id: "p".into(),
            blocks: blocks
                .into_iter()
                .map(|t| Block::paragraph(vec![Span::text(t)]))
                .collect(),
        })],
        created_at: None,
        author: None,
        feedback: None,
    };
    events.push(sse(StreamEvent::Done(DoneEvent { message })));
    (events, text_len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench"]
async fn stream_5000_events() {
    let (events, final_len) = long_reply();
    assert_eq!(events.len(), events_wanted());
    let h = Harness::start_with(|config| {
        config.stream_delay = Duration::from_millis(2);
        config.scripted_replies = vec![ScriptedReply {
            trigger: "bench".into(),
            events,
        }];
    })
    .await;
    // The app top-level (not in the cross-origin iframe), so DevTools metrics are its main thread.
    h.open_chat_page().await;
    h.client
        .execute(
            "window.__longtasks = []; new PerformanceObserver(l => l.getEntries().forEach(e => __longtasks.push([e.duration, e.startTime]))).observe({type: 'longtask', buffered: true});",
            vec![],
        )
        .await
        .unwrap();
    h.cdp("Performance.enable", json!({})).await;
    let task_time = || h.task_seconds();
    let text_len = || async {
        h.client
            .execute("const b = document.querySelectorAll('[data-testid=message][data-role=assistant] .bubble'); return b.length ? b[b.length - 1].textContent.length : 0;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap() as usize
    };
    // The probe itself costs main-thread time: measure it idle for 5 s, same cadence.
    let idle_start = task_time().await;
    let idle_clock = Instant::now();
    while idle_clock.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = text_len().await;
        let _ = task_time().await;
        let _ = h
            .client
            .execute(
                "return document.querySelectorAll('.bubble.streaming').length === 0",
                vec![],
            )
            .await
            .unwrap();
    }
    let probe_per_sec = (task_time().await - idle_start) / idle_clock.elapsed().as_secs_f64();

    let profile = std::env::var_os("DGBOT_BENCH_PROFILE").is_some();
    if profile {
        h.cdp("Profiler.enable", json!({})).await;
        h.cdp("Profiler.setSamplingInterval", json!({ "interval": 200 }))
            .await;
        h.cdp("Profiler.start", json!({})).await;
    }
    let parts_before = main_thread_parts(&h).await;
    let before = task_time().await;
    let t0 = h
        .client
        .execute("return performance.now()", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    h.ask("bench").await;
    let started = Instant::now();
    // (elapsed s, characters shown, main-thread seconds so far)
    let mut samples = vec![(0.0, 0usize, 0.0)];
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let len = text_len().await;
        samples.push((
            started.elapsed().as_secs_f64(),
            len,
            task_time().await - before,
        ));
        let done = h
            .client
            .execute(
                "return document.querySelectorAll('.bubble.streaming').length === 0",
                vec![],
            )
            .await
            .unwrap();
        if (len >= final_len && done == json!(true)) || started.elapsed() > Duration::from_secs(120)
        {
            break;
        }
    }
    let total = samples.last().unwrap().2;
    let parts_after = main_thread_parts(&h).await;
    if profile {
        print_profile(&h.cdp("Profiler.stop", json!({})).await["profile"]);
    }
    // Main-thread time when the answer had reached `chars` characters (linear between samples).
    let at = |chars: usize| {
        let i = samples
            .iter()
            .position(|s| s.1 >= chars)
            .unwrap_or(samples.len() - 1);
        if i == 0 {
            return 0.0;
        }
        let (a, b) = (samples[i - 1], samples[i]);
        let f = if b.1 == a.1 {
            1.0
        } else {
            (chars - a.1) as f64 / (b.1 - a.1) as f64
        };
        a.2 + f * (b.2 - a.2)
    };
    // Every event adds ~5 characters, so 1,000 events ≈ a fifth of the text.
    let fifth = final_len / 5;
    let first = at(fifth);
    let last = total - at(final_len - fifth);
    let longtasks = h
        .client
        .execute("return window.__longtasks", vec![])
        .await
        .unwrap();
    // Only tasks from the question on: page start-up is not the stream's.
    let longtasks: Vec<(f64, f64)> = longtasks
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v[0].as_f64().unwrap(), v[1].as_f64().unwrap() - t0))
        .filter(|(_, at)| *at >= 0.0)
        .collect();
    let longest = longtasks.iter().map(|t| t.0).fold(0.0, f64::max);
    for (duration, at) in &longtasks {
        println!(
            "bench: long task of {duration:.0} ms at {:.2} s after the question",
            at / 1000.0
        );
    }
    println!(
        "bench: {} events, one every 2 ms, {final_len} characters, streamed in {:.1} s",
        events_wanted(),
        samples.last().unwrap().0
    );
    let seconds = samples.last().unwrap().0;
    println!(
        "bench: main-thread time for the whole stream: {:.0} ms, of which the probe idles at {:.0} ms; {:.0} ms net (budget < 1000 ms)",
        total * 1000.0,
        probe_per_sec * seconds * 1000.0,
        (total - probe_per_sec * seconds) * 1000.0
    );
    println!(
        "bench: of which script {:.0} ms, style {:.0} ms, layout {:.0} ms (DevTools metrics, probe included)",
        (parts_after.0 - parts_before.0) * 1000.0,
        (parts_after.1 - parts_before.1) * 1000.0,
        (parts_after.2 - parts_before.2) * 1000.0
    );
    println!(
        "bench: long tasks (> 50 ms): {} (longest {:.0} ms; budget: none)",
        longtasks.len(),
        longest
    );
    println!(
        "bench: first 1,000 events {:.0} ms, last 1,000 events {:.0} ms, ratio {:.2} (budget <= 1.5)",
        first * 1000.0,
        last * 1000.0,
        last / first.max(1e-9)
    );
    h.finish().await;
}

/// DevTools' `ScriptDuration`, `RecalcStyleDuration` and `LayoutDuration` so far, in seconds.
async fn main_thread_parts(h: &Harness) -> (f64, f64, f64) {
    let metrics = h.cdp("Performance.getMetrics", json!({})).await;
    let get = |name: &str| {
        metrics["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .and_then(|m| m["value"].as_f64())
            .unwrap_or(0.0)
    };
    (
        get("ScriptDuration"),
        get("RecalcStyleDuration"),
        get("LayoutDuration"),
    )
}

/// Self time by function from a CDP CPU profile, top 25 (`DGBOT_BENCH_PROFILE=1`).
fn print_profile(profile: &serde_json::Value) {
    use std::collections::HashMap;
    let nodes = profile["nodes"].as_array().unwrap();
    let name_of: HashMap<u64, String> = nodes
        .iter()
        .map(|n| {
            let f = &n["callFrame"];
            let url = f["url"].as_str().unwrap_or("");
            let file = url.rsplit('/').next().unwrap_or("");
            (
                n["id"].as_u64().unwrap(),
                format!("{} {}", f["functionName"].as_str().unwrap_or("?"), file),
            )
        })
        .collect();
    let mut self_us: HashMap<String, f64> = HashMap::new();
    let samples = profile["samples"].as_array().unwrap();
    let deltas = profile["timeDeltas"].as_array().unwrap();
    for (i, s) in samples.iter().enumerate() {
        let dt = deltas.get(i + 1).and_then(|d| d.as_f64()).unwrap_or(0.0);
        *self_us
            .entry(name_of[&s.as_u64().unwrap()].clone())
            .or_default() += dt;
    }
    let mut rows: Vec<_> = self_us.into_iter().collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (name, us) in rows.iter().take(25) {
        println!("profile: {:8.1} ms  {name}", us / 1000.0);
    }
}

/// The loader's cost on the host page (DESIGN.md budget: no long task, no layout shift): the
/// shop page loaded with and without widget.js (blocked through DevTools), main-thread task
/// time over its first 4 s (the iframe is created at idle time within them), the loader's own
/// script time from a CPU profile, long tasks and layout shifts, and the bytes it costs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench"]
async fn loader_on_the_host_page() {
    let h = Harness::start().await;
    h.cdp("Network.enable", json!({})).await;
    let task_time = || h.task_seconds();
    let mut runs: Vec<(bool, f64, f64, usize, f64)> = vec![];
    let mut bytes = serde_json::Value::Null;
    for round in 0..6 {
        let with_loader = round % 2 == 0;
        let blocked: Vec<&str> = if with_loader {
            vec![]
        } else {
            vec!["*widget.js"]
        };
        h.cdp("Network.setBlockedURLs", json!({ "urls": blocked }))
            .await;
        // Start from a page of the same site, so the shop page loads in the same renderer.
        h.goto("/demo/demo.css").await;
        h.cdp("Performance.enable", json!({})).await;
        h.cdp("Profiler.enable", json!({})).await;
        h.cdp("Profiler.setSamplingInterval", json!({ "interval": 100 }))
            .await;
        h.cdp("Profiler.start", json!({})).await;
        let before = task_time().await;
        h.goto("/demo/").await;
        h.js(
            "window.__perf = { long: 0, shift: 0 }; \
             new PerformanceObserver(l => l.getEntries().forEach(() => __perf.long++)).observe({ type: 'longtask', buffered: true }); \
             new PerformanceObserver(l => l.getEntries().forEach(e => __perf.shift += e.value)).observe({ type: 'layout-shift', buffered: true });",
            vec![],
        )
        .await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let task_ms = (task_time().await - before) * 1000.0;
        let profile = h.cdp("Profiler.stop", json!({})).await["profile"].clone();
        let perf = h.js("return __perf;", vec![]).await;
        if with_loader {
            bytes = h
                .js("var e = performance.getEntriesByType('resource').find(r => r.name.endsWith('/widget.js')); return e ? e.encodedBodySize : null;", vec![])
                .await;
        }
        runs.push((
            with_loader,
            task_ms,
            script_ms(&profile, "widget.js"),
            perf["long"].as_u64().unwrap() as usize,
            perf["shift"].as_f64().unwrap(),
        ));
    }
    let median = |with: bool, f: fn(&(bool, f64, f64, usize, f64)) -> f64| {
        let mut v: Vec<f64> = runs.iter().filter(|r| r.0 == with).map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("loader: widget.js over the wire: {bytes} B (gzip; the budget is 2,048)");
    println!(
        "loader: host main-thread task time, first 4 s: {:.1} ms with the loader, {:.1} ms without (median of 3 each)",
        median(true, |r| r.1),
        median(false, |r| r.1)
    );
    println!(
        "loader: widget.js script time (CPU profile, 0.1 ms sampling): {:.2} ms (median)",
        median(true, |r| r.2)
    );
    println!(
        "loader: long tasks on the host page: {} with the loader; layout shift (CLS) with the loader: {:.4}",
        runs.iter().filter(|r| r.0).map(|r| r.3).max().unwrap(),
        runs.iter().filter(|r| r.0).map(|r| r.4).fold(0.0, f64::max)
    );
    h.finish().await;
}

/// Time in a CPU profile spent not idle (every sample but `(idle)`), in ms.
fn busy_ms(profile: &serde_json::Value) -> f64 {
    let nodes = profile["nodes"].as_array().unwrap();
    let idle: std::collections::HashSet<u64> = nodes
        .iter()
        .filter(|n| n["callFrame"]["functionName"] == "(idle)")
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    let samples = profile["samples"].as_array().unwrap();
    let deltas = profile["timeDeltas"].as_array().unwrap();
    let us: f64 = samples
        .iter()
        .enumerate()
        .filter(|(_, s)| !idle.contains(&s.as_u64().unwrap()))
        .map(|(i, _)| deltas.get(i + 1).and_then(|d| d.as_f64()).unwrap_or(0.0))
        .sum();
    us / 1000.0
}

/// Self time in a CPU profile of functions from scripts whose URL ends with `file`, in ms.
fn script_ms(profile: &serde_json::Value, file: &str) -> f64 {
    let nodes = profile["nodes"].as_array().unwrap();
    let ours: std::collections::HashSet<u64> = nodes
        .iter()
        .filter(|n| {
            n["callFrame"]["url"]
                .as_str()
                .is_some_and(|u| u.ends_with(file))
        })
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    let samples = profile["samples"].as_array().unwrap();
    let deltas = profile["timeDeltas"].as_array().unwrap();
    let us: f64 = samples
        .iter()
        .enumerate()
        .filter(|(_, s)| ours.contains(&s.as_u64().unwrap()))
        .map(|(i, _)| deltas.get(i + 1).and_then(|d| d.as_f64()).unwrap_or(0.0))
        .sum();
    us / 1000.0
}

/// A harness for issue 13's measurements: the demo chatbot without popup messages (nothing to
/// show a first-time visitor), the page's network throttled through DevTools (10 Mbit/s down,
/// 5 Mbit/s up, 40 ms latency) with its cache disabled. `in_process_frames`: site isolation off,
/// so that the chat's cross-origin frame runs in the page's process, where the page's network
/// emulation reaches it (an out-of-process frame is another DevTools target, which neither CDP
/// through ChromeDriver nor ChromeDriver's own network conditions reach: the frame's wasm came
/// in 20-50 ms, unthrottled). Its start-up then shares the page's main thread: if anything,
/// slower than in a real browser.
async fn throttled(in_process_frames: bool) -> Harness {
    let browser_args = if in_process_frames {
        vec![
            "--disable-site-isolation-trials".into(),
            "--disable-features=IsolateOrigins,site-per-process".into(),
        ]
    } else {
        vec![]
    };
    let h = Harness::start_full(
        |_| {},
        |bot| bot.config.popup_messages.clear(),
        support::Options {
            browser_args,
            ..Default::default()
        },
    )
    .await;
    h.cdp("Network.enable", json!({})).await;
    h.cdp("Network.setCacheDisabled", json!({ "cacheDisabled": true }))
        .await;
    h.cdp(
        "Network.emulateNetworkConditions",
        json!({ "offline": false, "latency": 40,
                "downloadThroughput": 10_000_000 / 8, "uploadThroughput": 5_000_000 / 8 }),
    )
    .await;
    h
}

async fn frames(h: &Harness) -> u64 {
    h.js(
        "var r = document.getElementById('dgbot-root'); return r ? r.shadowRoot.querySelectorAll('iframe').length : 0;",
        vec![],
    )
    .await
    .as_u64()
    .unwrap_or(0)
}

/// Issue 13, item 2 (a): a first-time visitor, throttled (see [`throttled`]), the shop page
/// loaded 9 times each, alternately with and without widget.js: host main-thread task time over
/// the first 4 s, before any intent (the loader, its popup hint, no frame), and the loader's own
/// script time from a CPU profile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench"]
async fn loader_before_intent_throttled() {
    let h = throttled(false).await;
    let task_time = || h.task_seconds();

    // (a) main-thread time before intent.
    let mut runs: Vec<(bool, f64, f64, f64)> = vec![];
    // 9 loads each, alternating; the first pair warms up and is not counted.
    for round in 0..20 {
        let with_loader = round % 2 == 0;
        let blocked: Vec<&str> = if with_loader {
            vec![]
        } else {
            vec!["*widget.js"]
        };
        h.cdp("Network.setBlockedURLs", json!({ "urls": blocked }))
            .await;
        h.goto("/demo/demo.css").await;
        h.js("localStorage.clear();", vec![]).await;
        h.cdp("Performance.enable", json!({})).await;
        h.cdp("Profiler.enable", json!({})).await;
        h.cdp("Profiler.setSamplingInterval", json!({ "interval": 100 }))
            .await;
        h.cdp("Profiler.start", json!({})).await;
        let before = task_time().await;
        h.goto("/demo/").await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let task_ms = (task_time().await - before) * 1000.0;
        let profile = h.cdp("Profiler.stop", json!({})).await["profile"].clone();
        if with_loader {
            assert_eq!(
                frames(&h).await,
                0,
                "a first-time visitor's page has no frame"
            );
        }
        if std::env::var_os("DGBOT_BENCH_PROFILE").is_some() && (round == 2 || round == 3) {
            println!(
                "profile of a load {} the loader:",
                if with_loader { "with" } else { "without" }
            );
            print_profile(&profile);
        }
        if round >= 2 {
            runs.push((
                with_loader,
                task_ms,
                script_ms(&profile, "widget.js"),
                busy_ms(&profile),
            ));
        }
    }
    h.cdp("Network.setBlockedURLs", json!({ "urls": [] })).await;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let with: Vec<f64> = runs.iter().filter(|r| r.0).map(|r| r.1).collect();
    let without: Vec<f64> = runs.iter().filter(|r| !r.0).map(|r| r.1).collect();
    println!(
        "intent: host main-thread task time, first 4 s, first-time visitor, throttled: {:.1} ms with the loader, {:.1} ms without (median of 9 each; runs {with:.1?} / {without:.1?})",
        median(with.clone()),
        median(without.clone())
    );
    println!(
        "intent: added before intent: {:.1} ms (goal <= 10 ms); widget.js script time {:.2} ms (median)",
        median(with) - median(without),
        median(runs.iter().filter(|r| r.0).map(|r| r.2).collect())
    );
    // The same from the CPU profile: every sample of the page's main thread that is not idle
    // (script, style, layout, paint, GC), over the load and the 4 s. Steadier than TaskDuration,
    // which a renderer swap between two navigations resets (the negative runs above).
    let busy = |w: bool| median(runs.iter().filter(|r| r.0 == w).map(|r| r.3).collect());
    println!(
        "intent: host main-thread busy time (CPU profile, not idle), load + 4 s: {:.1} ms with the loader, {:.1} ms without; added {:.1} ms (median of 9 each)",
        busy(true),
        busy(false),
        busy(true) - busy(false)
    );
    h.finish().await;
}

/// Issue 13, item 2 (b): a script's click on the launcher with no frame made before it (no
/// hover, no preload, nothing of the chat in the HTTP cache), throttled with the frame in the
/// page's process (see [`throttled`]), to the chat's `ready` event on the host page (token and
/// configuration loaded, the composer shown); 10 first-time visits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench"]
async fn click_to_composer_throttled() {
    let h = throttled(true).await;

    // (b) click to a usable composer, no frame before the click.
    let mut clicks = vec![];
    for _ in 0..10 {
        // A first visit: nothing of the chat in the HTTP cache (the whole browser's).
        h.cdp("Network.clearBrowserCache", json!({})).await;
        h.goto("/demo/demo.css").await;
        h.js("localStorage.clear();", vec![]).await;
        h.goto("/demo/").await;
        h.launcher().await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(frames(&h).await, 0);
        h.js(
            "window.__t = {}; DGbot.on('ready', () => __t.ready = performance.now()); \
             __t.click = performance.now(); \
             document.getElementById('dgbot-root').shadowRoot.querySelector('button').click();",
            vec![],
        )
        .await;
        let ms = loop {
            let t = h.js("return __t;", vec![]).await;
            if let (Some(c), Some(r)) = (t["click"].as_f64(), t["ready"].as_f64()) {
                break r - c;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // The composer is there and takes text.
        h.enter_chat().await;
        let composer = h.wait_css(support::pages::widget::COMPOSER).await;
        assert_eq!(composer.attr("disabled").await.unwrap(), None);
        // The frame's own record of the transfer: proof that the throttle applied to it too.
        let wasm_ms = h
            .js(
                "var e = performance.getEntriesByType('resource').find(r => r.name.endsWith('.wasm')); return e ? e.duration : null;",
                vec![],
            )
            .await;
        h.client.enter_parent_frame().await.unwrap();
        println!("intent: click to ready {ms:.0} ms (the frame's wasm download took {wasm_ms} ms)");
        clicks.push(ms);
    }
    let mut sorted = clicks.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "intent: click to a usable composer, no preload, throttled: median {:.0} ms, min {:.0}, max {:.0} (budget 800 ms, goal 400 ms)",
        (sorted[4] + sorted[5]) / 2.0,
        sorted[0],
        sorted[9]
    );
    h.finish().await;
}

/// Issue 13 (4): a returning visitor with 1,000 messages of history. Opening the chat (page
/// start to the latest page of history in the log and a usable composer), then typing: real
/// key events through WebDriver, one every 30 ms, each timed in the page from the key's event
/// time to the frame after its `input` (p50 and p99). Again with the whole history loaded
/// (every page, by scrolling to the top), the worst case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: cargo xtask bench"]
async fn long_history_1000() {
    let h = Harness::start_with_storage(support::Storage::Allowed).await;
    let visitor = "v_bench_long_history_0001";
    let key = dgbot_server::core::ConversationKey::new("demo-shop", visitor);
    for i in 1..=1000 {
        let message = Message {
            message_id: format!("msg_long_{i:04}"),
            role: if i % 2 == 1 {
                Role::User
            } else {
                Role::Assistant
            },
            parts: vec![Part::RichText(RichText {
                part_id: format!("p{i}"),
                blocks: vec![Block::paragraph(vec![Span::text(format!(
                    "Message {i}: a sentence or two of an ordinary conversation about lamps, \
                     deliveries and opening hours, about as long as most chat messages are."
                ))])],
            })],
            created_at: None,
            author: None,
            feedback: None,
        };
        h.state.store.push(&key, &message).unwrap();
    }
    let chat_url = h.chat_page_url();
    // The frame's storage already knows the visitor (a returning visitor).
    h.client.goto(&chat_url).await.unwrap();
    h.wait_css(support::pages::widget::COMPOSER).await;
    h.js(
        &format!("localStorage.setItem('dgbot_visitor_demo-shop', '{visitor}');"),
        vec![],
    )
    .await;
    h.cdp("Page.enable", json!({})).await;
    h.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": "(function poll() { \
            var c = document.querySelector('[data-testid=composer]'); \
            var last = [...document.querySelectorAll('[data-testid=message]')].pop(); \
            if (c && !c.disabled && last && last.textContent.includes('Message 1000:')) { window.__opened = performance.now(); } \
            else { requestAnimationFrame(poll); } })();" }),
    )
    .await;
    let mut opens = vec![];
    for _ in 0..5 {
        h.client.goto(&chat_url).await.unwrap();
        let opened = loop {
            if let Some(ms) = h
                .js("return window.__opened || null;", vec![])
                .await
                .as_f64()
            {
                break ms;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        opens.push(opened);
    }
    opens.sort_by(f64::total_cmp);
    let shown = h.count(support::pages::widget::MESSAGE).await;
    println!(
        "long history: 1,000 messages, {shown} in the log: opened in median {:.0} ms (min {:.0}, max {:.0}; page start to the latest page shown and the composer usable; goal < 500 ms)",
        opens[2], opens[0], opens[4]
    );
    println!(
        "long history: a keystroke with {shown} messages in the log: {} (goal < 16 ms)",
        typing(&h).await
    );

    // Every page, by scrolling to the top until there is no more.
    loop {
        if h.count(support::pages::widget::EARLIER).await == 0 {
            break;
        }
        let before = h.count(support::pages::widget::MESSAGE).await;
        h.js(
            "document.querySelector('[data-testid=log]').scrollTo(0, 0);",
            vec![],
        )
        .await;
        h.eventually("an earlier page", || async {
            (h.count(support::pages::widget::MESSAGE).await > before).then_some(())
        })
        .await;
        h.js(
            "var l = document.querySelector('[data-testid=log]'); l.scrollTo(0, 400);",
            vec![],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shown = h.count(support::pages::widget::MESSAGE).await;
    println!(
        "long history: a keystroke with all {shown} messages in the log: {}",
        typing(&h).await
    );
    h.finish().await;
}

/// 100 keystrokes into the composer, one every 30 ms; each timed from the key event to the
/// frame after its `input` event.
async fn typing(h: &Harness) -> Typing {
    let composer = h.wait_css(support::pages::widget::COMPOSER).await;
    composer.click().await.unwrap();
    h.js(
        "window.__keys = []; window.__frames = []; document.querySelector('[data-testid=composer]').addEventListener('input', e => { \
           var t0 = e.timeStamp; document.body.offsetHeight; __keys.push(performance.now() - t0); \
           requestAnimationFrame(() => setTimeout(() => __frames.push(performance.now() - t0), 0)); });",
        vec![],
    )
    .await;
    for i in 0..100 {
        let key = if i % 8 == 7 { " " } else { "a" };
        composer.send_keys(key).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let timed = |name: &'static str| async move {
        let mut all: Vec<f64> = h
            .js(&format!("return {name};"), vec![])
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_f64())
            .collect();
        assert!(all.len() >= 95, "{} keystrokes timed", all.len());
        all.sort_by(f64::total_cmp);
        let at = |q: f64| all[((all.len() - 1) as f64 * q).round() as usize];
        (at(0.5), at(0.99))
    };
    let work = timed("__keys").await;
    let frame = timed("__frames").await;
    // Leave the composer empty for whatever comes next.
    h.js("var c = document.querySelector('[data-testid=composer]'); c.value = ''; c.dispatchEvent(new Event('input'));", vec![]).await;
    Typing { work, frame }
}

/// Keystroke timings, (p50, p99) in ms: `work` from the key's event time to the end of its
/// `input` handling with style and layout done; `frame` to the frame after it (which also
/// waits for the display's next frame, up to 16.7 ms at 60 Hz).
struct Typing {
    work: (f64, f64),
    frame: (f64, f64),
}

impl std::fmt::Display for Typing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "handled in p50 {:.1} ms, p99 {:.1} ms; next frame p50 {:.1} ms, p99 {:.1} ms",
            self.work.0, self.work.1, self.frame.0, self.frame.1
        )
    }
}
