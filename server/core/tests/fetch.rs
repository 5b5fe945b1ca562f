//! The fetching layer of the knowledge (issue 26) against a small real website on 127.0.0.1:
//! crawling it (links, sitemap, robots.txt, redirects, PDFs, what is skipped and why, languages),
//! re-syncing it conditionally, page caps and path filters; and files, product feeds and URL
//! checks on their own, with malformed input.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use dgbot_core::knowledge::fetch::{self, FetchPolicy};
use dgbot_core::model::knowledge::{DocumentRecord, DocumentState, FeedFormat, MAX_FILE_BYTES};

/// What the site serves at a path.
#[derive(Clone)]
struct Resource {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    location: Option<String>,
    /// Sends an ETag and answers `If-None-Match` (most servers do; some do not).
    etag: bool,
}

fn page(content_type: &'static str, body: impl Into<Vec<u8>>) -> Resource {
    Resource {
        status: 200,
        content_type,
        body: body.into(),
        location: None,
        etag: true,
    }
}

fn html(body: &str) -> Resource {
    page("text/html; charset=utf-8", body)
}

fn redirect(to: String) -> Resource {
    Resource {
        status: 302,
        content_type: "text/plain",
        body: vec![],
        location: Some(to),
        etag: true,
    }
}

/// A website whose pages the test sets, and which logs every request: `(path?query, status)`.
#[derive(Default)]
struct Site {
    pages: Mutex<HashMap<String, Resource>>,
    log: Mutex<Vec<(String, u16)>>,
}

impl Site {
    fn set(&self, path: &str, resource: Resource) {
        self.pages.lock().unwrap().insert(path.into(), resource);
    }

    fn log(&self) -> Vec<(String, u16)> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

async fn serve(State(site): State<Arc<Site>>, uri: Uri, headers: HeaderMap) -> Response {
    let found = site.pages.lock().unwrap().get(uri.path()).cloned();
    let response = match found {
        None => (StatusCode::NOT_FOUND, "not here").into_response(),
        Some(r) => {
            let mut hasher = DefaultHasher::new();
            r.body.hash(&mut hasher);
            let etag = format!("\"{:x}\"", hasher.finish());
            let asked = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok());
            if r.etag && asked == Some(&etag) {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                let mut response = (
                    StatusCode::from_u16(r.status).unwrap(),
                    [(header::CONTENT_TYPE, r.content_type)],
                    r.body,
                )
                    .into_response();
                if r.etag {
                    let etag = etag.parse().unwrap();
                    response.headers_mut().insert(header::ETAG, etag);
                }
                if let Some(to) = r.location {
                    response
                        .headers_mut()
                        .insert(header::LOCATION, to.parse().unwrap());
                }
                response
            }
        }
    };
    let target = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    site.log
        .lock()
        .unwrap()
        .push((target, response.status().as_u16()));
    response
}

/// Serves `site` on 127.0.0.1; returns its origin (`http://127.0.0.1:port`).
async fn start(site: Arc<Site>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new().fallback(serve).with_state(site);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}")
}

fn policy() -> FetchPolicy {
    FetchPolicy {
        allow_private: true,
        delay: Duration::ZERO,
        timeout: Duration::from_secs(10),
        ..FetchPolicy::default()
    }
}

/// A one-page PDF with Helvetica text, one line per entry, with a correct cross-reference table.
fn pdf(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 12 Tf 72 720 Td 16 TL");
    for line in lines {
        content.push_str(&format!(" ({line}) Tj T*"));
    }
    content.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = vec![];
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{object}\nendobj\n", i + 1).bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    out
}

const FURNITURE: &str = r#"<header><nav><a href="/">Frontpage</a> <a href="/shipping#costs">Shipping</a>
    <a href="/da/levering">Dansk</a> <a href="/de/versand">Deutsch</a></nav></header>"#;
const FOOTER: &str = "<footer>© Nordlys ApS · CVR 12345678</footer>";

fn shipping_page(cost: &str) -> Resource {
    html(&format!(
        r#"<!doctype html><html lang="en"><head><title>Shipping | Nordlys</title></head><body>
        {FURNITURE}<main><h1>Shipping</h1><p>We ship lamps across the Nordic countries.</p>
        <h2 id="costs">What does shipping cost?</h2><p>Shipping costs {cost}, free over 500 kr.</p>
        <h2 id="abroad">Outside the EU</h2><p>We do not ship outside the European Union yet.</p>
        <a href="/?utm_source=newsletter">Back home</a></main>{FOOTER}</body></html>"#
    ))
}

