//! A page already read (an HTML page, a Markdown or text file, a PDF), or a curated answer, as
//! the document the store keeps: one passage a section, with its heading path, anchor and
//! language.

use crate::knowledge::extract::{Page, slug};
use crate::knowledge::index::passage_lang;
use crate::knowledge::lang::{self, Lang};
use crate::model::knowledge::{DocumentRecord, DocumentState, Passage};

/// A page already parsed, as a document: each section becomes a passage whose heading is the
/// page's title and the section's heading path (`Shipping › Outside the EU`), with the
/// section's anchor, its text, and its language: the page's declared one, else detected from
/// the passage, else from the whole page (a short passage says too little), else `other`.
/// Empty sections are dropped. The document is `ok` (the caller decides what no passage means).
pub fn page_document(url: &str, page: Page) -> DocumentRecord {
    let whole: String = page
        .sections
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let fallback = page
        .lang
        .as_deref()
        .and_then(Lang::from_tag)
        .or_else(|| lang::detect(&format!("{}\n{whole}", page.title)))
        .unwrap_or(Lang::Other);
    let passages = page
        .sections
        .iter()
        .filter(|s| !s.text.trim().is_empty())
        .map(|s| Passage {
            heading: s.heading_line(&page.title),
            anchor: s.anchor.clone(),
            text: s.text.clone(),
            lang: passage_lang(page.lang.as_deref(), &s.text, fallback)
                .code()
                .to_owned(),
            keywords: String::new(),
        })
        .collect();
    DocumentRecord {
        url: url.to_owned(),
        title: page.title,
        state: DocumentState::Ok,
        passages,
        ..DocumentRecord::default()
    }
}

/// A curated question and answer: one passage whose heading is the question (its words find
/// it, as keywords too) and whose text is the answer; its URL is `qa:` and the question's slug.
pub fn qa(question: &str, answer: &str) -> DocumentRecord {
    let question = question.trim();
    let answer = answer.trim();
    let lang = lang::detect(&format!("{question}\n{answer}")).unwrap_or(Lang::Other);
    DocumentRecord {
        url: format!("qa:{}", slug(question)),
        title: question.to_owned(),
        state: DocumentState::Ok,
        passages: vec![Passage {
            heading: question.to_owned(),
            anchor: None,
            text: answer.to_owned(),
            lang: lang.code().to_owned(),
            keywords: question.to_owned(),
        }],
        ..DocumentRecord::default()
    }
}

/// A document that could not be read, saying why.
pub(super) fn failed(url: &str, error: impl Into<String>) -> DocumentRecord {
    DocumentRecord {
        url: url.to_owned(),
        state: DocumentState::Failed,
        error: Some(error.into()),
        ..DocumentRecord::default()
    }
}

/// A document left out on purpose (robots.txt, its type, its size), saying why.
pub(super) fn skipped(url: &str, error: impl Into<String>) -> DocumentRecord {
    DocumentRecord {
        url: url.to_owned(),
        state: DocumentState::Skipped,
        error: Some(error.into()),
        ..DocumentRecord::default()
    }
}

/// A title for a document that has none: its file name, or the last segment of its URL.
pub(super) fn title_from(name: &str) -> String {
    let name = name.trim_end_matches('/');
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = match last.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => last,
    };
    let title = stem.replace(['-', '_'], " ");
    let title = title.trim();
    if title.is_empty() {
        name.to_owned()
    } else {
        title.to_owned()
    }
}

/// Whether a page read has any text to answer from.
pub(super) fn has_text(page: &Page) -> bool {
    page.sections.iter().any(|s| !s.text.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::extract;

    #[test]
    fn sections_become_passages_with_their_language() {
        let page = extract::html(
            r#"<html lang="da"><title>Levering</title><main><h1>Levering</h1>
            <h2 id="fragt">Fragt</h2><p>Fragt koster 49 kr.</p><h2>Tom</h2></main></html>"#,
        );
        let doc = page_document("https://x.dk/levering", page);
        assert_eq!(doc.title, "Levering");
        assert_eq!(doc.passages.len(), 1);
        let p = &doc.passages[0];
        assert_eq!(p.heading, "Levering › Fragt");
        assert_eq!(p.anchor.as_deref(), Some("fragt"));
        assert_eq!(p.lang, "da");
        let detected = page_document(
            "u",
            extract::plain(
                "Der Versand innerhalb Deutschlands dauert zwei bis vier Werktage.",
                "Versand",
            ),
        );
        assert_eq!(detected.passages[0].lang, "de");
    }

    #[test]
    fn curated_answers() {
        let doc = qa(
            " Do you ship to Norway? ",
            "Yes, we deliver to Norway within three to five working days.",
        );
        assert_eq!(doc.url, "qa:do-you-ship-to-norway");
        assert_eq!(doc.passages[0].heading, "Do you ship to Norway?");
        assert_eq!(doc.passages[0].keywords, "Do you ship to Norway?");
        assert_eq!(
            doc.passages[0].text,
            "Yes, we deliver to Norway within three to five working days."
        );
        assert_eq!(doc.passages[0].lang, "en");
        assert_eq!(title_from("docs/price-list_2024.pdf"), "price list 2024");
        assert_eq!(title_from("https://x.dk/files/"), "files");
    }
}
