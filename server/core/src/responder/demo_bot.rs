//! The demo bot: answers an example shop's questions from its chatbot's knowledge base (FAQ
//! documents and product catalogue, `knowledge.rs`), and shows every part type on cue.

use super::grounded::{follow_ups, language_of, passage_part, sources_part, suggestions_part};
use crate::knowledge::base::{KnowledgeBase, product_source};
use crate::knowledge::products::CatalogueItem;
use dgbot_protocol::Part;
use dgbot_protocol::message::{
    AttachmentRules, Block, ContactFormMarker, CustomMarker, FieldKind, FormField,
    HumanAgentMarker, ImageConstraints, ImagePart, ImageUploadMarker, ProductsPart, RichText, Span,
    SupportTicketMarker, TableCell, TablePart,
};

fn has(q: &str, words: &[&str], phrases: &[&str]) -> bool {
    let tokens: Vec<&str> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().any(|w| tokens.contains(w)) || phrases.iter().any(|p| q.contains(p))
}

fn text_part(id: &str, spans: Vec<Span>) -> Part {
    Part::RichText(RichText {
        part_id: id.to_owned(),
        blocks: vec![Block::paragraph(spans)],
    })
}

fn field(key: &str, label: &str, kind: FieldKind, required: bool) -> FormField {
    FormField {
        key: key.to_owned(),
        label: label.to_owned(),
        kind,
        required,
    }
}

/// The answer to `question`: the parts of one assistant message. Part ids are
/// `{message_id}_part_{n}`. `base` is the server's public origin (for image and product URLs).
///
/// Triggers (documented in the README): "talk to a person" → `request_human_agent`;
/// "ticket" → `show_support_ticket`; "photo of the damage" → `request_image_upload`;
/// "contact" → `show_contact_form`; "compare" → `table`; "book a demo" → `custom`;
/// "picture" → `image`; otherwise the chatbot's knowledge: a curated answer, the passage that
/// answers it (with its `sources`), or products. Empty when nothing relevant is known (the
/// responder then says it does not know).
pub fn answer(question: &str, message_id: &str, base: &str, kb: &KnowledgeBase) -> Vec<Part> {
    answer_with_tools(question, message_id, base, kb).0
}

/// The custom API action a question calls for: one whose keywords it contains, when the
/// question also holds what the action must send (an order number, an email address).
pub fn action_for<'a>(
    question: &str,
    actions: &'a [crate::model::Action],
) -> Option<&'a crate::model::Action> {
    use crate::actions::{extract_email, extract_order_number};
    let q = question.to_lowercase();
    actions.iter().find(|a| {
        a.keywords.iter().any(|k| q.contains(k.as_str()))
            && a.send.iter().all(|field| match field.as_str() {
                "order_number" => extract_order_number(question).is_some(),
                "email" => extract_email(question).is_some(),
                _ => true,
            })
    })
}

/// The catalogue search, as a tool (seed 001's `tool_action`).
pub const SEARCH_PRODUCTS: &str = "search_products";
/// The FAQ lookup, as a tool.
pub const SEARCH_KNOWLEDGE_BASE: &str = "search_knowledge_base";

/// [`answer`], and the tools the bot used to write it, in order.
pub fn answer_with_tools(
    question: &str,
    message_id: &str,
    base: &str,
    kb: &KnowledgeBase,
) -> (Vec<Part>, Vec<&'static str>) {
    let mut tools = Vec::new();
    let parts = answer_using(question, message_id, base, kb, &mut tools);
    (parts, tools)
}

