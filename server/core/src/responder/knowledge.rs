//! A chatbot's knowledge base: FAQ documents (a folder of Markdown files) and a product
//! catalogue (one JSON file), both named in the chatbot configuration and replaceable by the
//! operator. The demo shop's are `server/demo/kb/` and `server/demo/catalogue.json`.
//!
//! An FAQ document is Markdown: a `# Title`, an optional `keywords: a, b, c` line, an optional
//! `url: https://…` line (the page it comes from, named as an answer's source), then
//! paragraphs and `-` bullet lists with `**bold**`, `~~strike~~` and `[links](https://…)`. It
//! becomes the `rich_text` blocks and spans of the answer, so the bot never sends Markdown.
//!
//! Retrieval is word scoring, good enough for a newcomer's obvious questions: a keyword of the
//! document counts 3, a word of its title 2, a word of its text 1 (common words ignored). Product
//! search matches names, categories, keywords and price limits ("under 800 kr", "cheapest").

use std::collections::HashSet;
use std::path::Path;

use dgbot_protocol::message::{Block, ListItem, Span};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// One FAQ document, parsed.
#[derive(Debug, Clone)]
pub struct FaqDocument {
    /// The file name without `.md` (for messages and logs).
    pub name: String,
    pub title: String,
    pub keywords: Vec<String>,
    /// The page the document comes from (its `url:` line), named when an answer cites it.
    pub url: Option<String>,
    pub blocks: Vec<Block>,
    title_words: HashSet<String>,
    body_words: HashSet<String>,
}

pub use crate::model::knowledge::CatalogueItem;

#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    pub faq: Vec<FaqDocument>,
    pub catalogue: Vec<CatalogueItem>,
}

/// Words that say nothing about the topic.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "i", "you", "we", "my", "your", "our", "is", "are", "do", "does", "can",
    "to", "of", "in", "on", "for", "and", "or", "it", "me", "what", "how", "when", "which", "with",
    "have", "has", "be", "there", "this", "that", "at", "from", "any", "about", "please", "hi",
    "hello", "much", "long", "take", "get",
];

/// Lower-cased words of `text`, with a plural `s` dropped ("lamps" → "lamp").
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
                w[..w.len() - 1].to_owned()
            } else {
                w.to_owned()
            }
        })
        .collect()
}