/// The shop's site: see each page's comment.
fn shop(site: &Site, origin: &str) {
    site.set(
        "/robots.txt",
        page(
            "text/plain",
            format!("User-agent: *\nDisallow: /private/\n\nSitemap: {origin}/sitemap.xml\n"),
        ),
    );
    // Lists a page nothing links to.
    site.set(
        "/sitemap.xml",
        page(
            "application/xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
                <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
                <url><loc>{origin}/</loc></url><url><loc>{origin}/gift-cards</loc></url>
                <url><loc>https://elsewhere.example/page</loc></url></urlset>"#
            ),
        ),
    );
    site.set(
        "/",
        html(&format!(
            r#"<!doctype html><html lang="en"><head><title>Nordlys Lamps</title></head><body>
            {FURNITURE}<main><h1>Nordlys Lamps</h1>
            <h2 id="about">About us</h2><p>We design and sell handmade lamps in Copenhagen.</p>
            <ul><li><a href="shipping">Shipping</a></li><li><a href="/private/staff">Staff</a></li>
            <li><a href="/files/prices.pdf">Price list</a></li><li><a href="/files/catalogue.zip">All photos</a></li>
            <li><a href="/discontinued">Old lamps</a></li><li><a href="/partner">Our partner</a></li>
            <li><a href="/old-shipping">Delivery</a></li><li><a href="/excluded/drafts">Drafts</a></li>
            <li><a href="/huge">Everything</a></li><li><a href="mailto:hej@nordlys.dk">Mail us</a></li>
            <li><a href="https://elsewhere.example/">Elsewhere</a></li></ul></main>{FOOTER}</body></html>"#
        )),
    );
    site.set("/shipping", shipping_page("49 kr"));
    // Declared Danish, in windows-1252 as older Danish sites are.
    let danish = r#"<html lang="da"><head><meta charset="windows-1252"><title>Levering</title></head>
        <body><main><h1>Levering</h1><h2 id="fragt">Hvad koster fragten?</h2>
        <p>Fragten koster 49 kroner, og den er gratis over 500 kroner. Vi sender med PostNord til hele Danmark, og pakken er fremme på to til fire hverdage.</p>
        </main></body></html>"#;
    site.set(
        "/da/levering",
        page(
            "text/html",
            danish.chars().map(|c| c as u8).collect::<Vec<u8>>(),
        ),
    );
    // German, declared nowhere.
    site.set(
        "/de/versand",
        html(
            r#"<html><head><title>Versand</title></head><body><main><h1>Versand</h1>
            <p>Der Versand nach Deutschland dauert drei bis fünf Werktage und kostet nichts, wenn die Bestellung über fünfzig Euro liegt.</p></main></body></html>"#,
        ),
    );
    // Served without validators: a re-sync compares its body's hash.
    site.set(
        "/gift-cards",
        Resource {
            etag: false,
            ..html(
                "<html><title>Gift cards</title><body><main><h1>Gift cards</h1>\
                 <p>Our gift cards never expire.</p></main></body></html>",
            )
        },
    );
    site.set("/private/staff", html("<p>Staff only: the alarm code.</p>"));
    site.set(
        "/files/prices.pdf",
        page(
            "application/pdf",
            pdf(&["Price list 2025", "The Aurora pendant costs 1299 kroner."]),
        ),
    );
    site.set(
        "/files/catalogue.zip",
        page("application/zip", b"PK\x03\x04".to_vec()),
    );
    // The same server under another host name: a followed redirect would show in the log.
    let port = origin.rsplit(':').next().unwrap();
    site.set(
        "/partner",
        redirect(format!("http://localhost:{port}/partner-page")),
    );
    site.set("/old-shipping", redirect(format!("{origin}/shipping")));
    site.set("/excluded/drafts", html("<main><p>Draft text.</p></main>"));
    site.set("/huge", html(&"<p>lamp</p>".repeat(MAX_FILE_BYTES / 10)));
}

fn by_url<'a>(docs: &'a [DocumentRecord], origin: &str, path: &str) -> &'a DocumentRecord {
    let url = format!("{origin}{path}");
    docs.iter()
        .find(|d| d.url == url)
        .unwrap_or_else(|| panic!("no document {url} in {:#?}", urls(docs)))
}

