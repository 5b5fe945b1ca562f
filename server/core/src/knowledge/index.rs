//! Retrieval over passages (issue 26): BM25 (tantivy) with per-language analysis, boosted by
//! titles and headings, tolerant of small typos, and a calibrated confidence below which the
//! assistant says it does not know.
//!
//! Each passage is indexed twice: in its own language's fields (stop words out, words stemmed:
//! "fragten" and "fragt" meet) and in language-blind fields (lower case, accents folded), which
//! serve languages without a stemmer and typo-tolerant matching. A question is analysed for
//! every language the index holds, so a Danish question finds Danish passages by their stems
//! whatever language it was detected as.
//!
//! The confidence of a hit is its *coverage*: the share of the question's content words (each
//! weighted by how rare it is in the knowledge, its IDF) that the passage contains, a word
//! within one typo of a passage word counting. BM25 scores rank; coverage, which does not grow
//! with the size of the site, decides whether the best hit answers the question at all.

use std::collections::{BTreeSet, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter,
    TextAnalyzer, TokenStream,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

use super::lang::{self, Lang};

/// A passage as the index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// The page title and the heading path, joined: what the passage is about.
    pub heading: String,
    pub text: String,
    pub lang: Lang,
}

/// One passage found for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The passage's position in the list the index was built from.
    pub passage: usize,
    /// BM25, with the boosts: orders the hits.
    pub score: f32,
    /// 0–1: how much of the question the passage covers (see the module doc).
    pub coverage: f32,
    /// The same share counting only the question's words that the knowledge has at all (a
    /// word no passage has cannot be answered by any, and says nothing about this one).
    pub known_coverage: f32,
    /// The share (IDF-weighted) of the question's words that the passage's headings have.
    pub heading_coverage: f32,
}

const TOP: usize = 8;
/// Title and headings count this much more than the text.
const HEADING_BOOST: f32 = 0.7;
/// The language-blind fields, and a typo's match there, count less than a stemmed match.
const PLAIN_BOOST: f32 = 0.4;
const FUZZY_BOOST: f32 = 0.25;
/// A word this long or longer may be matched with one typo.
const FUZZY_FROM: usize = 5;

struct Fields {
    id: Field,
    /// `(language, heading field, text field)` for each stemmed language.
    stemmed: Vec<(Lang, Field, Field)>,
    plain_heading: Field,
    plain_text: Field,
}

/// A chatbot's passages, searchable. Built whole from the passages (in memory: a thousand-page
/// site's passages index in about a second), and built again when they change.
pub struct PassageIndex {
    reader: IndexReader,
    fields: Fields,
    /// The languages with a passage, so a question is analysed for those only.
    langs: BTreeSet<Lang>,
    docs: Vec<Doc>,
}

fn analyzer(lang: Option<Lang>) -> TextAnalyzer {
    let base = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match lang.and_then(Lang::stemmer) {
        Some(stem) => {
            let builder = base.dynamic();
            let builder = match StopWordFilter::new(stem) {
                Some(stop) => builder.filter_dynamic(stop),
                None => builder,
            };
            let builder = match lang.map(question_words) {
                Some(words) if !words.is_empty() => builder.filter_dynamic(StopWordFilter::remove(
                    words.iter().map(|w| (*w).to_owned()),
                )),
                _ => builder,
            };
            builder
                .filter_dynamic(Stemmer::new(stem))
                .filter_dynamic(AsciiFoldingFilter)
                .build()
        }
        // The language-blind fields: no stemming, but no question words of any language
        // either ("how", "do", "what" would otherwise pick sections that only share them).
        None => base
            .filter(StopWordFilter::remove(
                Lang::ALL
                    .iter()
                    .flat_map(|l| question_words(*l).iter())
                    .chain(ENGLISH_STOP_WORDS.iter())
                    .map(|w| (*w).to_owned()),
            ))
            .filter(AsciiFoldingFilter)
            .build(),
    }
}

fn tokenizer_name(lang: Option<Lang>) -> String {
    match lang {
        Some(l) => format!("dg_{}", l.code()),
        None => "dg_plain".into(),
    }
}

