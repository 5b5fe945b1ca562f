//! A website source: a polite crawl of one site, within the start URL's host and directory.
//!
//! The order of work: robots.txt (an answer in the 500s, or no answer, fails the source; a 404
//! allows everything); the start page, whose own redirects may move the crawl to the site's
//! `www.`/https spelling or another directory of the same host; then breadth first from the
//! start page's links, then the pages of `/sitemap.xml` and of robots.txt's `Sitemap:` lines,
//! then the pages the last sync read (`previous`). One request at a time, `delay` apart (or
//! robots.txt's `Crawl-delay`, up to 10 s), at most `max_pages` documents.
//!
//! Re-syncing is conditional: a page the last sync read is asked for with its `ETag` and
//! `Last-Modified`; on `304 Not Modified`, or a body whose SHA-256 is the one kept, the previous
//! document is kept as it was. A 304 has no body, so its links are not read again: the pages it
//! links to are still reached, as the last sync's pages are seeds and the sitemap lists the
//! site's new ones; a new page linked only from an unchanged page, and in no sitemap, waits
//! until that page changes. A page the last sync could not read is not a seed, so a page that
//! was removed from the site is reported once ("HTTP 404") and then forgotten.
//!
//! Every page the crawl reaches becomes one document: `ok`, `failed` (HTTP 404, timed out…) or
//! `skipped` (forbidden by robots.txt, not HTML, larger than 10 MB, redirected to another host,
//! no text, the same page as another). PDFs linked from the site are read as files.

use std::collections::{HashMap, HashSet, VecDeque};

use reqwest::{Response, StatusCode, Url};

use super::FetchPolicy;
use super::document::{failed, page_document, skipped, title_from};
use super::file::pdf_document;
use super::guard::check_url;
use super::http::{
    BodyError, Session, body, content_type, decode, hash, location, megabytes, retry_after, sniff,
    validators,
};
use super::robots::Robots;
use super::scope::{Scope, canonical, links};
use super::sitemap;
use crate::knowledge::extract;
use crate::model::knowledge::{
    DEFAULT_MAX_PAGES, DocumentRecord, DocumentState, MAX_FILE_BYTES, MAX_PAGES,
};

/// Redirects followed for one page.
const MAX_REDIRECTS: usize = 5;
/// URLs waiting at most (a site of endless links stops growing the queue here).
const MAX_QUEUE: usize = 50_000;

/// Crawls a website source (see the module docs). `Err` only when the whole source fails: the
/// URL is refused by [`check_url`], the site does not answer, its robots.txt answers with an
/// error or forbids the start page, or the start page fails or leads to another host.
pub async fn website(
    http: &reqwest::Client,
    url: &str,
    max_pages: Option<u32>,
    include: &[String],
    exclude: &[String],
    previous: &[DocumentRecord],
    policy: &FetchPolicy,
) -> Result<Vec<DocumentRecord>, String> {
    let requested = check_url(url, policy).await?;
    let limit = max_pages.unwrap_or(DEFAULT_MAX_PAGES).clamp(1, MAX_PAGES) as usize;
    let mut session = Session::new(http, policy);
    let robots = Robots::fetch(&mut session, &requested).await?;
    let mut crawl = Crawl {
        session,
        scope: Scope::new(&requested, include, exclude),
        robots,
        include,
        exclude,
        previous: previous
            .iter()
            .filter(|d| d.hash.is_some())
            .map(|d| (d.url.clone(), d))
            .collect(),
        hashes: HashMap::new(),
        visited: HashSet::new(),
        queue: VecDeque::new(),
    };
    let start = canonical(&requested);
    crawl.visited.insert(start.to_string());
    let mut docs = vec![];
    match crawl.visit(start, true).await {
        Visit::Refused(doc) => {
            return Err(format!("{url} could not be read: {}", reason(&doc)));
        }
        Visit::Page { doc, .. } if doc.state == DocumentState::Failed => {
            return Err(format!("{url} could not be read: {}", reason(&doc)));
        }
        Visit::Page { url, doc, links } => {
            if crawl.scope.wanted(&url) {
                docs.push(doc);
            }
            crawl.enqueue(links);
        }
        Visit::Elsewhere => return Err(format!("{url} redirects in a loop")),
    }
    let mut sitemaps = vec![crawl.scope.origin().join("/sitemap.xml").expect("a path")];
    sitemaps.extend(crawl.robots.sitemaps.iter().cloned());
    let scope = &crawl.scope;
    let listed = sitemap::pages(
        &mut crawl.session,
        sitemaps,
        |u| scope.same_host(u),
        limit * 4,
    )
    .await;
    crawl.enqueue(listed);
    let seeds: Vec<Url> = previous
        .iter()
        .filter(|d| d.hash.is_some())
        .filter_map(|d| Url::parse(&d.url).ok())
        .collect();
    crawl.enqueue(seeds);
    while docs.len() < limit {
        let Some(next) = crawl.queue.pop_front() else {
            break;
        };
        match crawl.visit(next, false).await {
            Visit::Page { doc, links, .. } => {
                docs.push(doc);
                crawl.enqueue(links);
            }
            Visit::Refused(doc) => docs.push(doc),
            Visit::Elsewhere => {}
        }
    }
    Ok(docs)
}