fn answer_using(
    question: &str,
    message_id: &str,
    base: &str,
    kb: &KnowledgeBase,
    tools: &mut Vec<&'static str>,
) -> Vec<Part> {
    let q = question.to_lowercase();
    let id = |n: u32| format!("{message_id}_part_{n}");
    if has(
        &q,
        &["human", "agent", "person", "someone"],
        &["talk to a person", "real person"],
    ) {
        return vec![
            text_part(
                &id(1),
                vec![Span::text(
                    "Of course. A colleague from our customer service can take over this chat.",
                )],
            ),
            Part::RequestHumanAgent(HumanAgentMarker {
                part_id: id(2),
                reason: Some("Visitor asked for a person".into()),
            }),
        ];
    }
    if has(&q, &["ticket", "complaint", "broken"], &["support ticket"]) {
        return vec![
            text_part(
                &id(1),
                vec![Span::text(
                    "I'm sorry to hear that. Tell us what happened and we'll open a support ticket:",
                )],
            ),
            Part::ShowSupportTicket(SupportTicketMarker {
                part_id: id(2),
                fields: vec![
                    field("email", "Email address", FieldKind::Email, true),
                    field("order", "Order number", FieldKind::Text, false),
                    field("description", "What happened?", FieldKind::Textarea, true),
                ],
                attachments: AttachmentRules {
                    max_files: 3,
                    max_size_bytes: 5 * 1024 * 1024,
                    accepted_types: vec![
                        "image/png".into(),
                        "image/jpeg".into(),
                        "application/pdf".into(),
                    ],
                },
            }),
        ];
    }
    if has(
        &q,
        &["photo", "damage", "damaged"],
        &["photo of the damage"],
    ) {
        return vec![
            text_part(
                &id(1),
                vec![Span::text(
                    "Please send a photo of the damage, so we can see what went wrong.",
                )],
            ),
            Part::RequestImageUpload(ImageUploadMarker {
                part_id: id(2),
                prompt: Some("Add a photo of the damage".into()),
                constraints: ImageConstraints {
                    max_size_bytes: 5 * 1024 * 1024,
                    accepted_types: vec![
                        "image/jpeg".into(),
                        "image/png".into(),
                        "image/webp".into(),
                    ],
                },
            }),
        ];
    }
    if has(
        &q,
        &["contact", "callback", "email"],
        &["call me", "get in touch"],
    ) {
        return vec![
            text_part(
                &id(1),
                vec![Span::text(
                    "Leave your details and we'll get back to you within one business day.",
                )],
            ),
            Part::ShowContactForm(ContactFormMarker {
                part_id: id(2),
                fields: vec![
                    field("name", "Your name", FieldKind::Text, true),
                    field("email", "Email address", FieldKind::Email, true),
                    field("phone", "Phone", FieldKind::Tel, false),
                    field("message", "How can we help?", FieldKind::Textarea, false),
                ],
            }),
            text_part(
                &id(3),
                vec![Span::text("Fill in the form and we will follow up.")],
            ),
        ];
    }
    if has(&q, &["compare", "comparison", "difference"], &[]) {
        let lamps: Vec<&CatalogueItem> = kb
            .catalogue
            .iter()
            .filter(|c| c.category == "Lighting")
            .collect();
        return vec![
            text_part(&id(1), vec![Span::text("Here is how our lamps compare:")]),
            Part::Table(TablePart {
                part_id: id(2),
                caption: Some("Lamps compared".into()),
                columns: ["Lamp", "Type", "Price", "Good for"]
                    .map(TableCell::text)
                    .to_vec(),
                rows: lamps
                    .iter()
                    .map(|c| {
                        vec![
                            TableCell {
                                blocks: vec![Block::paragraph(vec![Span::bold(c.title.clone())])],
                            },
                            TableCell::text(c.keywords.first().cloned().unwrap_or_default()),
                            TableCell::text(format!("{} kr.", c.price)),
                            TableCell::text(c.description.clone().unwrap_or_default()),
                        ]
                    })
                    .collect(),
            }),
        ];
    }
    if has(&q, &["demo", "appointment", "booking"], &["book a"]) {
        return vec![
            text_part(
                &id(1),
                vec![Span::text("I've opened our booking calendar for you.")],
            ),
            Part::Custom(CustomMarker {
                part_id: id(2),
                key: "book_demo".into(),
                payload: Some(
                    serde_json::json!({ "calendar": "showroom", "duration_minutes": 30 }),
                ),
            }),
        ];
    }
    if has(&q, &["picture", "image"], &["show me"]) {
        tools.push(SEARCH_PRODUCTS);
        let found = kb.products(question).unwrap_or_default();
        let Some(item) = found.first().copied().or(kb.catalogue.first()) else {
            return vec![text_part(
                &id(1),
                vec![Span::text("Our catalogue is empty at the moment.")],
            )];
        };
        return vec![
            text_part(&id(1), vec![Span::text("Here it is:")]),
            Part::Image(ImagePart {
                part_id: Some(id(2)),
                url: item.to_product(base).image_url,
                alt: Some(item.title.clone()),
                caption: Some(item.title.clone()),
                width: Some(320),
                height: Some(240),
                ..Default::default()
            }),
        ]
        .into_iter()
        .chain(sources_part(id(3), [product_source(item, base)]))
        .collect();
    }
    // A greeting, or "how can you help?": what the assistant knows about.
    let short = q.split_whitespace().count() <= 3;
    if has(
        &q,
        &[],
        &["how can you help", "what can you do", "what can you help"],
    ) || (short && has(&q, &["hello", "hi", "hey", "hej", "hallo", "help"], &[]))
    {
        let mut topics: Vec<&str> = kb
            .entries()
            .iter()
            .filter(|e| e.product.is_none() && e.passage.lang == "en")
            .map(|e| e.title.as_str())
            .collect();
        topics.dedup();
        let mut spans = vec![Span::text("Hi! I can answer questions about ")];
        for (i, topic) in topics.iter().enumerate() {
            if i > 0 {
                spans.push(Span::text(if i + 1 == topics.len() {
                    " and "
                } else {
                    ", "
                }));
            }
            spans.push(Span::bold(topic.to_lowercase()));
        }
        spans.push(Span::text(
            ", and find products for you: try \"lamps under 1000 kr\".",
        ));
        return vec![text_part(&id(1), spans)];
    }
    tools.push(SEARCH_KNOWLEDGE_BASE);
    // The site owner's own answer wins.
    if let Some(entry) = kb.curated(question) {
        return vec![passage_part(id(1), None, &entry.passage.text)];
    }
    let found = kb.retrieve(question, 3);
    // A page answers it best: its passage under its heading, in the page's own words, then
    // where it comes from (products it names among them).
    // (Unless it asks to be shown products: "lamps under 800 kr", "which do you recommend?".)
    let shopping = crate::knowledge::products::asks_for_products(question);
    if let Some(best) = found
        .first()
        .filter(|f| f.entry.product.is_none() && !shopping)
    {
        let entry = best.entry;
        let mut parts = vec![passage_part(
            id(1),
            Some(entry.section_title()),
            &entry.passage.text,
        )];
        parts.extend(sources_part(
            id(2),
            found.iter().map(|f| f.entry.source(base)),
        ));
        // What else the knowledge has near it, in the question's language.
        let lang = language_of(question, &entry.passage.lang);
        parts.extend(suggestions_part(
            id(3),
            follow_ups(kb, question, &[entry.source(base)], &lang, base),
        ));
        return parts;
    }
    let products: Vec<&CatalogueItem> = match kb.products(question) {
        Some(items) => items,
        // Products found by their words (any language), when the question is about one.
        None => found
            .iter()
            .filter_map(|f| kb.product_of(f.entry))
            .collect(),
    };
    if !products.is_empty() || kb.products(question).is_some() {
        tools.push(SEARCH_PRODUCTS);
        if products.is_empty() {
            return vec![text_part(
                &id(1),
                vec![Span::text(
                    "I couldn't find anything like that in our catalogue. Try a larger budget, or ask about lamps, textiles or furniture.",
                )],
            )];
        }
        let mut parts = vec![
            text_part(
                &id(1),
                vec![Span::text("These might be what you're looking for:")],
            ),
            Part::Products(ProductsPart {
                part_id: id(2),
                products: products.iter().map(|c| c.to_product(base)).collect(),
            }),
        ];
        parts.extend(sources_part(
            id(3),
            products.iter().map(|c| product_source(c, base)),
        ));
        return parts;
    }
    // Nothing relevant: the responder says so (`DemoBot`), in the visitor's language.
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::{Message, Role};

    fn kb() -> KnowledgeBase {
        crate::knowledge::base::tests::demo()
    }

    fn text_of(q: &str) -> String {
        Message {
            message_id: "m".into(),
            role: Role::Assistant,
            parts: answer(q, "m", "http://x", &kb()),
            created_at: None,
            author: None,
            feedback: None,
        }
        .plain_text()
    }

    fn types(q: &str) -> Vec<&'static str> {
        answer(q, "m", "http://x", &kb())
            .iter()
            .map(Part::type_name)
            .collect()
    }

    #[test]
    fn every_part_type_has_a_trigger() {
        assert_eq!(
            types("Can I talk to a person?"),
            ["rich_text", "request_human_agent"]
        );
        assert_eq!(
            types("I want to open a support ticket"),
            ["rich_text", "show_support_ticket"]
        );
        assert_eq!(
            types("Here is a photo of the damage"),
            ["rich_text", "request_image_upload"]
        );
        assert_eq!(
            types("Please contact me"),
            ["rich_text", "show_contact_form", "rich_text"]
        );
        assert_eq!(types("Compare your lamps"), ["rich_text", "table"]);
        assert_eq!(types("Can I book a demo?"), ["rich_text", "custom"]);
        assert_eq!(
            types("Show me a picture of the Fjord"),
            ["rich_text", "image", "sources"]
        );
        assert_eq!(
            types("Do you have a wool throw?"),
            ["rich_text", "products", "sources"]
        );
        assert_eq!(
            types("What are your shipping times?"),
            ["rich_text", "sources", "suggestions"]
        );
        assert!(text_of("Do you have a wool throw?").contains("Hygge wool throw"));
        assert!(
            !text_of("Which lamp do you recommend?").contains("Hygge"),
            "{}",
            text_of("Which lamp do you recommend?")
        );
    }

    #[test]
    fn answers_the_obvious_questions() {
        for (q, said) in [
            ("What are your shipping times?", "2–4 business days"),
            ("Can I return a lamp?", "30 days"),
            ("When are you open on Saturday?", "10:00–16:00"),
            ("Can I pay with MobilePay?", "MobilePay"),
            ("Where is my order?", "tracking link"),
        ] {
            assert!(text_of(q).contains(said), "{q}: {}", text_of(q));
        }
        assert!(text_of("Can I return a lamp?").contains("30 days"));
        assert!(text_of("When are you open on Saturday?").contains("10:00–16:00"));
        assert!(text_of("Can I pay with MobilePay?").contains("MobilePay"));
        // Nothing relevant: no parts, the responder says it does not know (`grounded`).
        assert!(answer("asdf", "m", "http://x", &kb()).is_empty());
        assert!(text_of("Where is my order?").contains("tracking link"));
        assert!(text_of("Lamps under 800 kr").contains("Fjord table lamp"));
        assert!(!text_of("Lamps under 800 kr").contains("Skagen"));
        assert!(text_of("Anything under 10 kr?").contains("couldn't find"));
    }

    fn suggestions_of(q: &str) -> Vec<String> {
        answer(q, "m", "http://x", &kb())
            .into_iter()
            .find_map(|p| match p {
                Part::Suggestions(s) => Some(s.suggestions),
                _ => None,
            })
            .unwrap_or_default()
    }

    #[test]
    fn a_grounded_answer_suggests_related_sections_in_its_language() {
        let english = suggestions_of("What are your shipping times?");
        assert!(
            english.contains(&"Shipping outside the EU".to_owned()),
            "{english:?}"
        );
        assert!(english.len() <= 3, "{english:?}");
        assert!(
            !english.contains(&"Shipping and delivery".to_owned()),
            "not the section it answered from: {english:?}"
        );
        let mut once = english.clone();
        once.dedup();
        assert_eq!(once, english);
        // In the question's language only: the Danish and German pages say the same.
        assert_eq!(
            suggestions_of("hvad koster fragt?"),
            ["Levering uden for EU"]
        );
        assert_eq!(
            suggestions_of("Wie lange dauert der Versand?"),
            ["Lieferung außerhalb der EU"]
        );
        // Not the question itself.
        assert!(
            !suggestions_of("Shipping outside the EU")
                .iter()
                .any(|s| s.eq_ignore_ascii_case("Shipping outside the EU"))
        );
        // Nothing related: no part at all.
        assert_eq!(
            types("When are you open on Saturday?"),
            ["rich_text", "sources"]
        );
        // The suggestions are not the answer's words.
        assert!(!text_of("What are your shipping times?").contains("Shipping outside the EU"));
    }

    #[test]
    fn the_tools_used_are_named() {
        let tools = |q: &str| answer_with_tools(q, "m", "http://x", &kb()).1;
        assert_eq!(
            tools("What are your shipping times?"),
            [SEARCH_KNOWLEDGE_BASE]
        );
        assert_eq!(
            tools("Lamps under 800 kr"),
            [SEARCH_KNOWLEDGE_BASE, SEARCH_PRODUCTS]
        );
        assert_eq!(tools("Show me a picture of the Fjord"), [SEARCH_PRODUCTS]);
        assert!(tools("Can I talk to a person?").is_empty());
    }
}