/// The tokens of `text` for `lang` (`None`: language-blind).
/// The words of a visitor's question that say how it is asked, not what about: pronouns,
/// question words, auxiliaries, greetings. The stemmers' stop word lists leave many of them in
/// (English's is Lucene's short one: "do" and "you" would count as topics).
pub fn question_words(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => &[
            "i", "me", "my", "we", "us", "our", "you", "your", "yours", "he", "she", "they",
            "them", "their", "its", "what", "which", "who", "whom", "whose", "when", "where",
            "why", "how", "do", "does", "did", "done", "can", "could", "would", "should", "shall",
            "may", "might", "must", "have", "has", "had", "am", "were", "been", "being", "get",
            "got", "please", "tell", "know", "want", "need", "any", "some", "there", "here",
            "about", "hi", "hello", "hey", "thanks", "thank", "also", "just", "so", "from", "i'm",
            "i'd", "don't", "can't", "it's", "what's", "much", "many",
        ],
        Lang::Da => &[
            "hvordan", "hvornår", "hvem", "hvilken", "hvilket", "hvilke", "hvorfor", "kan",
            "jeres", "hej", "tak", "gerne",
        ],
        Lang::Nb => &[
            "hvordan", "når", "hvem", "hvilken", "hvilket", "hvilke", "hvorfor", "hva", "kan",
            "dere", "deres", "hei", "takk", "gjerne",
        ],
        Lang::Sv => &[
            "hur", "vad", "när", "var", "varför", "vilken", "vilket", "vilka", "vem", "kan", "ni",
            "er", "hej", "tack", "gärna",
        ],
        Lang::De => &[
            "wie", "was", "wann", "wo", "warum", "welche", "welcher", "welches", "wer", "kann",
            "können", "ihr", "ihre", "hallo", "danke", "bitte", "gibt",
        ],
        Lang::Nl => &[
            "hoe", "wat", "wanneer", "waar", "waarom", "welke", "wie", "kan", "kunnen", "jullie",
            "hallo", "bedankt", "graag",
        ],
        Lang::Fr => &[
            "comment", "quoi", "quand", "où", "pourquoi", "quel", "quelle", "quels", "quelles",
            "qui", "est-ce", "puis", "peux", "pouvez", "bonjour", "merci",
        ],
        Lang::Es => &[
            "cómo", "qué", "cuándo", "dónde", "por", "cuál", "cuáles", "quién", "puedo", "pueden",
            "puede", "hola", "gracias",
        ],
        _ => &[],
    }
}

/// Lucene's English stop words (what the English analyzer drops too).
const ENGLISH_STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