fn reason(doc: &DocumentRecord) -> &str {
    doc.error.as_deref().unwrap_or("no reason given")
}

/// What visiting one URL gave.
enum Visit {
    /// A document (of any state) under its final URL, and the links it holds.
    Page {
        url: Url,
        doc: DocumentRecord,
        links: Vec<Url>,
    },
    /// Not read, on the site's word or the crawl's rules (robots.txt, a redirect away).
    Refused(DocumentRecord),
    /// Redirected to a page the crawl reads anyway.
    Elsewhere,
}

struct Crawl<'a> {
    session: Session<'a>,
    scope: Scope,
    robots: Robots,
    include: &'a [String],
    exclude: &'a [String],
    /// The last sync's documents that were read, by URL.
    previous: HashMap<String, &'a DocumentRecord>,
    /// Bodies read, by hash: the first URL that had each.
    hashes: HashMap<String, String>,
    /// URLs queued or read.
    visited: HashSet<String>,
    queue: VecDeque<Url>,
}

impl<'a> Crawl<'a> {
    fn enqueue(&mut self, urls: Vec<Url>) {
        for url in urls {
            if self.queue.len() >= MAX_QUEUE {
                return;
            }
            if let Some(url) = self.scope.admit(&url)
                && self.scope.wanted(&url)
                && self.visited.insert(url.to_string())
            {
                self.queue.push_back(url);
            }
        }
    }

