//! One chatbot's knowledge in memory, built from its documents in the store: the passages of
//! its pages and files with their retrieval index, its curated answers, and its products. The
//! seam both responders use: [`KnowledgeBase::curated`] (a site owner's own answer to a
//! question), [`KnowledgeBase::retrieve`] (the passages that answer it, or none when nothing is
//! relevant enough) and [`KnowledgeBase::products`].

use dgbot_protocol::message::{Source, SourceKind};

use super::index::{Doc, PassageIndex};
use super::lang::Lang;
use super::products::{CatalogueItem, search_products};
use crate::model::knowledge::{DocumentRecord, DocumentState, Passage};

/// A passage and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub source_id: String,
    /// The document's title.
    pub title: String,
    /// The document's URL: absolute, a path on this server, or empty (a file with no page).
    pub url: String,
    pub passage: Passage,
    /// A product's entry: its position in [`KnowledgeBase::catalogue`].
    pub product: Option<usize>,
}

impl Entry {
    /// The URL to cite: the page with the section's `#anchor`, absolute against `base` when
    /// it is a path on this server; `None` when the document has no page.
    pub fn cited_url(&self, base: &str) -> Option<String> {
        let url = &self.url;
        let page = if url.starts_with('/') {
            format!("{base}{url}")
        } else if url.starts_with("https://") || url.starts_with("http://") {
            url.clone()
        } else {
            return None;
        };
        Some(match &self.passage.anchor {
            Some(anchor) if !anchor.is_empty() => format!("{page}#{anchor}"),
            _ => page,
        })
    }

    /// The heading a visitor sees above the quoted passage: its section's, else the title.
    pub fn section_title(&self) -> &str {
        let heading = self.passage.heading.rsplit(" › ").next().unwrap_or("");
        if heading.is_empty() {
            &self.title
        } else {
            heading
        }
    }

    /// As an answer's source.
    pub fn source(&self, base: &str) -> Source {
        Source {
            kind: if self.product.is_some() {
                SourceKind::Product
            } else {
                SourceKind::Document
            },
            title: self.passage.heading.clone(),
            url: self.cited_url(base).unwrap_or_default(),
        }
    }
}

/// A passage found for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<'a> {
    pub entry: &'a Entry,
    pub score: f32,
    /// The IDF-weighted share of the question's words the passage has.
    pub coverage: f32,
    /// The same, of the question's words the knowledge has at all.
    pub known_coverage: f32,
    /// The share of the question's words in the passage's headings.
    pub heading_coverage: f32,
}

/// A passage answers the question when it has at least this share of the question's words
/// that the knowledge has anywhere ([`Found::known_coverage`]) and [`RELEVANT_COVERAGE`] of
/// all of them (calibrated on the evaluation set, `eval/`; BENCHMARKS.md has the figures).
pub const RELEVANT_KNOWN: f32 = 0.3;
pub const RELEVANT_COVERAGE: f32 = 0.4;
/// Less is enough when the passage's headings name what the question is about.
pub const RELEVANT_WITH_HEADING: f32 = 0.25;
const HEADING_NAMES_IT: f32 = 0.25;
/// A curated answer wins when its question has this much of the visitor's (IDF-weighted).
pub const CURATED_COVERAGE: f32 = 0.6;
/// A passage in another language than the question's counts this share of its score.
const OTHER_LANGUAGE: f32 = 0.6;
/// Passages within this share of the best one's score are cited with it.
const ALSO_CITED: f32 = 0.75;

#[derive(Default)]
pub struct KnowledgeBase {
    /// The store's knowledge version this was built from.
    pub version: u64,
    pub catalogue: Vec<CatalogueItem>,
    entries: Vec<Entry>,
    index: Option<PassageIndex>,
    curated: Vec<Entry>,
    curated_index: Option<PassageIndex>,
}

impl std::fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeBase")
            .field("version", &self.version)
            .field("passages", &self.entries.len())
            .field("curated", &self.curated.len())
            .field("products", &self.catalogue.len())
            .finish()
    }
}