fn tokens(lang: Option<Lang>, text: &str) -> Vec<String> {
    let mut analyzer = analyzer(lang);
    let mut stream = analyzer.token_stream(text);
    let mut out = vec![];
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// Whether `a` and `b` are at most one edit apart (insert, delete, substitute, or swap of two
/// neighbours).
fn one_typo(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    if a.len() == b.len() {
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        return match diff.as_slice() {
            [] | [_] => true,
            [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
            _ => false,
        };
    }
    let (short, long) = if a.len() < b.len() { (a, b) } else { (b, a) };
    let mut skipped = false;
    let (mut i, mut j) = (0, 0);
    while i < short.len() && j < long.len() {
        if short[i] == long[j] {
            i += 1;
        } else if skipped {
            return false;
        } else {
            skipped = true;
        }
        j += 1;
    }
    true
}

impl PassageIndex {
    /// Index `docs` (their positions are the hits' `passage`).
    pub fn build(docs: Vec<Doc>) -> tantivy::Result<PassageIndex> {
        let langs: BTreeSet<Lang> = docs.iter().map(|d| d.lang).collect();
        let mut schema = Schema::builder();
        let text = |lang: Option<Lang>| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(&tokenizer_name(lang))
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
        };
        let id = schema.add_u64_field("id", NumericOptions::default().set_stored());
        let mut stemmed = vec![];
        for lang in langs.iter().filter(|l| l.stemmer().is_some()) {
            let heading =
                schema.add_text_field(&format!("heading_{}", lang.code()), text(Some(*lang)));
            let body = schema.add_text_field(&format!("text_{}", lang.code()), text(Some(*lang)));
            stemmed.push((*lang, heading, body));
        }
        let plain_heading = schema.add_text_field("heading", text(None));
        let plain_text = schema.add_text_field("text", text(None));
        let index = Index::create_in_ram(schema.build());
        for lang in &langs {
            index
                .tokenizers()
                .register(&tokenizer_name(Some(*lang)), analyzer(Some(*lang)));
        }
        index
            .tokenizers()
            .register(&tokenizer_name(None), analyzer(None));
        let fields = Fields {
            id,
            stemmed,
            plain_heading,
            plain_text,
        };
        let mut writer = index.writer_with_num_threads(1, 32 * 1024 * 1024)?;
        for (i, d) in docs.iter().enumerate() {
            let mut doc = TantivyDocument::default();
            doc.add_u64(fields.id, i as u64);
            if let Some((_, heading, body)) = fields.stemmed.iter().find(|(l, ..)| *l == d.lang) {
                doc.add_text(*heading, &d.heading);
                doc.add_text(*body, &d.text);
            }
            doc.add_text(fields.plain_heading, &d.heading);
            doc.add_text(fields.plain_text, &d.text);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        Ok(PassageIndex {
            reader,
            fields,
            langs,
            docs,
        })
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The passages that best answer `question`, best first, each with its coverage.
    pub fn search(&self, question: &str) -> Vec<Hit> {
        self.search_inner(question).unwrap_or_else(|e| {
            tracing::warn!("retrieval: {e}");
            vec![]
        })
    }

    fn search_inner(&self, question: &str) -> tantivy::Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![];
        let boosted = |q: Box<dyn Query>, boost: f32| -> (Occur, Box<dyn Query>) {
            (Occur::Should, Box::new(BoostQuery::new(q, boost)))
        };
        for (lang, heading, body) in &self.fields.stemmed {
            for t in tokens(Some(*lang), question)
                .into_iter()
                .collect::<BTreeSet<_>>()
            {
                for (field, boost) in [(*heading, HEADING_BOOST), (*body, 1.0)] {
                    let term = Term::from_field_text(field, &t);
                    clauses.push(boosted(
                        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                        boost,
                    ));
                }
            }
        }
        for t in tokens(None, question).into_iter().collect::<BTreeSet<_>>() {
            for (field, boost) in [
                (self.fields.plain_heading, HEADING_BOOST * PLAIN_BOOST),
                (self.fields.plain_text, PLAIN_BOOST),
            ] {
                let term = Term::from_field_text(field, &t);
                clauses.push(boosted(
                    Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                    boost,
                ));
                // A word the knowledge does not have may be a typo: one edit away counts (a
                // known word is matched as it is: fuzzy matches of it only add noise).
                if t.chars().count() >= FUZZY_FROM
                    && field == self.fields.plain_text
                    && searcher.doc_freq(&term).unwrap_or(0) == 0
                {
                    clauses.push(boosted(
                        Box::new(FuzzyTermQuery::new(term, 1, true)),
                        FUZZY_BOOST,
                    ));
                }
            }
        }
        if clauses.is_empty() {
            return Ok(vec![]);
        }
        let query = BooleanQuery::new(clauses);
        let top = searcher.search(&query, &TopDocs::with_limit(TOP).order_by_score())?;
        let mut hits = vec![];
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let Some(passage) = doc.get_first(self.fields.id).and_then(|v| v.as_u64()) else {
                continue;
            };
            let passage = passage as usize;
            let (coverage, known_coverage, heading_coverage) =
                self.coverage(&searcher, question, &self.docs[passage]);
            hits.push(Hit {
                passage,
                score,
                coverage,
                known_coverage,
                heading_coverage,
            });
        }
        Ok(hits)
    }

    /// The share of the question's content words, weighted by their IDF in the passage's
    /// language, that the passage has (one typo allowed in words of five letters or more).
    fn coverage(&self, searcher: &tantivy::Searcher, question: &str, doc: &Doc) -> (f32, f32, f32) {
        let stemmed = self.fields.stemmed.iter().find(|(l, ..)| *l == doc.lang);
        let (lang, fields) = match stemmed {
            Some((l, heading, body)) => (Some(*l), [*heading, *body]),
            None => (None, [self.fields.plain_heading, self.fields.plain_text]),
        };
        let asked: BTreeSet<String> = tokens(lang, question).into_iter().collect();
        if asked.is_empty() {
            return (0.0, 0.0, 0.0);
        }
        let in_heading: HashSet<String> = tokens(lang, &doc.heading).into_iter().collect();
        let has: HashSet<String> = tokens(lang, &format!("{}\n{}", doc.heading, doc.text))
            .into_iter()
            .collect();
        let n = searcher.num_docs() as f32;
        let (mut matched, mut all, mut known, mut headed) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for word in &asked {
            // How many passages have the word, in their heading or their text.
            let df = fields
                .iter()
                .map(|f| {
                    searcher
                        .doc_freq(&Term::from_field_text(*f, word))
                        .unwrap_or(0)
                })
                .max()
                .unwrap_or(0) as f32;
            // A word no passage has weighs as much as the rarest word one has (in a small
            // site's knowledge, an unknown word would otherwise outweigh all the rest).
            let idf = (1.0 + n / (df.max(1.0) + 1.0)).ln();
            all += idf;
            if df > 0.0 {
                known += idf;
            }
            let found = has.contains(word)
                || (word.chars().count() >= FUZZY_FROM && has.iter().any(|h| one_typo(word, h)));
            if found {
                matched += idf;
            }
            if in_heading.contains(word) {
                headed += idf;
            }
        }
        let share = |of: f32| {
            if of == 0.0 {
                0.0
            } else {
                (matched / of).min(1.0)
            }
        };
        let heading = if all == 0.0 { 0.0 } else { headed / all };
        (share(all), share(known), heading)
    }

    /// The languages the index holds.
    pub fn languages(&self) -> impl Iterator<Item = Lang> + '_ {
        self.langs.iter().copied()
    }
}