    /// Reads one page, following its redirects on the same host. The start page's redirects
    /// may also move the crawl (see the module docs).
    async fn visit(&mut self, mut url: Url, start: bool) -> Visit {
        let mut hops = 0;
        let mut retried = false;
        loop {
            if !self.robots.allowed(&url) {
                return Visit::Refused(skipped(url.as_str(), "forbidden by robots.txt"));
            }
            let previous: Option<&'a DocumentRecord> = self.previous.get(url.as_str()).copied();
            let conditional = previous.map(|d| (&d.etag, &d.last_modified));
            let response = match self.session.get(&url, conditional).await {
                Ok(response) => response,
                Err(e) => return self.page(url.clone(), failed(url.as_str(), e), vec![]),
            };
            if !self.scope.same_host(response.url()) {
                // A client that follows redirects by itself went elsewhere.
                let to = response.url().to_string();
                return Visit::Refused(skipped(
                    url.as_str(),
                    format!("redirected to another host ({to})"),
                ));
            }
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let Some(target) = location(&response) else {
                    let error = format!("HTTP {} without a Location", status.as_u16());
                    return self.page(url.clone(), failed(url.as_str(), error), vec![]);
                };
                hops += 1;
                if hops > MAX_REDIRECTS {
                    return self.page(
                        url.clone(),
                        failed(url.as_str(), "too many redirects"),
                        vec![],
                    );
                }
                if start && let Err(e) = self.rehome(&target).await {
                    return Visit::Refused(skipped(url.as_str(), e));
                }
                let Some(target) = self.scope.admit(&target) else {
                    let why = if self.scope.same_host(&target) {
                        format!("redirected out of the crawled part of the site ({target})")
                    } else {
                        format!("redirected to another host ({target})")
                    };
                    return Visit::Refused(skipped(url.as_str(), why));
                };
                if !self.visited.insert(target.to_string()) && !start {
                    return Visit::Elsewhere;
                }
                url = target;
                continue;
            }
            if status == StatusCode::NOT_MODIFIED
                && let Some(previous) = previous
            {
                if let Some(h) = &previous.hash {
                    self.hashes
                        .entry(h.clone())
                        .or_insert_with(|| url.to_string());
                }
                return self.page(url, previous.clone(), vec![]);
            }
            if status == StatusCode::TOO_MANY_REQUESTS && !retried {
                retried = true;
                tokio::time::sleep(retry_after(&response)).await;
                self.session.slow_down(self.session.policy.delay * 4);
                continue;
            }
            if !status.is_success() {
                let error = format!("HTTP {}", status.as_u16());
                return self.page(url.clone(), failed(url.as_str(), error), vec![]);
            }
            return self.read(url, response, previous).await;
        }
    }

    fn page(&self, url: Url, mut doc: DocumentRecord, links: Vec<Url>) -> Visit {
        doc.url = url.to_string();
        Visit::Page { url, doc, links }
    }

    /// The start page redirected: the crawl now reads the redirect's host (the same site's
    /// `www.` or bare spelling, or the other scheme) and directory.
    async fn rehome(&mut self, target: &Url) -> Result<(), String> {
        let same_site = target
            .host_str()
            .zip(Some(self.scope.host()))
            .is_some_and(|(a, b)| {
                let bare = |h: &str| h.trim_start_matches("www.").to_ascii_lowercase();
                bare(a) == bare(b)
            });
        if !same_site {
            return Ok(()); // refused by the caller: another host
        }
        let moved = target.origin() != self.scope.origin().origin();
        if moved {
            check_url(target.as_str(), self.session.policy).await?;
            self.robots = Robots::fetch(&mut self.session, target).await?;
        }
        self.scope = Scope::new(target, self.include, self.exclude);
        Ok(())
    }

    /// A successful answer's body, as a document: HTML (its links too), PDF, or skipped.
    async fn read(
        &mut self,
        url: Url,
        mut response: Response,
        previous: Option<&DocumentRecord>,
    ) -> Visit {
        let (mime, charset) = content_type(&response);
        let (etag, last_modified) = validators(&response);
        let readable =
            |m: &str| matches!(m, "text/html" | "application/xhtml+xml" | "application/pdf");
        if let Some(mime) = mime.as_deref()
            && !readable(mime)
        {
            return self.page(
                url.clone(),
                skipped(url.as_str(), format!("not HTML ({mime})")),
                vec![],
            );
        }
        let bytes = match body(&mut response, MAX_FILE_BYTES).await {
            Ok(bytes) => bytes,
            Err(BodyError::TooLarge) => {
                let error = format!("larger than {}", megabytes(MAX_FILE_BYTES));
                return self.page(url.clone(), skipped(url.as_str(), error), vec![]);
            }
            Err(BodyError::Failed(e)) => {
                return self.page(url.clone(), failed(url.as_str(), e), vec![]);
            }
        };
        let mime = mime.unwrap_or_else(|| sniff(&bytes).to_owned());
        if !readable(&mime) {
            return self.page(
                url.clone(),
                skipped(url.as_str(), format!("not HTML ({mime})")),
                vec![],
            );
        }
        let hash = hash(&bytes);
        if let Some(first) = self.hashes.get(&hash) {
            let error = format!("the same page as {first}");
            return self.page(url.clone(), skipped(url.as_str(), error), vec![]);
        }
        self.hashes.insert(hash.clone(), url.to_string());
        let unchanged = previous.filter(|p| p.hash.as_deref() == Some(hash.as_str()));
        let (mut doc, links) = if mime == "application/pdf" {
            let doc = match unchanged {
                Some(p) => p.clone(),
                None => self.pdf(&url, bytes).await,
            };
            (doc, vec![])
        } else {
            // Parsing a large page is CPU work: off the async threads.
            let (page_url, reuse) = (url.clone(), unchanged.is_some());
            let parsing = tokio::task::spawn_blocking(move || {
                let text = decode(&bytes, charset.as_deref());
                let doc = (!reuse).then(|| html_document(&page_url, &text));
                (doc, links(&text, &page_url))
            });
            match (parsing.await, unchanged) {
                (Ok((_, links)), Some(p)) => (p.clone(), links),
                (Ok((Some(doc), links)), None) => (doc, links),
                _ => (skipped(url.as_str(), "the page could not be read"), vec![]),
            }
        };
        doc.etag = etag;
        doc.last_modified = last_modified;
        doc.hash = Some(hash);
        self.page(url, doc, links)
    }
}

impl Crawl<'_> {
    /// A PDF of the site, read on a blocking thread and given the request's timeout: PDF text
    /// extraction is CPU work, and a hostile file should cost the crawl one page, not the crawl.
    async fn pdf(&self, url: &Url, bytes: Vec<u8>) -> DocumentRecord {
        let title = title_from(url.path());
        let reading = tokio::task::spawn_blocking(move || pdf_document(&bytes, &title));
        match tokio::time::timeout(self.session.policy.timeout, reading).await {
            Ok(Ok(Ok(doc))) => doc,
            Ok(Ok(Err(e))) => skipped(url.as_str(), e),
            Ok(Err(_)) => skipped(url.as_str(), "not a readable PDF"),
            Err(_) => skipped(url.as_str(), "the PDF took too long to read"),
        }
    }
}

/// An HTML page as a document (`skipped`, "no text", when it has none to answer from).
fn html_document(url: &Url, text: &str) -> DocumentRecord {
    let mut page = extract::html(text);
    if page.title.is_empty() {
        page.title = format!("{}{}", url.host_str().unwrap_or(""), url.path());
    }
    let mut doc = page_document(url.as_str(), page);
    if doc.passages.is_empty() {
        doc.state = DocumentState::Skipped;
        doc.error = Some("no text".into());
    }
    doc
}