fn docs_of(entries: &[Entry], curated: bool) -> Vec<Doc> {
    entries
        .iter()
        .map(|e| {
            let lang = Lang::from_tag(&e.passage.lang).unwrap_or(Lang::En);
            // A product's name counts as its text, not as a heading: a page's section about
            // the question outranks a product that is only named in it.
            let (heading, text) = if curated {
                (e.passage.keywords.clone(), String::new())
            } else if e.product.is_some() {
                (
                    String::new(),
                    format!("{}\n{}", e.passage.heading, e.passage.text),
                )
            } else {
                (
                    format!("{}\n{}", e.passage.heading, e.passage.keywords),
                    e.passage.text.clone(),
                )
            };
            Doc {
                heading,
                text,
                lang,
            }
        })
        .collect()
}

fn index_of(docs: Vec<Doc>) -> Option<PassageIndex> {
    if docs.is_empty() {
        return None;
    }
    PassageIndex::build(docs)
        .map_err(|e| tracing::error!("the knowledge index: {e}"))
        .ok()
}

impl KnowledgeBase {
    /// The knowledge of these documents (each with its source's id), as of `version`.
    pub fn build(version: u64, documents: Vec<(String, DocumentRecord)>) -> KnowledgeBase {
        let (mut entries, mut curated, mut catalogue) = (vec![], vec![], vec![]);
        for (source_id, doc) in documents {
            if doc.state != DocumentState::Ok {
                continue;
            }
            catalogue.extend(doc.products);
            let is_qa = doc.url.starts_with("qa:");
            for passage in doc.passages {
                let entry = Entry {
                    source_id: source_id.clone(),
                    title: doc.title.clone(),
                    url: if is_qa {
                        String::new()
                    } else {
                        doc.url.clone()
                    },
                    passage,
                    product: None,
                };
                if is_qa {
                    curated.push(entry);
                } else {
                    entries.push(entry);
                }
            }
        }
        // A product listed by two sources is shown once (the first source's).
        let mut seen = std::collections::HashSet::new();
        catalogue.retain(|p: &CatalogueItem| seen.insert(p.id.clone()));
        // Products are found like passages too, by their words in any language: a question
        // naming one ("the Aurora") is then a question the knowledge knows about.
        for (i, item) in catalogue.iter().enumerate() {
            let text = format!(
                "{}\n{}\n{}",
                item.description.as_deref().unwrap_or(""),
                item.category,
                item.keywords.join(", ")
            );
            entries.push(Entry {
                source_id: String::new(),
                title: item.title.clone(),
                url: item.url.clone(),
                passage: Passage {
                    heading: item.title.clone(),
                    anchor: None,
                    lang: super::lang::detect(&format!("{}\n{text}", item.title))
                        .unwrap_or(Lang::En)
                        .code()
                        .to_owned(),
                    text,
                    keywords: String::new(),
                },
                product: Some(i),
            });
        }
        KnowledgeBase {
            version,
            catalogue,
            index: index_of(docs_of(&entries, false)),
            entries,
            curated_index: index_of(docs_of(&curated, true)),
            curated,
        }
    }