/// The language of a passage: its page's declared language when it has one we know, else
/// detected from its text, else `fallback`.
pub fn passage_lang(declared: Option<&str>, text: &str, fallback: Lang) -> Lang {
    declared
        .and_then(Lang::from_tag)
        .or_else(|| lang::detect(text))
        .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(heading: &str, text: &str, lang: Lang) -> Doc {
        Doc {
            heading: heading.into(),
            text: text.into(),
            lang,
        }
    }

    fn shop() -> PassageIndex {
        PassageIndex::build(vec![
            doc(
                "Shipping › Delivery times",
                "We ship within Denmark in 2–4 business days. Orders placed before 14:00 leave the same day.",
                Lang::En,
            ),
            doc(
                "Shipping › Countries",
                "We deliver to the Nordic countries and the EU. We do not ship to the USA or Canada yet.",
                Lang::En,
            ),
            doc(
                "Returns",
                "You can return any lamp within 30 days for a full refund.",
                Lang::En,
            ),
            doc(
                "Levering › Fragtpriser",
                "Fragten koster 49 kr. Over 500 kr er fragten gratis.",
                Lang::Da,
            ),
            doc(
                "Versand › Kosten",
                "Der Versand kostet 49 Kronen, ab 500 Kronen ist er kostenlos.",
                Lang::De,
            ),
        ])
        .unwrap()
    }

    #[test]
    fn finds_the_section_in_the_questions_language() {
        let index = shop();
        let best = |q: &str| index.search(q)[0].passage;
        assert_eq!(best("Do you ship to the USA?"), 1);
        assert_eq!(best("how long does delivery take"), 0);
        assert_eq!(best("can I send a lamp back?"), 2);
        assert_eq!(
            best("hvad koster fragt?"),
            3,
            "Danish, stemmed: fragt ~ fragten"
        );
        assert_eq!(best("Was kostet der Versand?"), 4);
    }

    #[test]
    fn a_typo_still_finds_it() {
        let index = shop();
        let hits = index.search("do you shipp to canadda");
        assert_eq!(hits[0].passage, 1);
        assert!(hits[0].coverage > 0.5, "{hits:?}");
    }

    #[test]
    fn coverage_tells_an_answer_from_a_guess() {
        let index = shop();
        let answered = index.search("Do you ship to the USA?");
        assert!(answered[0].coverage > 0.6, "{answered:?}");
        let unrelated = index.search("what will the weather be like tomorrow?");
        assert!(
            unrelated.first().is_none_or(|h| h.coverage < 0.3),
            "{unrelated:?}"
        );
    }

    #[test]
    fn typos_are_one_edit() {
        assert!(one_typo("shipping", "shiping"));
        assert!(one_typo("canada", "canadda"));
        assert!(one_typo("return", "retrun"));
        assert!(!one_typo("return", "refund"));
        assert!(!one_typo("abc", "abcde"));
    }

    #[test]
    fn the_index_holds_each_language_once() {
        let index = shop();
        assert_eq!(
            index.languages().collect::<Vec<_>>(),
            [Lang::En, Lang::Da, Lang::De]
        );
        assert_eq!(
            index.reader.searcher().schema().fields().count(),
            1 + 2 * 3 + 2
        );
    }
}

#[cfg(test)]
mod token_tests {
    #[test]
    fn question_words_are_not_topics() {
        let t = |l, s| super::tokens(Some(l), s);
        use super::Lang;
        assert_eq!(
            t(Lang::En, "Do you offer discounts?"),
            ["offer", "discount"]
        );
        assert_eq!(
            t(Lang::En, "Can you gift wrap my order?"),
            ["gift", "wrap", "order"]
        );
        assert_eq!(
            t(Lang::Da, "Hvor lang tid tager levering til Island?"),
            ["lang", "tid", "tag", "levering", "island"]
        );
    }
}
