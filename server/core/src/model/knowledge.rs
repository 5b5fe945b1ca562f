//! What a chatbot knows, as the store keeps it (issue 26): the sources a site owner adds (a
//! website, a file, a curated question and answer, a product feed), and the documents each
//! source yields, already cut into passages, so that every instance builds the same index from
//! the shared store without fetching anything again.

use serde::{Deserialize, Serialize};

/// What a site owner asks the assistant to learn from (`POST /api/v1/chat/sources`, or
/// `[[chatbot.sources]]` in the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceSpec {
    /// A website: the start URL, the pages linked from it within its host and path, and its
    /// `sitemap.xml`.
    Website {
        url: String,
        /// At most this many pages (the server caps it, [`MAX_PAGES`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_pages: Option<u32>,
        /// Only pages whose path starts with one of these (empty: every page under the start).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        include: Vec<String>,
        /// No page whose path starts with one of these.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        exclude: Vec<String>,
    },
    /// One file: Markdown, HTML, plain text or PDF. Through the API its bytes come base64 in
    /// `data`; in the configuration a `path` names it instead.
    File {
        filename: String,
        #[serde(default)]
        mime: String,
        /// Base64 of the file's bytes (not listed back: `GET /sources` leaves it out).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        data: String,
        /// A file on the server's disk (configuration sources only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        /// The page the file is published as, cited as the answer's source (the file's
        /// `url:` line may say it too).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    /// A curated answer: wins over retrieval when a visitor's question matches `question`.
    Qa { question: String, answer: String },
    /// Products: `shopify` (a shop's `products.json`), `google_merchant` (RSS 2.0 with `g:`
    /// fields) or `json` (an array of catalogue items, as `server/demo/catalogue.json`).
    ProductFeed {
        #[serde(default)]
        url: String,
        format: FeedFormat,
        /// A feed on the server's disk (configuration sources only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
}

/// The largest page count a website source may ask for.
pub const MAX_PAGES: u32 = 5_000;
/// Pages crawled when a website source names no `max_pages`.
pub const DEFAULT_MAX_PAGES: u32 = 500;
/// The largest file (decoded) or fetched page a source may hold.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedFormat {
    Shopify,
    GoogleMerchant,
    Json,
}

impl SourceSpec {
    /// The wire name of its type (`website`, `file`, `qa`, `product_feed`).
    pub fn type_name(&self) -> &'static str {
        match self {
            SourceSpec::Website { .. } => "website",
            SourceSpec::File { .. } => "file",
            SourceSpec::Qa { .. } => "qa",
            SourceSpec::ProductFeed { .. } => "product_feed",
        }
    }

    /// The URL it reads, when it reads one.
    pub fn url(&self) -> Option<&str> {
        match self {
            SourceSpec::Website { url, .. } => Some(url),
            SourceSpec::ProductFeed { url, .. } if !url.is_empty() => Some(url),
            SourceSpec::File { url: Some(url), .. } => Some(url),
            _ => None,
        }
    }

    /// Whether syncing it fetches something over the network (and so runs in the
    /// background); files, Q&A and feeds on disk are read at once.
    pub fn is_remote(&self) -> bool {
        match self {
            SourceSpec::Website { .. } => true,
            SourceSpec::ProductFeed { path, .. } => path.is_none(),
            SourceSpec::File { .. } | SourceSpec::Qa { .. } => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Queued,
    Syncing,
    Ready,
    Failed,
}

impl SourceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceStatus::Queued => "queued",
            SourceStatus::Syncing => "syncing",
            SourceStatus::Ready => "ready",
            SourceStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> SourceStatus {
        match s {
            "syncing" => SourceStatus::Syncing,
            "ready" => SourceStatus::Ready,
            "failed" => SourceStatus::Failed,
            _ => SourceStatus::Queued,
        }
    }
}