    /// Passages, curated answers and products in all.
    pub fn len(&self) -> usize {
        self.entries.len() + self.curated.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The passages and products (not the curated answers).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The product of an entry.
    pub fn product_of(&self, entry: &Entry) -> Option<&CatalogueItem> {
        entry.product.and_then(|i| self.catalogue.get(i))
    }

    /// The site owner's own answer, when its question matches the visitor's.
    pub fn curated(&self, question: &str) -> Option<&Entry> {
        let index = self.curated_index.as_ref()?;
        let best = index.search(question).into_iter().next()?;
        // Over a handful of questions every word is rare: all of the visitor's count.
        (best.coverage >= CURATED_COVERAGE).then(|| &self.curated[best.passage])
    }

    /// Every passage the index ranks for `question`, best first (no relevance cut). Where the
    /// knowledge is in several languages, passages in the question's own come first among
    /// close ones (a Danish page does not answer a German question it shares a name with).
    pub fn ranked(&self, question: &str) -> Vec<Found<'_>> {
        let Some(index) = &self.index else {
            return vec![];
        };
        let asked = super::lang::detect(question).map(|l| l.code());
        let mut ranked: Vec<Found<'_>> = index
            .search(question)
            .into_iter()
            .map(|hit| Found {
                entry: &self.entries[hit.passage],
                score: hit.score,
                coverage: hit.coverage,
                known_coverage: hit.known_coverage,
                heading_coverage: hit.heading_coverage,
            })
            .collect();
        if let Some(asked) = asked {
            let weight = |f: &Found<'_>| {
                if f.entry.passage.lang == asked {
                    f.score
                } else {
                    f.score * OTHER_LANGUAGE
                }
            };
            ranked.sort_by(|a, b| weight(b).total_cmp(&weight(a)));
        }
        ranked
    }

    /// The passages that answer `question`, best first, at most `k`: the best one when it is
    /// relevant, and the next ones close to it. Empty: the knowledge does not say.
    pub fn retrieve(&self, question: &str, k: usize) -> Vec<Found<'_>> {
        let ranked = self.ranked(question);
        let Some(best) = ranked.first() else {
            return vec![];
        };
        if !relevant(best) {
            return vec![];
        }
        let top = best.score;
        let mut pages = std::collections::HashSet::new();
        ranked
            .into_iter()
            .filter(|f| f.score >= top * ALSO_CITED && relevant(f))
            // One passage per page section: the same URL is not cited twice.
            .filter(|f| {
                pages.insert(f.entry.cited_url("").unwrap_or_default() + &f.entry.passage.heading)
            })
            .take(k)
            .collect()
    }

    /// Products for `question` (see [`search_products`]); `None` when it is not about products.
    pub fn products(&self, question: &str) -> Option<Vec<&CatalogueItem>> {
        search_products(&self.catalogue, question)
    }
}

fn relevant(f: &Found<'_>) -> bool {
    f.known_coverage >= RELEVANT_KNOWN
        && (f.coverage >= RELEVANT_COVERAGE
            || (f.coverage >= RELEVANT_WITH_HEADING && f.heading_coverage >= HEADING_NAMES_IT))
}

