//! The demo bot: answers an example shop's common questions from a small knowledge base.
//! Retrieval is keyword scoring; the full knowledge base and product catalogue come with
//! the reference-server work (issue 5).

use dgbot_protocol::message::{Block, ListItem, RichText, Span};

struct Entry {
    keywords: &'static [&'static str],
    answer: fn() -> Vec<Block>,
}

const KNOWLEDGE: &[Entry] = &[
    Entry { keywords: &["shipping", "delivery", "deliver", "ship", "arrive", "shipped"], answer: shipping },
    Entry { keywords: &["return", "returns", "refund", "exchange", "send back"], answer: returns },
    Entry { keywords: &["open", "opening", "hours", "store", "closed"], answer: opening_hours },
    Entry { keywords: &["pay", "payment", "card", "mobilepay", "invoice", "klarna"], answer: payment },
];

fn shipping() -> Vec<Block> {
    vec![
        Block::paragraph(vec![
            Span::text("Standard shipping takes "),
            Span::bold("2–4 business days"),
            Span::text(" within Denmark and 4–7 business days to the rest of the EU."),
        ]),
        Block::BulletList {
            items: vec![
                ListItem { spans: vec![Span::text("Orders placed before 14:00 on weekdays leave our warehouse the same day.")] },
                ListItem { spans: vec![Span::text("Shipping is "), Span::bold("free"), Span::text(" on orders over 499 kr.")] },
                ListItem { spans: vec![Span::text("You get a tracking link by email as soon as the parcel ships.")] },
            ],
        },
        Block::paragraph(vec![
            Span::text("Read more on our "),
            Span::link("shipping page", "https://example.com/shipping"),
            Span::text("."),
        ]),
    ]
}

fn returns() -> Vec<Block> {
    vec![Block::paragraph(vec![
        Span::text("You can return any unused item within "),
        Span::bold("30 days"),
        Span::text(" for a full refund. Start a return from the link in your order confirmation; the refund reaches your account within 5 business days after we receive the parcel."),
    ])]
}

fn opening_hours() -> Vec<Block> {
    vec![
        Block::paragraph(vec![Span::text("Our Copenhagen store is open:")]),
        Block::BulletList {
            items: vec![
                ListItem { spans: vec![Span::bold("Monday–Friday:"), Span::text(" 10:00–18:00")] },
                ListItem { spans: vec![Span::bold("Saturday:"), Span::text(" 10:00–16:00")] },
                ListItem { spans: vec![Span::bold("Sunday:"), Span::text(" closed")] },
            ],
        },
    ]
}

fn payment() -> Vec<Block> {
    vec![Block::paragraph(vec![
        Span::text("We accept Visa, Mastercard, MobilePay and invoice through Klarna. Card payments are only charged when your order ships."),
    ])]
}

fn fallback() -> Vec<Block> {
    vec![Block::paragraph(vec![
        Span::text("I'm not sure about that one. I can help with "),
        Span::bold("shipping"),
        Span::text(", "),
        Span::bold("returns"),
        Span::text(", "),
        Span::bold("payment"),
        Span::text(" and "),
        Span::bold("opening hours"),
        Span::text("."),
    ])]
}

/// The answer to `question`, as one `rich_text` part with id `part_id`.
pub fn answer(question: &str, part_id: &str) -> RichText {
    let q = question.to_lowercase();
    let words: Vec<&str> = q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let score = |e: &Entry| {
        e.keywords
            .iter()
            .filter(|k| if k.contains(' ') { q.contains(*k) } else { words.contains(k) })
            .count()
    };
    let best = KNOWLEDGE.iter().map(|e| (score(e), e)).filter(|(s, _)| *s > 0).max_by_key(|(s, _)| *s);
    let blocks = best.map(|(_, e)| (e.answer)()).unwrap_or_else(fallback);
    RichText { part_id: part_id.to_owned(), blocks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::message::Part;
    use dgbot_protocol::{Message, Role};

    fn text_of(q: &str) -> String {
        Message { message_id: "m".into(), role: Role::Assistant, parts: vec![Part::RichText(answer(q, "p"))], created_at: None }
            .plain_text()
    }

    #[test]
    fn answers_the_obvious_questions() {
        assert!(text_of("What are your shipping times?").contains("2–4 business days"));
        assert!(text_of("Can I return a lamp?").contains("30 days"));
        assert!(text_of("When are you open on Saturday?").contains("10:00–16:00"));
        assert!(text_of("Can I pay with MobilePay?").contains("MobilePay"));
        assert!(text_of("asdf").contains("not sure"));
    }
}
