//! One file a site owner hands over: Markdown, HTML, plain text or PDF, told apart by its
//! extension, else its media type, else its first bytes. A Markdown file may open with
//! `keywords: a, b` and `url: https://…` lines (or the same in `---` front matter), as
//! `server/demo/kb/*.md` do: they become the passages' keywords and the document's URL.
//!
//! PDF text comes from `pdf-extract`, which can panic on a malformed file: it runs under
//! `catch_unwind`, so a bad PDF is an error, not a crash (the panic's message still reaches the
//! log through the panic hook).

use super::document::{has_text, page_document, title_from};
use super::http::{decode, hash, megabytes, sniff};
use crate::knowledge::extract::{self, Page};
use crate::model::knowledge::{DocumentRecord, MAX_FILE_BYTES};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Markdown,
    Html,
    Text,
    Pdf,
}

fn kind(filename: &str, mime: &str, bytes: &[u8]) -> Option<Kind> {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let by_ext = match ext.as_str() {
        "md" | "markdown" | "mdown" | "mkd" => Some(Kind::Markdown),
        "html" | "htm" | "xhtml" => Some(Kind::Html),
        "txt" | "text" => Some(Kind::Text),
        "pdf" => Some(Kind::Pdf),
        _ => None,
    };
    let mime = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let by_mime = || match mime.as_str() {
        "text/markdown" | "text/x-markdown" => Some(Kind::Markdown),
        "text/html" | "application/xhtml+xml" => Some(Kind::Html),
        "text/plain" => Some(Kind::Text),
        "application/pdf" => Some(Kind::Pdf),
        _ => None,
    };
    by_ext.or_else(by_mime).or(match sniff(bytes) {
        "application/pdf" => Some(Kind::Pdf),
        "text/html" => Some(Kind::Html),
        _ => None,
    })
}

/// One file as a document: Markdown, HTML, plain text or PDF. `url` is the page it is published
/// as; without it, the Markdown `url:` line, else `file:{filename}`. A file larger than
/// [`MAX_FILE_BYTES`], of another type, unreadable or without text is an error saying so.
pub fn file(
    filename: &str,
    mime: &str,
    bytes: &[u8],
    url: Option<&str>,
) -> Result<DocumentRecord, String> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{filename} is {}; the limit is {}",
            megabytes(bytes.len()),
            megabytes(MAX_FILE_BYTES)
        ));
    }
    let Some(kind) = kind(filename, mime, bytes) else {
        let what = if mime.trim().is_empty() {
            "an unknown type".to_owned()
        } else {
            mime.trim().to_owned()
        };
        return Err(format!(
            "{filename} is {what}; the assistant reads Markdown (.md), HTML, plain text (.txt) \
             and PDF files"
        ));
    };
    let title = title_from(filename);
    let (mut doc, own_url) = match kind {
        Kind::Markdown => {
            let text = decode(bytes, Some("utf-8"));
            let (body, meta) = front(&text);
            let page = extract::markdown(&body, meta.title.as_deref().unwrap_or(&title));
            let mut doc = page_document("", page);
            for passage in &mut doc.passages {
                passage.keywords = meta.keywords.clone();
            }
            (doc, meta.url)
        }
        Kind::Html => {
            let mut page = extract::html(&decode(bytes, None));
            if page.title.is_empty() {
                page.title = title.clone();
            }
            (page_document("", page), None)
        }
        Kind::Text => {
            let text = decode(bytes, Some("utf-8"));
            (page_document("", extract::plain(&text, &title)), None)
        }
        Kind::Pdf => (
            pdf_document(bytes, &title).map_err(|e| format!("{filename}: {e}"))?,
            None,
        ),
    };
    if doc.passages.is_empty() {
        return Err(format!("{filename} has no text"));
    }
    doc.url = url
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .or(own_url)
        .unwrap_or_else(|| format!("file:{filename}"));
    doc.hash = Some(hash(bytes));
    Ok(doc)
}

