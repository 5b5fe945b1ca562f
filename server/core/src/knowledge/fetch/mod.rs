//! Fetching what a chatbot knows (issue 26): a source as the site owner names it (a website, a
//! file, a curated answer, a product feed) into the [`DocumentRecord`]s the store keeps, each
//! already cut into passages, so that syncing is the only step that touches the network.
//!
//! - [`check_url`] and [`client`]: no source may point the server at itself or its private
//!   network (`guard.rs`).
//! - [`website()`]: a polite crawl of one site within its start path: robots.txt, sitemaps,
//!   one request at a time, conditional re-fetching (`website.rs`, `scope.rs`, `robots.rs`,
//!   `sitemap.rs`, `http.rs`).
//! - [`file()`]: Markdown, HTML, plain text and PDF files (`file.rs`).
//! - [`products`] and [`product_feed`]: Shopify, Google Merchant and JSON catalogues
//!   (`feed.rs`, `xml.rs`).
//! - [`page_document`] and [`qa`]: a parsed page, or a curated answer, as a document
//!   (`document.rs`).
//!
//! Nothing here panics on what a site or a file holds: bodies are read up to
//! [`MAX_FILE_BYTES`](crate::model::knowledge::MAX_FILE_BYTES), invalid text is decoded lossily,
//! and a document that cannot be read says why in its `error`.

mod document;
mod feed;
mod file;
mod guard;
mod http;
mod robots;
mod scope;
mod sitemap;
mod website;
mod xml;

use std::time::Duration;

pub use document::{page_document, qa};
pub use feed::{product_feed, products};
pub use file::file;
pub use guard::check_url;
pub use website::website;

#[cfg(doc)]
use crate::model::knowledge::DocumentRecord;

/// How the server behaves towards the sites it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchPolicy {
    /// Loopback and private addresses allowed (development, tests). Production: false.
    pub allow_private: bool,
    /// Pause between two requests to the site (a polite rate); robots.txt's `Crawl-delay`, when
    /// larger, wins (capped at 10 s).
    pub delay: Duration,
    /// Sent with every request; its first word (`dgbot`) is the agent robots.txt rules name.
    pub user_agent: String,
    /// Per request, from connecting until the last byte of the body.
    pub timeout: Duration,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_private: false,
            delay: Duration::from_millis(250),
            user_agent: "dgbot/0.1 (+https://github.com/dgbot)".into(),
            timeout: Duration::from_secs(15),
        }
    }
}

impl FetchPolicy {
    /// The agent robots.txt groups are matched against: the user agent's product name
    /// (`dgbot` of `dgbot/0.1 (+…)`).
    pub fn robots_agent(&self) -> &str {
        self.user_agent
            .split(['/', ' '])
            .next()
            .filter(|a| !a.is_empty())
            .unwrap_or("dgbot")
    }
}

/// The HTTP client the fetchers are meant to be given: it follows no redirect by itself (the
/// crawler follows them, checking each hop's host and robots.txt), sends the policy's user agent
/// and timeout, and, unless the policy allows private addresses, connects only to public ones,
/// whatever a host's DNS answers at the moment of connecting (so neither a redirect nor a
/// rebinding DNS leads it to the server's own network).
///
/// Any `reqwest::Client` works with the fetchers; one that follows redirects itself is checked
/// after the fact (a page that ended on another host is skipped, though it was requested).
pub fn client(policy: &FetchPolicy) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(policy.user_agent.clone())
        .connect_timeout(policy.timeout)
        .timeout(policy.timeout);
    if !policy.allow_private {
        builder = builder.dns_resolver(std::sync::Arc::new(guard::PublicOnly));
    }
    builder
        .build()
        .map_err(|e| format!("the HTTP client could not start: {e}"))
}