fn urls(docs: &[DocumentRecord]) -> Vec<&str> {
    docs.iter().map(|d| d.url.as_str()).collect()
}

fn all_text(doc: &DocumentRecord) -> String {
    doc.passages
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_site_is_crawled_politely_and_resynced_conditionally() {
    let site = Arc::new(Site::default());
    let origin = start(site.clone()).await;
    shop(&site, &origin);
    let policy = policy();
    let http = fetch::client(&policy).unwrap();
    let exclude = ["/excluded/".to_owned()];
    let start = format!("{origin}/");
    let docs = fetch::website(&http, &start, None, &[], &exclude, &[], &policy)
        .await
        .unwrap();
    let port = origin.rsplit(':').next().unwrap();
    let log = site.log();
    let requested: Vec<&str> = log.iter().map(|(p, _)| p.as_str()).collect();

    // One document per page, once each (`#costs`, `?utm_source` and `/old-shipping` are the
    // pages already read).
    let mut unique = urls(&docs);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), docs.len(), "{:#?}", urls(&docs));
    assert!(
        !urls(&docs)
            .iter()
            .any(|u| u.contains("utm_") || u.contains('#'))
    );
    assert!(!urls(&docs).iter().any(|u| u.ends_with("/old-shipping")));

    let home = by_url(&docs, &origin, "/");
    assert_eq!(home.state, DocumentState::Ok);
    assert_eq!(home.passages[0].heading, "Nordlys Lamps › About us");
    assert_eq!(home.passages[0].anchor.as_deref(), Some("about"));
    assert_eq!(home.passages[0].lang, "en");
    assert!(home.etag.is_some() && home.hash.is_some());

    let shipping = by_url(&docs, &origin, "/shipping");
    let costs = shipping
        .passages
        .iter()
        .find(|p| p.anchor.as_deref() == Some("costs"))
        .unwrap();
    assert_eq!(
        costs.heading,
        "Shipping | Nordlys › Shipping › What does shipping cost?"
    );
    assert_eq!(costs.text, "Shipping costs 49 kr, free over 500 kr.");
    for doc in &docs {
        let text = all_text(doc);
        assert!(
            !text.contains("CVR") && !text.contains("Frontpage"),
            "{}: {text}",
            doc.url
        );
    }

    let danish = by_url(&docs, &origin, "/da/levering");
    assert!(
        all_text(danish).contains("gratis over 500 kroner"),
        "{}",
        all_text(danish)
    );
    assert!(
        all_text(danish).contains("fremme på to"),
        "windows-1252 decoded"
    );
    assert!(danish.passages.iter().all(|p| p.lang == "da"));
    let german = by_url(&docs, &origin, "/de/versand");
    assert!(german.passages.iter().all(|p| p.lang == "de"));

    // In the sitemap only.
    assert!(all_text(by_url(&docs, &origin, "/gift-cards")).contains("never expire"));

    let prices = by_url(&docs, &origin, "/files/prices.pdf");
    assert_eq!(prices.state, DocumentState::Ok, "{:?}", prices.error);
    assert!(
        all_text(prices).contains("Aurora pendant costs 1299"),
        "{}",
        all_text(prices)
    );
    assert_eq!(prices.passages[0].anchor.as_deref(), Some("page=1"));

    let skipped = |path: &str| {
        let doc = by_url(&docs, &origin, path);
        (doc.state, doc.error.clone().unwrap_or_default())
    };
    assert_eq!(
        skipped("/private/staff"),
        (DocumentState::Skipped, "forbidden by robots.txt".into())
    );
    assert_eq!(
        skipped("/files/catalogue.zip"),
        (DocumentState::Skipped, "not HTML (application/zip)".into())
    );
    assert_eq!(
        skipped("/discontinued"),
        (DocumentState::Failed, "HTTP 404".into())
    );
    assert_eq!(
        skipped("/partner"),
        (
            DocumentState::Skipped,
            format!("redirected to another host (http://localhost:{port}/partner-page)")
        )
    );
    assert_eq!(
        skipped("/huge"),
        (DocumentState::Skipped, "larger than 10 MB".into())
    );

    // Never asked for: robots.txt's, the owner's exclusions, other hosts, a redirect's target.
    for path in ["/private/staff", "/excluded/drafts", "/partner-page"] {
        assert!(
            !requested.iter().any(|r| r.starts_with(path)),
            "{path} in {requested:?}"
        );
    }
    assert!(!urls(&docs).iter().any(|u| u.contains("elsewhere")));
    assert_eq!(requested[0], "/robots.txt");
    let mut once = requested.clone();
    once.sort();
    once.dedup();
    assert_eq!(
        once.len(),
        requested.len(),
        "a page asked for twice: {requested:?}"
    );

    // The second sync: only /shipping changed.
    site.set("/shipping", shipping_page("39 kr"));
    let again = fetch::website(&http, &start, None, &[], &exclude, &docs, &policy)
        .await
        .unwrap();
    let log = site.log();
    let status = |path: &str| log.iter().find(|(p, _)| p == path).map(|(_, s)| *s);
    let gift_cards = by_url(&again, &origin, "/gift-cards");
    assert_eq!(status("/gift-cards"), Some(200));
    assert_eq!(gift_cards, by_url(&docs, &origin, "/gift-cards"));
    for unchanged in ["/", "/da/levering", "/de/versand", "/files/prices.pdf"] {
        assert_eq!(status(unchanged), Some(304), "{unchanged}: {log:?}");
        assert_eq!(
            by_url(&again, &origin, unchanged),
            by_url(&docs, &origin, unchanged),
            "{unchanged} reused"
        );
    }
    assert_eq!(status("/shipping"), Some(200));
    let shipping = by_url(&again, &origin, "/shipping");
    assert!(all_text(shipping).contains("Shipping costs 39 kr"));
    assert!(!all_text(shipping).contains("49 kr"));
    assert_ne!(shipping.hash, by_url(&docs, &origin, "/shipping").hash);
}