/// A PDF's text as a document, one page's text after another, each passage anchored at its
/// page (`#page=3`, which PDF viewers in browsers open at). Errors say why it was not read.
pub(super) fn pdf_document(bytes: &[u8], title: &str) -> Result<DocumentRecord, String> {
    let pages = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .map_err(|_| "not a readable PDF".to_owned())?
        .map_err(|e| format!("not a readable PDF ({e})"))?;
    let mut sections = vec![];
    for (i, text) in pages.iter().enumerate() {
        for mut section in extract::plain(text, title).sections {
            section.anchor = Some(format!("page={}", i + 1));
            sections.push(section);
        }
    }
    let page = Page {
        title: title.to_owned(),
        lang: None,
        sections,
    };
    if !has_text(&page) {
        return Err("the PDF has no text (a scanned document?)".into());
    }
    Ok(page_document("", page))
}

/// What a Markdown file says about itself.
#[derive(Debug, Default, PartialEq)]
struct Meta {
    title: Option<String>,
    keywords: String,
    url: Option<String>,
}

/// The file's text without its `keywords:` / `url:` lines (those before its first paragraph,
/// headings and blank lines aside) or its `---` front matter, and what they said.
fn front(text: &str) -> (String, Meta) {
    let mut meta = Meta::default();
    let text = text.trim_start_matches('\u{feff}');
    let mut rest = text;
    if let Some(after) = text.strip_prefix("---\n").or(text.strip_prefix("---\r\n"))
        && let Some(end) = after.find("\n---")
    {
        for line in after[..end].lines() {
            read_meta(line, &mut meta, true);
        }
        // The rest of the closing `---` line goes with it.
        rest = after[end + 4..].split_once('\n').map_or("", |(_, r)| r);
    }
    let mut body = String::with_capacity(rest.len());
    let mut header = true;
    for line in rest.lines() {
        if header {
            if read_meta(line, &mut meta, false) {
                continue;
            }
            let t = line.trim();
            if !t.is_empty() && !t.starts_with('#') {
                header = false;
            }
        }
        body.push_str(line);
        body.push('\n');
    }
    (body, meta)
}

/// Reads a `keywords:`, `url:` (or, in front matter, `title:`) line into `meta`.
fn read_meta(line: &str, meta: &mut Meta, front_matter: bool) -> bool {
    let Some((key, value)) = line.split_once(':') else {
        return false;
    };
    let value = value.trim().trim_matches(['"', '\'']);
    match (key.trim().to_ascii_lowercase().as_str(), front_matter) {
        ("keywords", _) | ("tags", true) => {
            let list = value.trim_start_matches('[').trim_end_matches(']');
            meta.keywords = list
                .split(',')
                .map(|k| k.trim().trim_matches(['"', '\'']))
                .filter(|k| !k.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            true
        }
        // A page, or a path on the chatbot's own server (the demo shop's `/demo/help/…`).
        ("url", _)
            if value.starts_with("https://")
                || value.starts_with("http://")
                || (value.starts_with('/') && !value.starts_with("//")) =>
        {
            meta.url = Some(value.to_owned());
            true
        }
        ("title", true) if !value.is_empty() => {
            meta.title = Some(value.to_owned());
            true
        }
        _ => front_matter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_lines_of_a_markdown_file() {
        let (body, meta) = front(
            "# Shipping\nkeywords: ship, delivery , \nurl: https://x.dk/shipping\n\nWe ship.\nurl: stays\n",
        );
        assert_eq!(body, "# Shipping\n\nWe ship.\nurl: stays\n");
        assert_eq!(meta.keywords, "ship, delivery");
        assert_eq!(meta.url.as_deref(), Some("https://x.dk/shipping"));
        let (body, meta) = front("---\ntitle: \"Returns\"\ntags: [a, b]\nlayout: x\n---\nText.\n");
        assert_eq!(body, "Text.\n");
        assert_eq!(meta.title.as_deref(), Some("Returns"));
        assert_eq!(meta.keywords, "a, b");
    }

    #[test]
    fn kinds_by_extension_then_type_then_bytes() {
        assert_eq!(kind("a.MD", "text/plain", b""), Some(Kind::Markdown));
        assert_eq!(kind("a", "text/html; charset=utf-8", b""), Some(Kind::Html));
        assert_eq!(
            kind("report", "application/octet-stream", b"%PDF-1.7"),
            Some(Kind::Pdf)
        );
        assert_eq!(kind("a.zip", "application/zip", b"PK"), None);
    }
}