fn content_words(text: &str) -> HashSet<String> {
    words(text)
        .into_iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

impl KnowledgeBase {
    /// Read every `*.md` in `faq_dir` and the JSON array in `catalogue`. Errors name the file.
    pub fn load(faq_dir: &Path, catalogue: &Path) -> Result<Self, String> {
        let mut faq = vec![];
        let entries =
            std::fs::read_dir(faq_dir).map_err(|e| format!("{}: {e}", faq_dir.display()))?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        paths.sort();
        for path in paths {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            faq.push(
                FaqDocument::parse(&name, &text).map_err(|e| format!("{}: {e}", path.display()))?,
            );
        }
        if faq.is_empty() {
            return Err(format!("{}: no FAQ documents (*.md)", faq_dir.display()));
        }
        let json = std::fs::read_to_string(catalogue)
            .map_err(|e| format!("{}: {e}", catalogue.display()))?;
        let catalogue_items: Vec<CatalogueItem> =
            serde_json::from_str(&json).map_err(|e| format!("{}: {e}", catalogue.display()))?;
        let mut ids = HashSet::new();
        for item in &catalogue_items {
            if !ids.insert(item.id.as_str()) {
                return Err(format!(
                    "{}: the product id {:?} is used twice",
                    catalogue.display(),
                    item.id
                ));
            }
            if !(item.price.is_finite() && item.price >= 0.0) {
                return Err(format!(
                    "{}: product {:?} has no valid price",
                    catalogue.display(),
                    item.id
                ));
            }
        }
        Ok(KnowledgeBase {
            faq,
            catalogue: catalogue_items,
        })
    }

    /// The FAQ document that best answers `question`, if any word of it matters.
    pub fn best_faq(&self, question: &str) -> Option<&FaqDocument> {
        let q = question.to_lowercase();
        let asked = content_words(question);
        self.faq
            .iter()
            .map(|doc| {
                let keywords: usize = doc
                    .keywords
                    .iter()
                    .filter(|k| {
                        if k.contains(' ') {
                            q.contains(k.as_str())
                        } else {
                            asked.contains(k.as_str())
                        }
                    })
                    .count();
                let title = asked.intersection(&doc.title_words).count();
                let body = asked.intersection(&doc.body_words).count();
                (keywords * 3 + title * 2 + body, doc)
            })
            .filter(|(score, _)| *score >= 2)
            .max_by_key(|(score, _)| *score)
            .map(|(_, doc)| doc)
    }

    /// Products for `question`: those named, or of a named category or keyword, within a price
    /// limit if one is given, cheapest first; "cheapest"/"most expensive" pick one. `None` when
    /// the question is not about products.
    pub fn search_products(&self, question: &str) -> Option<Vec<&CatalogueItem>> {
        let asked = content_words(question);
        let q = question.to_lowercase();
        let limit = price_limit(&q);
        let named = |item: &CatalogueItem| {
            let name = content_words(&item.title);
            asked.contains(&item.id)
                || name
                    .iter()
                    .any(|w| asked.contains(w) && !GENERIC.contains(&w.as_str()))
        };
        let mut items: Vec<&CatalogueItem> = self.catalogue.iter().filter(|i| named(i)).collect();
        if items.is_empty() {
            // The products sharing the most words with the question ("floor lamp": the floor lamp,
            // not every lamp).
            let shared = |i: &CatalogueItem| {
                let words = content_words(&format!(
                    "{} {} {}",
                    i.category,
                    i.keywords.join(" "),
                    i.title
                ));
                asked.intersection(&words).count()
            };
            let best = self.catalogue.iter().map(shared).max().unwrap_or(0);
            if best > 0 {
                items = self
                    .catalogue
                    .iter()
                    .filter(|i| shared(i) == best)
                    .collect();
            }
        }
        let about_products = !items.is_empty()
            || limit.is_some()
            || [
                "product",
                "recommend",
                "buy",
                "gift",
                "sell",
                "cheapest",
                "expensive",
                "catalogue",
            ]
            .iter()
            .any(|w| asked.contains(*w));
        if !about_products {
            return None;
        }
        if items.is_empty() {
            items = self.catalogue.iter().collect();
        }
        if let Some(max) = limit {
            items.retain(|i| i.price <= max);
        }
        items.sort_by(|a, b| a.price.total_cmp(&b.price));
        if asked.contains("cheapest") {
            items.truncate(1);
        } else if q.contains("most expensive") {
            items = items.into_iter().last().into_iter().collect();
        }
        Some(items)
    }
}

/// Title words too generic to name one product ("lamp" names a category, not the Aurora).
const GENERIC: &[&str] = &[
    "lamp", "table", "floor", "wall", "pendant", "throw", "cushion", "curtain", "wool", "linen",
];

/// "under 800", "below 1.000 kr", "less than 1000", "max 500", "up to 700": the upper price.
fn price_limit(q: &str) -> Option<f64> {
    for marker in [
        "under",
        "below",
        "less than",
        "max",
        "up to",
        "cheaper than",
        "at most",
    ] {
        if let Some(i) = q.find(marker) {
            let rest = &q[i + marker.len()..];
            let digits: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
                .filter(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse::<f64>() {
                return Some(n);
            }
        }
    }
    None
}

impl FaqDocument {
    /// Parse one document (see the module docs for the format).
    pub fn parse(name: &str, text: &str) -> Result<Self, String> {
        let mut title = None;
        let mut keywords = vec![];
        let mut url = None;
        let mut body = String::new();
        for line in text.lines() {
            if let Some(t) = line.strip_prefix("# ").filter(|_| title.is_none()) {
                title = Some(t.trim().to_owned());
            } else if let Some(k) = line.strip_prefix("keywords:") {
                keywords = k
                    .split(',')
                    .map(|k| k.trim().to_lowercase())
                    .filter(|k| !k.is_empty())
                    .collect();
            } else if let Some(u) = line.strip_prefix("url:").map(str::trim)
                && (u.starts_with("https://") || u.starts_with("http://"))
            {
                url = Some(u.to_owned());
            } else {
                body.push_str(line);
                body.push('\n');
            }
        }
        let title = title.ok_or("the document needs a `# Title` line")?;
        let blocks = markdown_blocks(&body);
        if blocks.is_empty() {
            return Err("the document has no text".into());
        }
        Ok(FaqDocument {
            name: name.to_owned(),
            title_words: content_words(&title),
            body_words: content_words(&body),
            title,
            keywords,
            url,
            blocks,
        })
    }
}

/// Paragraphs and bullet lists of Markdown as blocks of spans.
fn markdown_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = vec![];
    let (mut bold, mut strike, mut link) = (false, false, None::<String>);
    let (mut in_list, mut in_item) = (false, false);
    let push_span = |blocks: &mut Vec<Block>, span: Span, in_item: bool| match blocks.last_mut() {
        Some(Block::BulletList { items }) if in_item => {
            if let Some(item) = items.last_mut() {
                item.spans.push(span);
            }
        }
        Some(Block::Paragraph { spans }) => spans.push(span),
        _ => blocks.push(Block::paragraph(vec![span])),
    };
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Paragraph) if !in_item => blocks.push(Block::paragraph(vec![])),
            Event::Start(Tag::List(_)) => {
                in_list = true;
                blocks.push(Block::BulletList { items: vec![] });
            }
            Event::End(TagEnd::List(_)) => in_list = false,
            Event::Start(Tag::Item) if in_list => {
                in_item = true;
                if let Some(Block::BulletList { items }) = blocks.last_mut() {
                    items.push(ListItem { spans: vec![] });
                }
            }
            Event::End(TagEnd::Item) => in_item = false,
            Event::Start(Tag::Strong) => bold = true,
            Event::End(TagEnd::Strong) => bold = false,
            Event::Start(Tag::Strikethrough) => strike = true,
            Event::End(TagEnd::Strikethrough) => strike = false,
            Event::Start(Tag::Link { dest_url, .. }) => link = Some(dest_url.to_string()),
            Event::End(TagEnd::Link) => link = None,
            Event::Text(text) | Event::Code(text) => {
                let span = match (&link, bold, strike) {
                    (Some(url), _, _) => Span::link(text.to_string(), url.clone()),
                    (None, true, _) => Span::bold(text.to_string()),
                    (None, false, true) => Span::strike(text.to_string()),
                    _ => Span::text(text.to_string()),
                };
                push_span(&mut blocks, span, in_item);
            }
            Event::SoftBreak | Event::HardBreak => push_span(&mut blocks, Span::text(" "), in_item),
            _ => {}
        }
    }
    blocks.retain(|b| match b {
        Block::Paragraph { spans } => !spans.is_empty(),
        Block::BulletList { items } => !items.is_empty(),
        _ => true,
    });
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> KnowledgeBase {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo");
        KnowledgeBase::load(&root.join("kb"), &root.join("catalogue.json")).unwrap()
    }

    #[test]
    fn markdown_becomes_blocks_and_spans() {
        let doc = FaqDocument::parse("t", "# T\nkeywords: a, b c\nurl: https://x.dk/t\n\nSome **bold** and [a link](https://x.dk).\n\n- one\n- two ~~old~~\n").unwrap();
        assert_eq!(doc.keywords, ["a", "b c"]);
        assert_eq!(doc.url.as_deref(), Some("https://x.dk/t"));
        assert_eq!(doc.blocks.len(), 2);
        let Block::Paragraph { spans } = &doc.blocks[0] else {
            panic!()
        };
        assert_eq!(spans[1], Span::bold("bold"));
        assert_eq!(spans[3], Span::link("a link", "https://x.dk"));
        let Block::BulletList { items } = &doc.blocks[1] else {
            panic!()
        };
        assert_eq!(items[1].spans, [Span::text("two "), Span::strike("old")]);
        assert!(FaqDocument::parse("t", "no title").is_err());
    }

    #[test]
    fn newcomer_questions_find_their_document() {
        let kb = demo();
        for (q, doc) in [
            ("How long does shipping take?", "shipping"),
            ("Do you deliver to Norway?", "shipping"),
            ("Can I return something I bought?", "returns"),
            ("How do I get a refund?", "returns"),
            ("When are you open on Saturday?", "opening-hours"),
            ("What is your address?", "opening-hours"),
            ("Can I pay with MobilePay?", "payment"),
            ("Where is my order?", "order-status"),
            ("How can I track my parcel?", "order-status"),
        ] {
            assert_eq!(kb.best_faq(q).map(|d| d.name.as_str()), Some(doc), "{q}");
        }
        assert!(kb.best_faq("asdf qwerty").is_none());
    }

    #[test]
    fn product_search_by_name_category_and_price() {
        let kb = demo();
        let ids = |q: &str| {
            kb.search_products(q)
                .map(|items| items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>())
        };
        assert_eq!(ids("Tell me about the Skagen"), Some(vec!["skagen"]));
        assert_eq!(ids("Do you have a floor lamp?"), Some(vec!["skagen"]));
        assert_eq!(
            ids("Which lamps do you have?"),
            Some(vec!["fjord", "lys", "aurora", "skagen"])
        );
        assert_eq!(
            ids("Show me textiles"),
            Some(vec!["bolge", "hygge", "nord"])
        );
        assert_eq!(ids("lamps under 1000 kr"), Some(vec!["fjord", "lys"]));
        assert_eq!(
            ids("What can I buy below 600?"),
            Some(vec!["bolge", "hygge"])
        );
        assert_eq!(ids("What is your cheapest product?"), Some(vec!["bolge"]));
        assert_eq!(ids("your most expensive lamp"), Some(vec!["skagen"]));
        assert_eq!(ids("How long does shipping take?"), None);
    }

    #[test]
    fn bad_catalogues_name_the_problem() {
        let dir = std::env::temp_dir().join(format!("dgbot-kb-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("kb")).unwrap();
        std::fs::write(dir.join("kb/a.md"), "# A\n\nText.\n").unwrap();
        std::fs::write(
            dir.join("c.json"),
            r#"[{"id":"x","title":"X","category":"C","url":"/x"}]"#,
        )
        .unwrap();
        let err = KnowledgeBase::load(&dir.join("kb"), &dir.join("c.json")).unwrap_err();
        assert!(err.contains("c.json") && err.contains("price"), "{err}");
        std::fs::write(
            dir.join("c.json"),
            r#"[{"id":"x","title":"X","category":"C","url":"/x","price":1,"colour":"red"}]"#,
        )
        .unwrap();
        let err = KnowledgeBase::load(&dir.join("kb"), &dir.join("c.json")).unwrap_err();
        assert!(err.contains("colour"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