#[tokio::test]
async fn page_caps_and_path_filters() {
    let site = Arc::new(Site::default());
    let origin = start(site.clone()).await;
    shop(&site, &origin);
    let policy = policy();
    let http = fetch::client(&policy).unwrap();
    let start = format!("{origin}/");

    let docs = fetch::website(&http, &start, Some(3), &[], &[], &[], &policy)
        .await
        .unwrap();
    assert_eq!(docs.len(), 3, "{:?}", urls(&docs));
    assert_eq!(docs[0].url, start);
    let pages = site
        .log()
        .iter()
        .filter(|(p, _)| p != "/robots.txt" && p != "/sitemap.xml")
        .count();
    assert!(pages <= 3, "{pages} pages requested");

    // Only Danish pages: the start page is read for its links, and is not a document.
    let docs = fetch::website(&http, &start, None, &["/da/".into()], &[], &[], &policy)
        .await
        .unwrap();
    assert_eq!(urls(&docs), [format!("{origin}/da/levering")]);
    assert!(!site.log().iter().any(|(p, _)| p == "/shipping"));
}

#[tokio::test]
async fn robots_crawl_delay_paces_the_requests() {
    let site = Arc::new(Site::default());
    let origin = start(site.clone()).await;
    site.set(
        "/robots.txt",
        page("text/plain", "User-agent: dgbot\nCrawl-delay: 0.3\n"),
    );
    site.set("/", html(r#"<main><p>Home.</p><a href="/a">A</a></main>"#));
    site.set("/a", html("<main><p>A page.</p></main>"));
    let policy = policy();
    let http = fetch::client(&policy).unwrap();
    let began = std::time::Instant::now();
    let docs = fetch::website(&http, &format!("{origin}/"), None, &[], &[], &[], &policy)
        .await
        .unwrap();
    assert_eq!(docs.len(), 2);
    // robots.txt, /, /sitemap.xml, /a: three pauses.
    assert_eq!(site.log().len(), 4);
    assert!(
        began.elapsed() >= Duration::from_millis(900),
        "{:?}",
        began.elapsed()
    );
}

#[tokio::test]
async fn a_source_fails_as_a_whole_with_a_reason() {
    let site = Arc::new(Site::default());
    let origin = start(site.clone()).await;
    let policy = policy();
    let http = fetch::client(&policy).unwrap();
    let err = fetch::website(
        &http,
        &format!("{origin}/nothing"),
        None,
        &[],
        &[],
        &[],
        &policy,
    )
    .await
    .unwrap_err();
    assert!(err.contains("HTTP 404"), "{err}");

    site.set("/", html("<main><p>Hello.</p></main>"));
    site.set(
        "/robots.txt",
        page("text/plain", "User-agent: *\nDisallow: /\n"),
    );
    let err = fetch::website(&http, &format!("{origin}/"), None, &[], &[], &[], &policy)
        .await
        .unwrap_err();
    assert!(
        err.contains("robots.txt") && err.contains("forbids dgbot"),
        "{err}"
    );

    site.set("/robots.txt", page("text/plain", ""));
    site.set("/", redirect("https://elsewhere.example/".into()));
    let err = fetch::website(&http, &format!("{origin}/"), None, &[], &[], &[], &policy)
        .await
        .unwrap_err();
    assert!(err.contains("redirected to another host"), "{err}");

    let production = FetchPolicy::default();
    let err = fetch::website(
        &http,
        &format!("{origin}/"),
        None,
        &[],
        &[],
        &[],
        &production,
    )
    .await
    .unwrap_err();
    assert!(err.contains("loopback"), "{err}");
}

#[tokio::test]
async fn urls_are_checked_before_anything_is_fetched() {
    let production = FetchPolicy::default();
    let refused = |url: &'static str| {
        let policy = production.clone();
        async move { fetch::check_url(url, &policy).await.unwrap_err() }
    };
    assert!(
        refused("ftp://example.com/a")
            .await
            .contains("only http:// and https://")
    );
    assert!(refused("not a url").await.contains("not a URL"));
    assert!(
        refused("https://me:secret@example.com/")
            .await
            .contains("password")
    );
    let loopback = refused("http://127.0.0.1:8080/").await;
    assert!(
        loopback.contains("a loopback address (127.0.0.1)"),
        "{loopback}"
    );
    assert!(refused("http://localhost/").await.contains("loopback"));
    assert!(
        refused("http://10.0.0.1/")
            .await
            .contains("a private address")
    );
    assert!(
        refused("https://192.168.1.20/admin")
            .await
            .contains("a private address")
    );
    assert!(
        refused("http://169.254.169.254/latest/")
            .await
            .contains("link-local")
    );
    assert!(refused("http://[::1]/").await.contains("loopback"));
    let public = fetch::check_url("https://93.184.216.34/shop?x=1", &production)
        .await
        .unwrap();
    assert_eq!(public.as_str(), "https://93.184.216.34/shop?x=1");
    let dev = FetchPolicy {
        allow_private: true,
        ..FetchPolicy::default()
    };
    assert!(
        fetch::check_url("http://127.0.0.1:8080/", &dev)
            .await
            .is_ok()
    );
    assert!(fetch::check_url("ftp://127.0.0.1/", &dev).await.is_err());
}

#[test]
fn files_of_each_kind() {
    let md = "# Opening hours\nkeywords: open, hours, weekend\nurl: https://nordlys.dk/hours\n\n\
              Our store is open Monday to Friday.\n\n## Holidays\n\nClosed on public holidays.\n";
    let doc = fetch::file("opening-hours.md", "", md.as_bytes(), None).unwrap();
    assert_eq!(
        (doc.url.as_str(), doc.title.as_str()),
        ("https://nordlys.dk/hours", "Opening hours")
    );
    assert_eq!(doc.passages.len(), 2);
    assert!(
        doc.passages
            .iter()
            .all(|p| p.keywords == "open, hours, weekend")
    );
    assert!(!all_text(&doc).contains("keywords") && !all_text(&doc).contains("url:"));
    assert_eq!(doc.passages[1].heading, "Opening hours › Holidays");
    assert_eq!(doc.passages[1].anchor.as_deref(), Some("holidays"));
    let given = fetch::file(
        "hours.md",
        "text/markdown",
        md.as_bytes(),
        Some("https://x.dk/h"),
    )
    .unwrap();
    assert_eq!(given.url, "https://x.dk/h");

    let page = "<html lang=\"da\"><title>Retur</title><nav>Menu</nav><main><h1>Retur</h1>\
                <p>Du kan returnere varer inden for 30 dage.</p></main></html>";
    let doc = fetch::file("retur.html", "text/html", page.as_bytes(), None).unwrap();
    assert_eq!(
        (doc.url.as_str(), doc.title.as_str()),
        ("file:retur.html", "Retur")
    );
    assert_eq!(all_text(&doc), "Du kan returnere varer inden for 30 dage.");
    assert_eq!(doc.passages[0].lang, "da");

    let text = b"We answer the phone from 9 to 17.\n\nOn Saturdays we answer e-mail only \xff.";
    let doc = fetch::file("phone-hours.txt", "text/plain", text, None).unwrap();
    assert_eq!(
        (doc.url.as_str(), doc.title.as_str()),
        ("file:phone-hours.txt", "phone hours")
    );
    assert!(all_text(&doc).contains("e-mail only \u{fffd}."));

    let bytes = pdf(&["Warranty", "Every lamp has a five year warranty."]);
    let doc = fetch::file("warranty.pdf", "application/pdf", &bytes, None).unwrap();
    assert!(
        all_text(&doc).contains("five year warranty"),
        "{}",
        all_text(&doc)
    );
    assert!(doc.hash.is_some());

    let big = vec![b'a'; 55_000_000];
    let err = fetch::file("manual.txt", "text/plain", &big, None).unwrap_err();
    assert_eq!(err, "manual.txt is 52.5 MB; the limit is 10 MB");
    let err = fetch::file("photos.zip", "application/zip", b"PK\x03\x04", None).unwrap_err();
    assert!(
        err.contains("application/zip") && err.contains("Markdown"),
        "{err}"
    );
    let err = fetch::file("empty.md", "", b"# Title only\n", None).unwrap_err();
    assert!(err.contains("no text"), "{err}");
    let err = fetch::file("broken.pdf", "", b"%PDF-1.4 not really", None).unwrap_err();
    assert!(err.contains("not a readable PDF"), "{err}");
    // Any cut of a PDF is an answer, not a panic.
    for cut in (0..bytes.len()).step_by(37) {
        let _ = fetch::file("cut.pdf", "application/pdf", &bytes[..cut], None);
    }
}

const SHOPIFY: &str = r#"{"products":[
  {"id":7001,"title":"Aurora pendant","handle":"aurora-pendant","body_html":"<p>Hand-blown <b>opal</b> glass.</p><p>E27.</p>",
   "product_type":"Pendants","vendor":"Nordlys","tags":["glass","pendant"],
   "variants":[{"price":"1499.00"},{"price":"1299.00"}],"images":[{"src":"//cdn.shop.dk/aurora.jpg"}]},
  {"id":7002,"title":"No price","handle":"no-price","variants":[]},
  {"id":"7003","title":"Birk floor lamp","handle":"birk","tags":"oak, floor","variants":[{"price":899}],"images":[]}
]}"#;

