//! The site owner's sources API (issue 26, under seed 002's `/api/v1/chat`, with the chatbot's
//! API key): what `GET /sources` and `GET /sources/{source_id}` answer. The request of
//! `POST /sources` is one of `{"type": "website", "url", "max_pages"?, "include"?,
//! "exclude"?}`, `{"type": "file", "filename", "mime", "data"}` (base64), `{"type": "qa",
//! "question", "answer"}`, `{"type": "product_feed", "url", "format"}` (docs/protocol.md).

use serde::{Deserialize, Serialize};

/// A source as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceView {
    pub source_id: String,
    /// `website`, `file`, `qa` or `product_feed`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// `queued`, `syncing`, `ready` or `failed`.
    pub status: String,
    /// Documents it holds (pages, files, products, answers).
    pub documents: u32,
    /// When its last sync ended (RFC 3339), `null` before the first.
    pub last_synced_at: Option<String>,
    /// Why its last sync failed as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Set by the server's configuration file: the API can sync it, not delete it.
    #[serde(default)]
    pub from_config: bool,
}

/// `GET /sources`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceList {
    pub sources: Vec<SourceView>,
}

/// `GET /sources/{source_id}`: the source and each of its documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceDetail {
    #[serde(flatten)]
    pub source: SourceView,
    pub pages: Vec<PageView>,
}

/// One document of a source: a page, a file, a product feed, a curated answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageView {
    pub url: String,
    pub title: String,
    /// `ok`, `failed` or `skipped`.
    pub state: String,
    /// Why it failed or was skipped ("HTTP 404", "forbidden by robots.txt", …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub passages: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub products: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
