//! What both responders say from the chatbot's knowledge: a passage quoted under its heading,
//! the `sources` part that ends a grounded answer and the `suggestions` after it (related
//! sections' headings), and the honest "I don't know" (in the visitor's language, offering a
//! person when livechat is live, else a way to leave a message; also the next step after a
//! "not helpful" vote).

use dgbot_protocol::Part;
use dgbot_protocol::message::{
    Block, ContactFormMarker, FieldKind, FormField, HumanAgentMarker, ListItem, RichText, Source,
    SourcesPart, Span, SuggestionsPart,
};

use crate::knowledge::base::KnowledgeBase;
use crate::knowledge::lang::{self, Lang};

/// A passage's text as blocks, under its heading in bold: lines starting `- ` become a list,
/// the others paragraphs.
pub fn passage_blocks(heading: Option<&str>, text: &str) -> Vec<Block> {
    let mut blocks = vec![];
    if let Some(h) = heading.filter(|h| !h.trim().is_empty()) {
        blocks.push(Block::paragraph(vec![Span::bold(h.trim())]));
    }
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.strip_prefix("- ").or_else(|| line.strip_prefix("• ")) {
            Some(item) => {
                let item = ListItem {
                    spans: vec![Span::text(item.trim())],
                };
                match blocks.last_mut() {
                    Some(Block::BulletList { items }) => items.push(item),
                    _ => blocks.push(Block::BulletList { items: vec![item] }),
                }
            }
            None => blocks.push(Block::paragraph(vec![Span::text(line)])),
        }
    }
    blocks
}

/// A passage as a `rich_text` part.
pub fn passage_part(part_id: String, heading: Option<&str>, text: &str) -> Part {
    Part::RichText(RichText {
        part_id,
        blocks: passage_blocks(heading, text),
    })
}

/// The `sources` part: each URL once (the first title it came with), in the order given.
pub fn sources_part(part_id: String, sources: impl IntoIterator<Item = Source>) -> Option<Part> {
    let mut out: Vec<Source> = vec![];
    for s in sources {
        let duplicate = out
            .iter()
            .any(|o| o.url == s.url && (o.title == s.title || !s.url.is_empty()));
        if !duplicate {
            out.push(s);
        }
    }
    (!out.is_empty()).then_some(Part::Sources(SourcesPart {
        part_id,
        sources: out,
    }))
}

/// Up to [`SuggestionsPart::MAX`] follow-up questions after an answer to `question` in `lang`
/// that used the `answered` sections: the headings of the knowledge's other passages the
/// question finds, in that language, best first, each once, none the same as the question or
/// an answered section's heading. A heading is what a visitor clicks and sends as it is: the
/// retrieval finds the section by its heading (headings are boosted).
pub fn follow_ups(
    kb: &KnowledgeBase,
    question: &str,
    answered: &[Source],
    lang: &str,
    base: &str,
) -> Vec<String> {
    let norm = |s: &str| {
        s.trim()
            .trim_end_matches(['?', '.', '!', '…'])
            .trim()
            .to_lowercase()
    };
    let mut taken: Vec<String> = answered
        .iter()
        .map(|s| norm(s.title.rsplit(" › ").next().unwrap_or("")))
        .chain([norm(question)])
        .collect();
    let mut out = vec![];
    for found in kb.ranked(question) {
        let entry = found.entry;
        if entry.product.is_some() || entry.passage.lang != lang {
            continue;
        }
        let source = entry.source(base);
        if answered
            .iter()
            .any(|a| a.url == source.url && a.title == source.title)
        {
            continue;
        }
        let heading = entry.section_title().trim();
        let key = norm(heading);
        if key.is_empty() || taken.contains(&key) || heading.chars().count() > 120 {
            continue;
        }
        taken.push(key);
        out.push(heading.to_owned());
        if out.len() == SuggestionsPart::MAX {
            break;
        }
    }
    out
}

/// The `suggestions` part that ends an answer, when there are any.
pub fn suggestions_part(part_id: String, suggestions: Vec<String>) -> Option<Part> {
    (!suggestions.is_empty()).then_some(Part::Suggestions(SuggestionsPart {
        part_id,
        suggestions,
    }))
}

/// The words of an honest "I don't know", in one language.
struct Phrases {
    dont_know: &'static str,
    /// After a "not helpful" vote on an answer.
    sorry: &'static str,
    person: &'static str,
    message: &'static str,
    name: &'static str,
    email: &'static str,
    question: &'static str,
}