const MERCHANT: &str = r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>Nordlys</title>
<item><g:id>A1</g:id><title>Aurora pendant</title><g:description><![CDATA[Opal glass &amp; brass.]]></g:description>
  <g:link>https://nordlys.dk/p/aurora</g:link><g:image_link>https://nordlys.dk/i/aurora.jpg</g:image_link>
  <g:price>1299.00 DKK</g:price><g:product_type>Home &gt; Lighting &gt; Pendants</g:product_type><g:brand>Nordlys</g:brand></item>
<item><g:id>B2</g:id><g:title>Birk floor lamp</g:title><g:link>/p/birk</g:link><g:price>EUR 119,95</g:price></item>
<item><g:id>C3</g:id><g:title>Price missing</g:title></item>
</channel></rss>"#;

#[test]
fn product_feeds_in_three_formats() {
    let items = fetch::products(
        FeedFormat::Shopify,
        SHOPIFY.as_bytes(),
        "https://shop.dk/products.json",
    )
    .unwrap();
    assert_eq!(items.len(), 2);
    let aurora = &items[0];
    assert_eq!((aurora.id.as_str(), aurora.price), ("7001", 1299.0));
    assert_eq!(aurora.url, "https://shop.dk/products/aurora-pendant");
    assert_eq!(
        aurora.image.as_deref(),
        Some("https://cdn.shop.dk/aurora.jpg")
    );
    assert_eq!(aurora.category, "Pendants");
    assert_eq!(aurora.keywords, ["glass", "pendant", "Nordlys"]);
    assert_eq!(
        aurora.description.as_deref(),
        Some("Hand-blown opal glass. E27.")
    );
    assert_eq!((items[1].id.as_str(), items[1].price), ("7003", 899.0));
    assert_eq!(items[1].keywords, ["oak", "floor"]);

    let items = fetch::products(
        FeedFormat::GoogleMerchant,
        MERCHANT.as_bytes(),
        "https://nordlys.dk/feed.xml",
    )
    .unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (
            items[0].title.as_str(),
            items[0].price,
            items[0].currency.as_str()
        ),
        ("Aurora pendant", 1299.0, "DKK")
    );
    assert_eq!(items[0].category, "Pendants");
    assert_eq!(items[0].description.as_deref(), Some("Opal glass & brass."));
    assert_eq!(
        items[0].image.as_deref(),
        Some("https://nordlys.dk/i/aurora.jpg")
    );
    assert_eq!(items[0].keywords, ["Nordlys"]);
    assert_eq!(
        (items[1].price, items[1].currency.as_str()),
        (119.95, "EUR")
    );
    assert_eq!(items[1].url, "https://nordlys.dk/p/birk");

    let json = r#"[{"id":"aurora","title":"Aurora","category":"lamps","price":1299,"url":"/p/aurora","image":"/i/a.jpg"}]"#;
    let items = fetch::products(
        FeedFormat::Json,
        json.as_bytes(),
        "https://nordlys.dk/catalogue.json",
    )
    .unwrap();
    assert_eq!(items[0].url, "https://nordlys.dk/p/aurora");
    assert_eq!(items[0].currency, "DKK");
    let on_disk = fetch::products(FeedFormat::Json, json.as_bytes(), "").unwrap();
    assert_eq!(on_disk[0].url, "/p/aurora");

    for (format, bad) in [
        (FeedFormat::Shopify, "not json"),
        (FeedFormat::Shopify, r#"{"products": 5}"#),
        (
            FeedFormat::GoogleMerchant,
            "<rss><channel><item><g:id>1</g:id>",
        ),
        (
            FeedFormat::GoogleMerchant,
            "<rss><item><g:id>1</g:id></wrong></rss>",
        ),
        (
            FeedFormat::GoogleMerchant,
            "<rss><item><g:id>1</g:id></item></rss>",
        ),
        (FeedFormat::Json, r#"{"id": "a"}"#),
        (
            FeedFormat::Json,
            r#"[{"id":"a","title":"A","price":1,"url":"/a","colour":"red"}]"#,
        ),
    ] {
        assert!(
            fetch::products(format, bad.as_bytes(), "").is_err(),
            "{format:?}: {bad}"
        );
    }
    for format in [
        FeedFormat::Shopify,
        FeedFormat::GoogleMerchant,
        FeedFormat::Json,
    ] {
        for bytes in [
            &b"\xff\xfe\x00<"[..],
            b"",
            b"<<<>>>&&&",
            b"[{]",
            b"{\"products\":[{\"variants\":[{}]}]}",
        ] {
            let _ = fetch::products(format, bytes, "::");
        }
    }
}

#[tokio::test]
async fn a_feed_is_fetched_as_one_document() {
    let site = Arc::new(Site::default());
    let origin = start(site.clone()).await;
    site.set("/products.json", page("application/json", SHOPIFY));
    let policy = policy();
    let http = fetch::client(&policy).unwrap();
    let url = format!("{origin}/products.json");
    let doc = fetch::product_feed(&http, &url, FeedFormat::Shopify, &policy)
        .await
        .unwrap();
    assert_eq!(doc.url, url);
    assert_eq!(doc.products.len(), 2);
    assert_eq!(
        doc.products[0].url,
        format!("{origin}/products/aurora-pendant")
    );
    assert_eq!(
        site.log(),
        [("/products.json?limit=250&page=1".to_owned(), 200)]
    );
    let err = fetch::product_feed(
        &http,
        &format!("{origin}/feed.xml"),
        FeedFormat::GoogleMerchant,
        &policy,
    )
    .await
    .unwrap_err();
    assert!(err.contains("HTTP 404"), "{err}");
}

#[test]
fn curated_answers() {
    let doc = fetch::qa(
        "Kan jeg hente min ordre i butikken?",
        "Ja, i Værkstedsgade 4 alle hverdage.",
    );
    assert_eq!(doc.url, "qa:kan-jeg-hente-min-ordre-i-butikken");
    assert_eq!(doc.passages.len(), 1);
    assert_eq!(
        doc.passages[0].keywords,
        "Kan jeg hente min ordre i butikken?"
    );
    assert_eq!(doc.passages[0].lang, "da");
}