/// A source as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub source_id: String,
    pub chatbot_id: String,
    pub spec: SourceSpec,
    pub status: SourceStatus,
    /// Documents it holds now (pages, files, products, answers).
    pub documents: u32,
    /// When its last sync finished (unix ms).
    pub last_synced_at: Option<u64>,
    /// Why its last sync failed as a whole.
    pub error: Option<String>,
    /// When it was added (unix ms).
    pub created_at: u64,
    /// Added by the configuration file (replaced on start; the API does not delete it).
    pub from_config: bool,
}

/// One document of a source: a web page, a file, a product, a curated answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// The page's URL (a file's: its `url`, or `file:{filename}`).
    pub url: String,
    pub title: String,
    /// `ok`, or `failed` / `skipped` with [`DocumentRecord::error`] saying why.
    pub state: DocumentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Conditional re-fetching: the server's validators, and a hash of the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passages: Vec<Passage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<CatalogueItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentState {
    #[default]
    Ok,
    Failed,
    Skipped,
}

/// A section of a document: what retrieval finds and an answer quotes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Passage {
    /// The document's title and the section's heading path (`Shipping › Outside the EU`).
    pub heading: String,
    /// The section's fragment (`outside-the-eu`), for the cited URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// The section's text: paragraphs separated by blank lines, list items as `- ` lines.
    pub text: String,
    /// Its language tag (`en`, `da`…), declared by the page or detected.
    #[serde(default)]
    pub lang: String,
    /// Words that find it besides its own (an FAQ file's `keywords:` line; a curated
    /// answer's question).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keywords: String,
}

/// One product of a catalogue or a product feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueItem {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub category: String,
    pub price: f64,
    #[serde(default = "default_currency")]
    pub currency: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The product page: absolute, or a path on the server (`/demo/?product=aurora`).
    pub url: String,
    /// The picture: absolute, or a path on the server.
    #[serde(default)]
    pub image: Option<String>,
}

fn default_currency() -> String {
    "DKK".into()
}

/// A visitor's question the assistant could not answer from what it knows (kept for the site
/// owner).
#[derive(Debug, Clone, PartialEq)]
pub struct Unanswered {
    pub chatbot_id: String,
    pub visitor_id: String,
    pub question: String,
    /// The language the question was asked in.
    pub lang: String,
    pub created_at: u64,
}

impl CatalogueItem {
    /// As a product card, with server paths made absolute against `base`.
    pub fn to_product(&self, base: &str) -> dgbot_protocol::message::Product {
        let absolute = |u: &str| {
            if u.starts_with('/') {
                format!("{base}{u}")
            } else {
                u.to_owned()
            }
        };
        dgbot_protocol::message::Product {
            product_id: Some(self.id.clone()),
            title: self.title.clone(),
            url: absolute(&self.url),
            image_url: self.image.as_deref().map(absolute),
            description: self.description.clone(),
            price: Some(self.price),
            currency: Some(self.currency.clone()),
        }
    }
}

/// The sources of a `knowledge_base` (the configuration's older form): each Markdown file of
/// the `faq` folder, and the `catalogue` JSON file as a product feed. Errors name the path.
pub fn knowledge_base_sources(
    faq: &std::path::Path,
    catalogue: &std::path::Path,
) -> Result<Vec<SourceSpec>, String> {
    let entries = std::fs::read_dir(faq).map_err(|e| format!("{}: {e}", faq.display()))?;
    let mut paths: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(format!("{}: no FAQ documents (*.md)", faq.display()));
    }
    if !catalogue.is_file() {
        return Err(format!("{}: not a file", catalogue.display()));
    }
    let mut sources: Vec<SourceSpec> = paths
        .iter()
        .map(|p| SourceSpec::File {
            filename: p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            mime: "text/markdown".into(),
            data: String::new(),
            path: Some(p.display().to_string()),
            url: None,
        })
        .collect();
    sources.push(SourceSpec::ProductFeed {
        url: String::new(),
        format: FeedFormat::Json,
        path: Some(catalogue.display().to_string()),
    });
    Ok(sources)
}