fn phrases(lang: &str) -> Phrases {
    let p = |dont_know, sorry, person, message, name, email, question| Phrases {
        dont_know,
        sorry,
        person,
        message,
        name,
        email,
        question,
    };
    match lang {
        "da" => p(
            "Det ved jeg desværre ikke noget om, og jeg vil ikke gætte.",
            "Beklager, at det ikke hjalp.",
            "En kollega fra vores team kan tage over her i chatten.",
            "Skriv dit spørgsmål og din e-mail, så vender vi tilbage til dig.",
            "Dit navn",
            "E-mail",
            "Dit spørgsmål",
        ),
        "sv" => p(
            "Det vet jag tyvärr inte, och jag vill inte gissa.",
            "Förlåt att det inte hjälpte.",
            "En kollega från vårt team kan ta över chatten.",
            "Lämna din fråga och din e-post, så återkommer vi till dig.",
            "Ditt namn",
            "E-post",
            "Din fråga",
        ),
        "nb" => p(
            "Det vet jeg dessverre ikke, og jeg vil ikke gjette.",
            "Beklager at det ikke hjalp.",
            "En kollega fra teamet vårt kan ta over chatten.",
            "Legg igjen spørsmålet og e-posten din, så tar vi kontakt.",
            "Navnet ditt",
            "E-post",
            "Spørsmålet ditt",
        ),
        "de" => p(
            "Das weiß ich leider nicht, und raten möchte ich nicht.",
            "Schade, dass das nicht geholfen hat.",
            "Eine Kollegin oder ein Kollege aus unserem Team kann den Chat übernehmen.",
            "Hinterlassen Sie Ihre Frage und Ihre E-Mail-Adresse, wir melden uns bei Ihnen.",
            "Ihr Name",
            "E-Mail",
            "Ihre Frage",
        ),
        "nl" => p(
            "Dat weet ik helaas niet, en ik wil niet gokken.",
            "Sorry dat dit niet hielp.",
            "Een collega van ons team kan de chat overnemen.",
            "Laat je vraag en e-mailadres achter, dan nemen we contact met je op.",
            "Je naam",
            "E-mail",
            "Je vraag",
        ),
        "fr" => p(
            "Je ne sais malheureusement pas, et je préfère ne pas deviner.",
            "Désolé que cela ne vous ait pas aidé.",
            "Un membre de notre équipe peut reprendre la conversation.",
            "Laissez votre question et votre e-mail, nous vous répondrons.",
            "Votre nom",
            "E-mail",
            "Votre question",
        ),
        "es" => p(
            "Lo siento, no lo sé y prefiero no adivinar.",
            "Siento que no te haya ayudado.",
            "Una persona de nuestro equipo puede continuar el chat.",
            "Déjanos tu pregunta y tu correo, y te responderemos.",
            "Tu nombre",
            "Correo electrónico",
            "Tu pregunta",
        ),
        _ => p(
            "I'm sorry, I don't know that, and I'd rather not guess.",
            "Sorry that didn't help.",
            "A colleague from our team can take over this chat.",
            "Leave your question and your email, and we'll get back to you.",
            "Your name",
            "Email",
            "Your question",
        ),
    }
}

/// The language to answer `question` in: the question's own when it is clear, else
/// `fallback` (the chatbot's or the visitor's).
pub fn language_of(question: &str, fallback: &str) -> String {
    // A short question is a hard guess ("Do you send parcels to Iceland?" reads as
    // Portuguese): the guess counts when it is a safe one, or when the question has one of
    // that language's question words ("hvem", "wer", "what").
    let lower = question.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect();
    let asks_in = |l: Lang| {
        crate::knowledge::index::question_words(l)
            .iter()
            .any(|q| words.contains(q))
    };
    match lang::detect_reliable(question).or_else(|| lang::detect(question).filter(|l| asks_in(*l)))
    {
        Some(l) if l != Lang::Other => l.code().to_owned(),
        _ => fallback.to_owned(),
    }
}

/// The language an answer is written in: a guess from its own words when it has enough of
/// them to tell (a quoted passage), else `fallback` (its question's).
pub fn language_of_answer(answer: &str, fallback: &str) -> String {
    if answer.split_whitespace().count() >= 8
        && let Some(l) = lang::detect(answer).filter(|l| *l != Lang::Other)
    {
        return l.code().to_owned();
    }
    fallback.to_owned()
}

/// "I don't know", in `lang`, and what the chatbot has instead: a person when livechat is
/// live (`request_human_agent`), else a contact form. Never a document.
pub fn dont_know(reply_id: &str, lang: &str, livechat_live: bool) -> Vec<Part> {
    let words = phrases(lang);
    next_step(
        reply_id,
        &words,
        words.dont_know,
        livechat_live,
        "The assistant did not know the answer",
    )
}

/// What the chatbot offers after a "not helpful" vote on an answer, in `lang`: "Sorry that
/// didn't help.", then a person when livechat is live (`request_human_agent`), else a contact
/// form, as [`dont_know`] does.
pub fn not_helpful(reply_id: &str, lang: &str, livechat_live: bool) -> Vec<Part> {
    let words = phrases(lang);
    next_step(
        reply_id,
        &words,
        words.sorry,
        livechat_live,
        "The visitor found an answer unhelpful",
    )
}

/// `lead` and the offer as a paragraph, then the marker.
fn next_step(
    reply_id: &str,
    words: &Phrases,
    lead: &str,
    livechat_live: bool,
    reason: &str,
) -> Vec<Part> {
    let id = |n: u32| format!("{reply_id}_part_{n}");
    let offer = if livechat_live {
        words.person
    } else {
        words.message
    };
    let text = Part::RichText(RichText {
        part_id: id(1),
        blocks: vec![Block::paragraph(vec![Span::text(format!(
            "{lead} {offer}"
        ))])],
    });
    let marker = if livechat_live {
        Part::RequestHumanAgent(HumanAgentMarker {
            part_id: id(2),
            reason: Some(reason.into()),
        })
    } else {
        let field = |key: &str, label: &str, kind, required| FormField {
            key: key.into(),
            label: label.into(),
            kind,
            required,
        };
        Part::ShowContactForm(ContactFormMarker {
            part_id: id(2),
            fields: vec![
                field("name", words.name, FieldKind::Text, false),
                field("email", words.email, FieldKind::Email, true),
                field("message", words.question, FieldKind::Textarea, true),
            ],
        })
    };
    vec![text, marker]
}
