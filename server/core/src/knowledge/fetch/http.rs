//! One site's requests, one at a time: the pause between two of them, the user agent, the
//! per-request timeout, validators for conditional requests, bodies read up to a size cap, and
//! the text of a body in its declared charset. Errors come back as words a site owner reads
//! ("timed out after 15 s", "could not connect").

use std::time::Duration;

use reqwest::header::{
    ACCEPT, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, LOCATION, RETRY_AFTER, USER_AGENT,
};
use reqwest::{Response, Url};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::FetchPolicy;
use crate::model::ids;

/// The longest pause robots.txt's `Crawl-delay` may ask for.
pub(super) const MAX_CRAWL_DELAY: Duration = Duration::from_secs(10);

/// Requests to one site, paced.
pub(super) struct Session<'a> {
    pub http: &'a reqwest::Client,
    pub policy: &'a FetchPolicy,
    delay: Duration,
    last: Option<Instant>,
    /// Requests sent (robots.txt and sitemaps included).
    pub requests: u32,
}

/// Why a body was not read whole.
#[derive(Debug)]
pub(super) enum BodyError {
    TooLarge,
    Failed(String),
}

impl<'a> Session<'a> {
    pub fn new(http: &'a reqwest::Client, policy: &'a FetchPolicy) -> Self {
        Session {
            http,
            policy,
            delay: policy.delay,
            last: None,
            requests: 0,
        }
    }

    /// Pause at least `delay` between requests from now on (never less than the policy's).
    pub fn slow_down(&mut self, delay: Duration) {
        self.delay = self.delay.max(delay.min(MAX_CRAWL_DELAY));
    }

    /// `GET url`, after the pause; `validators` (an ETag, a Last-Modified date) make it
    /// conditional. Redirects are not followed here (with [`super::client`]).
    pub async fn get(
        &mut self,
        url: &Url,
        validators: Option<(&Option<String>, &Option<String>)>,
    ) -> Result<Response, String> {
        if let Some(at) = self.last.and_then(|last| last.checked_add(self.delay)) {
            tokio::time::sleep_until(at).await;
        }
        let mut request = self
            .http
            .get(url.clone())
            .timeout(self.policy.timeout)
            .header(USER_AGENT, header(&self.policy.user_agent))
            .header(
                ACCEPT,
                "text/html,application/xhtml+xml,application/xml;q=0.9,application/pdf;q=0.8,*/*;q=0.5",
            );
        if let Some((etag, modified)) = validators {
            if let Some(v) = etag.as_deref().and_then(valid_header) {
                request = request.header(IF_NONE_MATCH, v);
            }
            if let Some(v) = modified.as_deref().and_then(valid_header) {
                request = request.header(IF_MODIFIED_SINCE, v);
            }
        }
        self.requests += 1;
        let sent = request.send().await;
        self.last = Some(Instant::now());
        sent.map_err(|e| describe(&e, self.policy.timeout))
    }
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("dgbot"))
}

fn valid_header(value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(value).ok()
}

/// A request's failure in words.
pub(super) fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {} s", timeout.as_secs_f32());
    }
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let what = if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    if cause.is_empty() {
        what.to_owned()
    } else {
        format!("{what} ({cause})")
    }
}

/// Reads the whole body, stopping at `limit` bytes (the declared length is checked first).
pub(super) async fn body(response: &mut Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut out = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err(BodyError::Failed(describe(&e, Duration::ZERO))),
        }
    }
}

/// A header's value as text, when it has one.
pub(super) fn header_text(
    headers: &HeaderMap,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The response's validators, kept for the next sync: `(etag, last_modified)`.
pub(super) fn validators(response: &Response) -> (Option<String>, Option<String>) {
    (
        header_text(response.headers(), ETAG),
        header_text(response.headers(), LAST_MODIFIED),
    )
}

/// The `Location` of a redirect, resolved against the URL that answered it.
pub(super) fn location(response: &Response) -> Option<Url> {
    let to = header_text(response.headers(), LOCATION)?;
    response.url().join(&to).ok()
}

/// How long a `429 Too Many Requests` asks to wait (seconds only; capped).
pub(super) fn retry_after(response: &Response) -> Duration {
    header_text(response.headers(), RETRY_AFTER)
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(2))
        .min(MAX_CRAWL_DELAY)
}

/// The media type (`text/html`) and charset of a response, lower case.
pub(super) fn content_type(response: &Response) -> (Option<String>, Option<String>) {
    let Some(value) = header_text(response.headers(), CONTENT_TYPE) else {
        return (None, None);
    };
    let mut parts = value.split(';');
    let mime = parts
        .next()
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty());
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset"))
            .then(|| v.trim().trim_matches('"').to_ascii_lowercase())
    });
    (mime, charset)
}

/// What a body without a Content-Type looks like: `text/html`, `application/pdf` or
/// `application/octet-stream`.
pub(super) fn sniff(bytes: &[u8]) -> &'static str {
    let start = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let start = start.trim_start_matches('\u{feff}').trim_start();
    if bytes.starts_with(b"%PDF-") {
        "application/pdf"
    } else if start.starts_with("<!doctype html") || start.starts_with("<html") {
        "text/html"
    } else {
        "application/octet-stream"
    }
}

/// Text in its charset: the one declared (Content-Type, else an HTML `<meta charset>` near the
/// start), else UTF-8; a byte-order mark wins; invalid bytes become U+FFFD.
pub(super) fn decode(bytes: &[u8], charset: Option<&str>) -> String {
    let label = charset
        .map(str::to_owned)
        .or_else(|| meta_charset(&bytes[..bytes.len().min(2048)]));
    let encoding = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(bytes).0.into_owned()
}

/// `<meta charset="x">` or `<meta http-equiv="Content-Type" content="…; charset=x">`.
fn meta_charset(head: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let value: String = head[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    (!value.is_empty()).then_some(value)
}

/// The body's fingerprint, as [`DocumentRecord::hash`](crate::model::knowledge::DocumentRecord)
/// keeps it: lowercase hex SHA-256.
pub(super) fn hash(bytes: &[u8]) -> String {
    ids::hex(&Sha256::digest(bytes))
}

/// A size as a site owner reads it (`52.5 MB`; a megabyte is 2^20 bytes here, as the limit is;
/// a whole number of them without decimals: `10 MB`).
pub(super) fn megabytes(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets_declared_or_not() {
        assert_eq!(decode(b"bl\xe5b\xe6r", Some("iso-8859-1")), "blåbær");
        assert_eq!(
            decode(b"<meta charset=\"windows-1252\"><p>s\xf8", None),
            "<meta charset=\"windows-1252\"><p>sø"
        );
        assert_eq!(decode("blåbær".as_bytes(), None), "blåbær");
        assert_eq!(decode(b"bad \xff byte", None), "bad \u{fffd} byte");
    }

    #[test]
    fn sizes_and_sniffing() {
        assert_eq!(megabytes(55_000_000), "52.5 MB");
        assert_eq!(megabytes(10 * 1024 * 1024), "10 MB");
        assert_eq!(megabytes(10 * 1024 * 1024 + 1), "10.0 MB");
        assert_eq!(sniff(b"%PDF-1.4 ..."), "application/pdf");
        assert_eq!(sniff(b"\n <!DOCTYPE html><html>"), "text/html");
        assert_eq!(sniff(b"PK\x03\x04"), "application/octet-stream");
    }
}