/// A product as an answer's source.
pub fn product_source(item: &CatalogueItem, base: &str) -> Source {
    let product = item.to_product(base);
    Source {
        kind: SourceKind::Product,
        title: product.title,
        url: product.url,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::knowledge::{extract, fetch};

    /// The demo shop's knowledge, as the server builds it from `server/demo/`.
    pub(crate) fn demo() -> KnowledgeBase {
        KnowledgeBase::build(1, demo_documents())
    }

    /// The demo shop's documents.
    pub(crate) fn demo_documents() -> Vec<(String, DocumentRecord)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../demo");
        let mut docs = vec![];
        let mut paths: Vec<_> = std::fs::read_dir(format!("{dir}/kb"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for p in paths {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let doc =
                fetch::file(&name, "text/markdown", &std::fs::read(&p).unwrap(), None).unwrap();
            docs.push((name, doc));
        }
        let catalogue = std::fs::read(format!("{dir}/catalogue.json")).unwrap();
        let products =
            fetch::products(crate::model::knowledge::FeedFormat::Json, &catalogue, "").unwrap();
        docs.push((
            "catalogue".into(),
            DocumentRecord {
                products,
                ..Default::default()
            },
        ));
        docs
    }

    #[test]
    fn visitors_questions_find_their_section() {
        let kb = demo();
        for (q, heading) in [
            (
                "Do you ship to the USA?",
                "Shipping and delivery › Shipping outside the EU",
            ),
            (
                "What is the warranty on the Aurora lamp?",
                "Returns and refunds › Warranty",
            ),
            ("hvad koster fragt?", "Fragt og levering"),
            ("How long does shipping take?", "Shipping and delivery"),
            ("What are your shipping times?", "Shipping and delivery"),
            ("Can I return something I bought?", "Returns and refunds"),
            ("When are you open on Saturday?", "Opening hours"),
            ("Can I pay with MobilePay?", "Payment"),
            ("How can I track my parcel?", "Order status"),
        ] {
            let ranked = kb.ranked(q);
            let top: Vec<_> = ranked
                .iter()
                .take(3)
                .map(|f| {
                    (
                        f.entry.passage.heading.as_str(),
                        f.score,
                        f.coverage,
                        f.known_coverage,
                    )
                })
                .collect();
            let found = kb.retrieve(q, 3);
            assert_eq!(
                found.first().map(|f| f.entry.passage.heading.as_str()),
                Some(heading),
                "{q}: {top:?}"
            );
        }
        for q in ["What is the capital of Peru?", "asdf qwerty"] {
            assert!(
                kb.retrieve(q, 3).is_empty(),
                "{q}: {:?}",
                kb.ranked(q)
                    .first()
                    .map(|f| (&f.entry.passage.heading, f.coverage))
            );
        }
    }

    #[test]
    fn a_curated_answer_wins_when_its_question_matches() {
        let kb = KnowledgeBase::build(
            1,
            vec![("s".into(), {
                let mut doc = fetch::qa(
                    "Do you offer gift wrapping?",
                    "Yes: gift wrapping costs 25 kr and you choose it at checkout.",
                );
                doc.passages[0].lang = "en".into(); // as the sync sets it
                doc
            })],
        );
        assert!(
            kb.curated("Can you gift wrap my order?").is_some(),
            "{:?}",
            kb.curated.first()
        );
        let hits = kb
            .curated_index
            .as_ref()
            .unwrap()
            .search("Do you offer discounts?");
        assert!(kb.curated("Do you offer discounts?").is_none(), "{hits:?}");
    }

    #[test]
    fn a_one_file_knowledge_answers_its_question() {
        let doc = fetch::file(
            "care.md",
            "text/markdown",
            b"# Caring for wool\n\nWash wool throws by hand in cold water and dry them flat.\n",
            None,
        )
        .unwrap();
        let kb = KnowledgeBase::build(1, vec![("s".into(), doc)]);
        let q = "How do I wash a wool throw?";
        let ranked: Vec<_> = kb
            .ranked(q)
            .iter()
            .map(|f| {
                (
                    f.entry.passage.lang.clone(),
                    f.coverage,
                    f.known_coverage,
                    f.heading_coverage,
                )
            })
            .collect();
        assert_eq!(kb.retrieve(q, 3).len(), 1, "{ranked:?}");
    }

    #[test]
    fn a_site_added_to_the_demo_shop_answers_its_own_questions() {
        let page = extract::html(
            r#"<html lang="en"><head><title>Shipping | Nordlys</title></head><body><main><h1>Shipping</h1><p>We send parcels from our warehouse in Aarhus every weekday.</p>
            <h2 id="to-iceland">Shipping to Iceland</h2><p>Parcels to Iceland travel by sea freight in 12 days; duties are paid on arrival.</p>
            <h2 id="to-greenland">Shipping to Greenland</h2><p>Greenland deliveries go with Royal Arctic Line once a month.</p></main></body></html>"#,
        );
        let mut docs: Vec<(String, DocumentRecord)> = vec![];
        let demo = demo_documents();
        docs.extend(demo);
        docs.push((
            "site".into(),
            fetch::page_document("http://x/help/shipping", page),
        ));
        let kb = KnowledgeBase::build(2, docs);
        let q = "Do you send parcels to Iceland?";
        let top: Vec<_> = kb
            .ranked(q)
            .iter()
            .take(4)
            .map(|f| {
                (
                    f.entry.passage.heading.clone(),
                    f.entry.passage.lang.clone(),
                    f.score,
                    f.coverage,
                )
            })
            .collect();
        assert_eq!(
            kb.retrieve(q, 3)
                .first()
                .map(|f| f.entry.passage.heading.as_str()),
            Some("Shipping | Nordlys › Shipping › Shipping to Iceland"),
            "{top:?} {:?}",
            crate::knowledge::lang::detect(q)
        );
    }

    #[test]
    fn product_questions_reach_products() {
        let kb = demo();
        for q in [
            "Do you have a floor lamp?",
            "Which lamps do you recommend?",
            "Do you have a wool throw?",
        ] {
            let top: Vec<_> = kb
                .ranked(q)
                .iter()
                .take(3)
                .map(|f| {
                    (
                        f.entry.passage.heading.clone(),
                        f.entry.product.is_some(),
                        f.score,
                        f.coverage,
                    )
                })
                .collect();
            let first = kb.retrieve(q, 3);
            let shown = first.first().is_none_or(|f| f.entry.product.is_some())
                || crate::knowledge::products::asks_for_products(q);
            assert!(shown, "{q}: {top:?}");
        }
    }
}
