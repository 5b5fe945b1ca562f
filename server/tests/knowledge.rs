//! Issue 26, the assistant knows the site: the demo shop's FAQ files and catalogue as sources,
//! grounded answers that cite the section they quote, curated answers, an honest "I don't know"
//! in the visitor's language (kept for the site owner), and the sources API over a real site
//! served on loopback (sitemap, robots.txt, a page that changes, a PDF, Danish and German
//! pages).

use dgbot_protocol::Part;
use dgbot_protocol::message::{Message, Source};
use dgbot_testkit::TestServer;
use dgbot_testkit::api::Api;

fn sources(m: &Option<Message>) -> Vec<Source> {
    m.iter()
        .flat_map(|m| &m.parts)
        .filter_map(|p| match p {
            Part::Sources(s) => Some(s.sources.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn types(m: &Option<Message>) -> Vec<&'static str> {
    m.iter()
        .flat_map(|m| &m.parts)
        .map(Part::type_name)
        .collect()
}

#[tokio::test]
async fn the_demo_shop_answers_from_its_pages_and_cites_them() {
    let server = TestServer::start();
    let visitor = Api::new(&server.base).visitor().await;

    let usa = visitor.ask("Do you ship to the USA?").await;
    assert!(
        usa.text().contains("do not ship to the USA"),
        "{}",
        usa.text()
    );
    let cited = sources(&usa.message);
    assert_eq!(
        cited[0].url,
        server.url("/demo/help/shipping#shipping-outside-the-eu"),
        "{cited:?}"
    );
    // The sources end the answer; only the follow-up suggestions come after them (issue 27).
    assert_eq!(types(&usa.message), ["rich_text", "sources", "suggestions"]);

    let warranty = visitor
        .ask("What is the warranty on the Aurora lamp?")
        .await;
    assert!(
        warranty.text().contains("2-year warranty"),
        "{}",
        warranty.text()
    );
    assert!(
        sources(&warranty.message)[0]
            .url
            .ends_with("/demo/help/returns#warranty")
    );

    let danish = visitor.ask("hvad koster fragt?").await;
    assert!(danish.text().contains("49 kr"), "{}", danish.text());
    assert!(
        sources(&danish.message)[0]
            .url
            .ends_with("/demo/help/fragt"),
        "{:?}",
        sources(&danish.message)
    );

    // The shipped configuration's curated answer wins.
    let wrap = visitor.ask("Can you gift wrap my order?").await;
    assert!(wrap.text().contains("25 kr"), "{}", wrap.text());

    let times = visitor.ask("What are your shipping times?").await;
    assert!(
        times.text().contains("2–4 business days"),
        "{}",
        times.text()
    );
}

#[tokio::test]
async fn out_of_scope_questions_get_an_honest_answer_and_are_kept() {
    let server = TestServer::start();
    let visitor = Api::new(&server.base).visitor().await;
    for (q, words) in [
        ("What is the capital of Peru?", "don't know"),
        (
            "Hvem vandt fodboldkampen i går aftes?",
            "ved jeg desværre ikke",
        ),
        (
            "Wer hat gestern das Fußballspiel gewonnen?",
            "weiß ich leider nicht",
        ),
    ] {
        let a = visitor.ask(q).await;
        assert!(a.text().contains(words), "{q}: {}", a.text());
        assert!(sources(&a.message).is_empty(), "{q}");
        // The demo shop's livechat is live: the offer is a person.
        assert_eq!(
            types(&a.message),
            ["rich_text", "request_human_agent"],
            "{q}: {}",
            a.text()
        );
    }
    let kept = server.core().unanswered("demo-shop", 10).unwrap();
    assert_eq!(kept.len(), 3);
    assert_eq!(kept[2].question, "What is the capital of Peru?");
    assert_eq!(kept[0].lang, "de");
}

// ----- a site owner's own site, over the sources API -----

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reqwest::Method;
use serde_json::{Value, json};

/// The site: which version of the changing page it serves, and how often each path was asked for.
#[derive(Default)]
struct Site {
    version: AtomicU32,
    requests: std::sync::Mutex<Vec<String>>,
}

const NAV: &str = r#"<nav><a href="/help/">Help</a> <a href="/help/shipping">Shipping</a> <a href="/help/private/notes">Staff</a> <a href="/help/borealis-manual.pdf">Manual</a></nav>"#;

fn page(lang: &str, title: &str, main: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            r#"<!doctype html><html lang="{lang}"><head><title>{title} | Nordlys</title></head><body><header>{NAV}</header><main>{main}</main><footer>© Nordlys ApS</footer></body></html>"#
        ),
    )
        .into_response()
}

async fn site_page(
    State(site): State<Arc<Site>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    site.requests.lock().unwrap().push(path.clone());
    let v = site.version.load(Ordering::SeqCst);
    match path.as_str() {
        "robots.txt" => "User-agent: *\nDisallow: /help/private/\n".into_response(),
        "sitemap.xml" => {
            let base = headers[header::HOST].to_str().unwrap().to_owned();
            let urls: String = ["help/", "help/gift-cards"]
                .iter()
                .map(|p| format!("<url><loc>http://{base}/{p}</loc></url>"))
                .collect();
            (
                [(header::CONTENT_TYPE, "application/xml")],
                format!(r#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>"#),
            )
                .into_response()
        }
        "help/" => page(
            "en",
            "Help",
            r#"<h1>Help centre</h1><p>Find answers about <a href="/help/shipping">shipping</a>, <a href="/help/returns">returns</a> and our <a href="/help/borealis-manual.pdf">heater manual</a>.</p>"#,
        ),
        "help/shipping" => {
            let iceland = if v == 0 {
                "by sea freight in 12 days"
            } else {
                "by air freight in 3 days"
            };
            let etag = format!("\"ship-{v}\"");
            if headers
                .get(header::IF_NONE_MATCH)
                .and_then(|e| e.to_str().ok())
                == Some(etag.as_str())
            {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            let mut res = page(
                "en",
                "Shipping",
                &format!(
                    r#"<h1>Shipping</h1><p>We send parcels from our warehouse in Aarhus every weekday.</p>
                <h2 id="to-iceland">Shipping to Iceland</h2><p>Parcels to Iceland travel {iceland}; duties are paid on arrival.</p>
                <h2 id="to-greenland">Shipping to Greenland</h2><p>Greenland deliveries go with Royal Arctic Line once a month.</p>"#
                ),
            );
            res.headers_mut()
                .insert(header::ETAG, etag.parse().unwrap());
            res
        }
        "help/returns" => page(
            "en",
            "Returns",
            r#"<h1>Returns</h1><h2 id="how-to-return">How to return a heater</h2><p>Heaters can be returned within 60 days if unused; book a pickup in your account.</p>"#,
        ),
        "help/gift-cards" => page(
            "en",
            "Gift cards",
            r#"<h1>Gift cards</h1><p>Our gift cards never expire and can be used online and in the store.</p>"#,
        ),
        "help/private/notes" => page(
            "en",
            "Staff notes",
            r#"<h1>Staff notes</h1><p>The staff discount code is SECRET42.</p>"#,
        ),
        "help/borealis-manual.pdf" => (
            [(header::CONTENT_TYPE, "application/pdf")],
            include_bytes!("fixtures/borealis-manual.pdf").to_vec(),
        )
            .into_response(),
        "da/" => page(
            "da",
            "Hjælp",
            r#"<h1>Hjælp</h1><h2 id="levering-til-island">Levering til Island</h2><p>Pakker til Island sendes med skib og er fremme på 12 dage; told betales ved modtagelsen.</p><h2 id="gavekort">Gavekort</h2><p>Vores gavekort udløber aldrig og kan bruges både online og i butikken.</p>"#,
        ),
        "de/" => page(
            "de",
            "Hilfe",
            r#"<h1>Hilfe</h1><h2 id="versand-nach-island">Versand nach Island</h2><p>Pakete nach Island reisen per Schiff und sind nach 12 Tagen da; Zölle werden bei der Ankunft bezahlt.</p><h2 id="gutscheine">Gutscheine</h2><p>Unsere Gutscheine verfallen nie und gelten online und im Laden.</p>"#,
        ),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn serve_site() -> (String, Arc<Site>) {
    let site = Arc::new(Site::default());
    let app = Router::new()
        .route("/{*path}", axum::routing::get(site_page))
        .with_state(site.clone());
    (dgbot_testkit::side::serve(app), site)
}

/// The demo chatbot knowing nothing but what the test adds, without livechat (so "I don't know"
/// offers a contact form), and syncing at once.
fn empty_server() -> TestServer {
    TestServer::builder()
        .chatbot(|c| {
            c.sources = vec![];
            c.livechat = None;
        })
        .configure(|c| {
            c.sources.policy.delay = std::time::Duration::ZERO;
            c.sources.poll = std::time::Duration::from_millis(100);
        })
        .start()
}

/// `POST /sources` with `body`: `201`, and the source as answered.
async fn add(backend: &dgbot_testkit::Backend, body: Value) -> Value {
    let (status, added) = backend.call(Method::POST, "/sources", Some(body)).await;
    assert_eq!(status, 201, "{added}");
    added
}

fn website(url: String) -> Value {
    json!({ "type": "website", "url": url })
}

/// Wait until the source has synced `times` times after `after` (its `last_synced_at` moved on).
async fn synced(backend: &dgbot_testkit::Backend, id: &str, after: Option<String>) -> Value {
    let mut tries = 0;
    loop {
        let (status, source) = backend
            .call(Method::GET, &format!("/sources/{id}"), None)
            .await;
        assert_eq!(status, 200, "{source}");
        let done = matches!(source["status"].as_str(), Some("ready" | "failed"));
        if done && source["last_synced_at"].as_str().map(str::to_owned) != after {
            return source;
        }
        tries += 1;
        assert!(tries < 300, "never synced: {source}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn page_state<'a>(source: &'a Value, path: &str) -> (&'a str, &'a str) {
    let page = source["pages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["url"].as_str().unwrap().ends_with(path))
        .unwrap_or_else(|| panic!("no page {path}: {source}"));
    (
        page["state"].as_str().unwrap(),
        page["error"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn a_site_is_crawled_answered_resynced_and_deleted() {
    let (site_base, site) = serve_site().await;
    let server = empty_server();
    let api = Api::new(&server.base);
    let backend = api.backend();
    let visitor = api.visitor().await;

    // Before: the assistant knows nothing, and says so.
    let before = visitor.ask("How long does shipping to Iceland take?").await;
    assert!(before.text().contains("don't know"), "{}", before.text());
    assert_eq!(types(&before.message), ["rich_text", "show_contact_form"]);

    let added = add(&backend, website(format!("{site_base}/help/"))).await;
    assert_eq!(
        (added["type"].as_str(), added["status"].as_str()),
        (Some("website"), Some("queued"))
    );
    let id = added["source_id"].as_str().unwrap().to_owned();
    let source = synced(&backend, &id, None).await;
    assert_eq!(source["status"], "ready", "{source}");
    assert_eq!(page_state(&source, "/help/shipping"), ("ok", ""));
    // Only the sitemap lists the gift cards page.
    assert_eq!(page_state(&source, "/help/gift-cards").0, "ok");
    assert_eq!(page_state(&source, "/help/borealis-manual.pdf").0, "ok");
    let (state, why) = page_state(&source, "/help/private/notes");
    assert_eq!(state, "skipped");
    assert!(why.contains("robots.txt"), "{why}");
    assert!(
        !site
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.starts_with("help/private"))
    );
    let (_, list) = backend.call(Method::GET, "/sources", None).await;
    assert_eq!(list["sources"][0]["source_id"], id.as_str());
    assert!(
        list["sources"][0]["documents"].as_u64().unwrap() >= 5,
        "{list}"
    );

    // Answers cite the section they quote.
    let iceland = visitor.ask("How long does shipping to Iceland take?").await;
    assert!(iceland.text().contains("12 days"), "{}", iceland.text());
    assert_eq!(
        sources(&iceland.message)[0].url,
        format!("{site_base}/help/shipping#to-iceland")
    );
    let gift = visitor.ask("Do your gift cards expire?").await;
    assert!(gift.text().contains("never expire"), "{}", gift.text());
    let watts = visitor
        .ask("How many watts does the Borealis heater use?")
        .await;
    assert!(watts.text().contains("2000 watts"), "{}", watts.text());
    assert!(
        sources(&watts.message)[0]
            .url
            .starts_with(&format!("{site_base}/help/borealis-manual.pdf"))
    );
    let secret = visitor.ask("What is the staff discount code?").await;
    assert!(!secret.text().contains("SECRET42"), "{}", secret.text());

    // The page changes; a sync on request reads it again (the unchanged ones answer 304).
    site.version.store(1, Ordering::SeqCst);
    let (status, _) = backend
        .call(Method::POST, &format!("/sources/{id}/sync"), None)
        .await;
    assert_eq!(status, 202);
    let again = synced(
        &backend,
        &id,
        source["last_synced_at"].as_str().map(str::to_owned),
    )
    .await;
    assert_eq!(again["status"], "ready", "{again}");
    let iceland = visitor.ask("How long does shipping to Iceland take?").await;
    assert!(iceland.text().contains("3 days"), "{}", iceland.text());

    // Deleted: its passages are gone before the answer.
    let (status, _) = backend
        .call(Method::DELETE, &format!("/sources/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let gone = visitor.ask("How long does shipping to Iceland take?").await;
    assert!(gone.text().contains("don't know"), "{}", gone.text());
    assert!(sources(&gone.message).is_empty());
    let (status, _) = backend
        .call(Method::GET, &format!("/sources/{id}"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn danish_and_german_pages_are_answered_in_their_language() {
    let (site_base, _site) = serve_site().await;
    let server = empty_server();
    let api = Api::new(&server.base);
    let backend = api.backend();
    let mut ids = vec![];
    for lang in ["da", "de"] {
        let added = add(&backend, website(format!("{site_base}/{lang}/"))).await;
        ids.push(added["source_id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        assert_eq!(synced(&backend, id, None).await["status"], "ready");
    }
    let visitor = api.visitor().await;
    let da = visitor
        .ask("Hvor lang tid tager levering til Island?")
        .await;
    assert!(da.text().contains("12 dage"), "{}", da.text());
    assert_eq!(
        sources(&da.message)[0].url,
        format!("{site_base}/da/#levering-til-island")
    );
    let de = visitor
        .ask("Wie lange dauert der Versand nach Island?")
        .await;
    assert!(de.text().contains("12 Tagen"), "{}", de.text());
    assert_eq!(
        sources(&de.message)[0].url,
        format!("{site_base}/de/#versand-nach-island")
    );
    let gavekort = visitor.ask("Udløber jeres gavekort?").await;
    assert!(
        gavekort.text().contains("udløber aldrig"),
        "{}",
        gavekort.text()
    );
    // Outside the content: "I don't know" in the question's language, with a contact form.
    let unknown = visitor
        .ask("Wer hat gestern das Fußballspiel gewonnen?")
        .await;
    assert!(
        unknown.text().contains("weiß ich leider nicht"),
        "{}",
        unknown.text()
    );
    assert_eq!(types(&unknown.message), ["rich_text", "show_contact_form"]);
}

#[tokio::test]
async fn bad_sources_get_a_clear_error_and_change_nothing() {
    let server = empty_server();
    let api = Api::new(&server.base);
    let backend = api.backend();
    for (body, field) in [
        (
            json!({ "type": "website", "url": "ftp://example.com/" }),
            "url",
        ),
        (json!({ "type": "website", "url": "not a url" }), "url"),
        (
            json!({ "type": "website", "url": "https://example.com/", "max_pages": 0 }),
            "max_pages",
        ),
        (
            json!({ "type": "file", "filename": "a.md", "mime": "text/markdown", "data": "***" }),
            "data",
        ),
        (
            json!({ "type": "file", "filename": "a.md", "path": "/etc/passwd" }),
            "path",
        ),
        (
            json!({ "type": "qa", "question": "Hi?", "answer": " " }),
            "question and answer",
        ),
    ] {
        let (status, error) = backend
            .call(Method::POST, "/sources", Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {error}");
        assert_eq!(
            error["error"]["params"][0]["field"], field,
            "{body}: {error}"
        );
    }
    let (status, error) = backend
        .call(
            Method::POST,
            "/sources",
            Some(json!({ "type": "sitemap", "url": "https://example.com/" })),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    // A 50 MB file is refused before it is read.
    let big = "A".repeat(50 * 1024 * 1024);
    let (status, _) = backend
        .call(Method::POST, "/sources", Some(json!({ "type": "file", "filename": "big.pdf", "mime": "application/pdf", "data": big })))
        .await;
    assert_eq!(status, 413);
    // Not the API key: no sources.
    let (status, _) = api
        .backend_with("wrong")
        .call(Method::GET, "/sources", None)
        .await;
    assert_eq!(status, 401);
    let (_, list) = backend.call(Method::GET, "/sources", None).await;
    assert_eq!(list["sources"], json!([]));
}

#[tokio::test]
async fn curated_answers_and_files_added_through_the_api() {
    use base64::Engine as _;
    let server = empty_server();
    let api = Api::new(&server.base);
    let backend = api.backend();
    let qa = json!({ "type": "qa", "question": "Do you offer gift wrapping?", "answer": "Yes: gift wrapping costs 25 kr and you choose it at checkout." });
    let file = json!({
        "type": "file", "filename": "care.md", "mime": "text/markdown",
        "data": base64::engine::general_purpose::STANDARD.encode("# Caring for wool\n\nWash wool throws by hand in cold water and dry them flat.\n"),
    });
    let mut ids = vec![];
    for body in [qa, file] {
        let added = add(&backend, body).await;
        ids.push(added["source_id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        assert_eq!(synced(&backend, id, None).await["status"], "ready");
    }
    let visitor = api.visitor().await;
    let wrap = visitor.ask("Can you gift wrap my order?").await;
    assert!(wrap.text().contains("25 kr"), "{}", wrap.text());
    let wool = visitor.ask("How do I wash a wool throw?").await;
    assert!(wool.text().contains("cold water"), "{}", wool.text());
    // A file with no page of its own: cited by its title, without a link.
    assert_eq!(sources(&wool.message)[0].title, "Caring for wool");
    assert_eq!(sources(&wool.message)[0].url, "");
}

// ----- several instances on one PostgreSQL database -----

#[path = "common/mod.rs"]
mod common;

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_postgres_sync_once_and_answer_alike() {
    let Some(pg) = dgbot_testkit::postgres::Postgres::start() else {
        return;
    };
    let (site_base, site) = serve_site().await;
    let url = pg.database("knowledge");
    let env = [
        ("DGBOT_DATABASE_URL", url.as_str()),
        ("DGBOT_STREAM_DELAY_MS", "0"),
        ("DGBOT_LOG", "warn"),
    ];
    // Started together, as a deployment starts them: both put the configuration's sources.
    let (a, b) = std::thread::scope(|scope| {
        let start = |name: &'static str| {
            let env = &env;
            scope.spawn(move || {
                dgbot_testkit::release::ReleaseServer::start_with(common::BIN, name, env)
            })
        };
        let (a, b) = (start("knowledge-a"), start("knowledge-b"));
        (a.join().unwrap(), b.join().unwrap())
    });
    let (on_a, on_b) = (Api::new(&a.base), Api::new(&b.base));

    // Added on A, synced by one of them, answered on B with the same citation.
    let added = add(&on_a.backend(), website(format!("{site_base}/help/"))).await;
    let id = added["source_id"].as_str().unwrap().to_owned();
    let source = synced(&on_b.backend(), &id, None).await;
    assert_eq!(source["status"], "ready", "{source}");
    let fetched = |path: &str| {
        site.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.as_str() == path)
            .count()
    };
    assert_eq!(fetched("help/shipping"), 1, "one instance syncs a source");
    let visitor = on_b.visitor().await;
    let gift = visitor.ask("Do your gift cards expire?").await;
    assert!(gift.text().contains("never expire"), "{}", gift.text());
    // (The shipped demo shop knows about shipping too: the question names Iceland.)
    let answer = visitor.ask("Do you send parcels to Iceland?").await;
    assert!(answer.text().contains("12 days"), "{}", answer.text());
    assert_eq!(
        sources(&answer.message)[0].url,
        format!("{site_base}/help/shipping#to-iceland")
    );

    // Deleted on B: A no longer answers from it.
    let (status, _) = on_b
        .backend()
        .call(Method::DELETE, &format!("/sources/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let gone = on_a
        .visitor()
        .await
        .ask("Do you send parcels to Iceland?")
        .await;
    assert!(!gone.text().contains("12 days"), "{}", gone.text());
    assert!(
        sources(&gone.message)
            .iter()
            .all(|s| !s.url.starts_with(&site_base)),
        "{:?}",
        sources(&gone.message)
    );
}

#[tokio::test]
async fn a_site_is_synced_again_a_day_later_by_itself() {
    let (site_base, site) = serve_site().await;
    let clock = dgbot_server::model::Clock::manual_at("2026-12-07T10:00:00Z");
    let server = TestServer::builder()
        .chatbot(|c| {
            c.sources = vec![];
            c.livechat = None;
        })
        .configure(move |c| {
            c.clock = clock.clone();
            c.sources.policy.delay = std::time::Duration::ZERO;
            c.sources.poll = std::time::Duration::from_millis(100);
        })
        .start();
    let backend = Api::new(&server.base).backend();
    let added = add(&backend, website(format!("{site_base}/help/"))).await;
    let id = added["source_id"].as_str().unwrap().to_owned();
    let first = synced(&backend, &id, None).await;
    let fetched = || {
        site.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.as_str() == "help/shipping")
            .count()
    };
    assert_eq!(fetched(), 1);
    // An hour later nothing is due.
    server
        .state
        .config
        .clock
        .advance(std::time::Duration::from_secs(3600));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(fetched(), 1);
    // A day after the sync, the worker reads the site again (the page answers 304).
    site.version.store(1, Ordering::SeqCst);
    server
        .state
        .config
        .clock
        .advance(std::time::Duration::from_secs(24 * 3600));
    let again = synced(
        &backend,
        &id,
        first["last_synced_at"].as_str().map(str::to_owned),
    )
    .await;
    assert_eq!(again["status"], "ready");
    assert_eq!(fetched(), 2);
    let visitor = Api::new(&server.base).visitor().await;
    let iceland = visitor.ask("How long does shipping to Iceland take?").await;
    assert!(iceland.text().contains("3 days"), "{}", iceland.text());
}
