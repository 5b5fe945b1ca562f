//! The demo bot: answers an example shop's common questions from a small knowledge base.
//! Retrieval is keyword scoring; the full knowledge base and product catalogue come with
//! the reference-server work (issue 5).

use dgbot_protocol::Part;
use dgbot_protocol::message::{
    AttachmentRules, Block, ContactFormMarker, CustomMarker, FieldKind, FormField,
    HumanAgentMarker, ImageConstraints, ImagePart, ImageUploadMarker, ListItem, Product,
    ProductsPart, RichText, Span, SupportTicketMarker, TableCell, TablePart,
};

struct Entry {
    keywords: &'static [&'static str],
    answer: fn() -> Vec<Block>,
}

const KNOWLEDGE: &[Entry] = &[
    Entry {
        keywords: &[
            "shipping", "delivery", "deliver", "ship", "arrive", "shipped",
        ],
        answer: shipping,
    },
    Entry {
        keywords: &["return", "returns", "refund", "exchange", "send back"],
        answer: returns,
    },
    Entry {
        keywords: &["open", "opening", "hours", "store", "closed"],
        answer: opening_hours,
    },
    Entry {
        keywords: &["pay", "payment", "card", "mobilepay", "invoice", "klarna"],
        answer: payment,
    },
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
                ListItem {
                    spans: vec![Span::text(
                        "Orders placed before 14:00 on weekdays leave our warehouse the same day.",
                    )],
                },
                ListItem {
                    spans: vec![
                        Span::text("Shipping is "),
                        Span::bold("free"),
                        Span::text(" on orders over 499 kr."),
                    ],
                },
                ListItem {
                    spans: vec![Span::text(
                        "You get a tracking link by email as soon as the parcel ships.",
                    )],
                },
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
        Span::text(
            " for a full refund. Start a return from the link in your order confirmation; the refund reaches your account within 5 business days after we receive the parcel.",
        ),
    ])]
}

fn opening_hours() -> Vec<Block> {
    vec![
        Block::paragraph(vec![Span::text("Our Copenhagen store is open:")]),
        Block::BulletList {
            items: vec![
                ListItem {
                    spans: vec![Span::bold("Monday–Friday:"), Span::text(" 10:00–18:00")],
                },
                ListItem {
                    spans: vec![Span::bold("Saturday:"), Span::text(" 10:00–16:00")],
                },
                ListItem {
                    spans: vec![Span::bold("Sunday:"), Span::text(" closed")],
                },
            ],
        },
    ]
}

fn payment() -> Vec<Block> {
    vec![Block::paragraph(vec![Span::text(
        "We accept Visa, Mastercard, MobilePay and invoice through Klarna. Card payments are only charged when your order ships.",
    )])]
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

/// The catalogue of the demo shop (issue 5 moves it to a replaceable JSON file).
pub struct CatalogueItem {
    pub id: &'static str,
    pub title: &'static str,
    pub price: f64,
    pub description: &'static str,
    pub keywords: &'static [&'static str],
}

pub const CATALOGUE: &[CatalogueItem] = &[
    CatalogueItem {
        id: "aurora",
        title: "Aurora pendant lamp",
        price: 1299.0,
        description: "Hand-blown opal glass, warm dimmable light.",
        keywords: &["aurora", "pendant", "ceiling"],
    },
    CatalogueItem {
        id: "fjord",
        title: "Fjord table lamp",
        price: 749.0,
        description: "Oak base and linen shade.",
        keywords: &["fjord", "table", "desk"],
    },
    CatalogueItem {
        id: "skagen",
        title: "Skagen floor lamp",
        price: 1899.0,
        description: "Brass reading lamp with adjustable arm.",
        keywords: &["skagen", "floor", "reading"],
    },
    CatalogueItem {
        id: "hygge",
        title: "Hygge wool throw",
        price: 549.0,
        description: "Soft Norwegian wool, 130 × 170 cm.",
        keywords: &["hygge", "throw", "blanket", "wool"],
    },
];

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

fn product(item: &CatalogueItem, base: &str) -> Product {
    Product {
        product_id: Some(item.id.to_owned()),
        title: item.title.to_owned(),
        url: format!("{base}/demo/?product={}", item.id),
        image_url: Some(format!("{base}/demo/img/{}.svg", item.id)),
        description: Some(item.description.to_owned()),
        price: Some(item.price),
        currency: Some("DKK".to_owned()),
    }
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
/// "picture" → `image`; a product, "lamp" or "recommend" → `products`; otherwise the FAQ.
pub fn answer(question: &str, message_id: &str, base: &str) -> Vec<Part> {
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
        let lamps: Vec<&CatalogueItem> = CATALOGUE.iter().filter(|c| c.id != "hygge").collect();
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
                                blocks: vec![Block::paragraph(vec![Span::bold(c.title)])],
                            },
                            TableCell::text(c.keywords[1]),
                            TableCell::text(format!("{} kr.", c.price)),
                            TableCell::text(c.description),
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
        let item = CATALOGUE
            .iter()
            .find(|c| c.keywords.iter().any(|k| q.contains(k)))
            .unwrap_or(&CATALOGUE[0]);
        return vec![
            text_part(&id(1), vec![Span::text("Here it is:")]),
            Part::Image(ImagePart {
                part_id: Some(id(2)),
                url: Some(format!("{base}/demo/img/{}.svg", item.id)),
                alt: Some(item.title.to_owned()),
                caption: Some(item.title.to_owned()),
                width: Some(320),
                height: Some(240),
                ..Default::default()
            }),
        ];
    }
    if let Some(blocks) = faq_blocks(question) {
        return vec![Part::RichText(RichText {
            part_id: id(1),
            blocks,
        })];
    }
    let matches: Vec<&CatalogueItem> = CATALOGUE
        .iter()
        .filter(|c| c.keywords.iter().any(|k| has(&q, &[k], &[])))
        .collect();
    if !matches.is_empty()
        || has(
            &q,
            &[
                "lamp",
                "lamps",
                "lighting",
                "recommend",
                "products",
                "buy",
                "gift",
            ],
            &[],
        )
    {
        let lamps_only = has(&q, &["lamp", "lamps", "lighting", "light"], &[]);
        let items: Vec<&CatalogueItem> = if !matches.is_empty() {
            matches
        } else {
            CATALOGUE
                .iter()
                .filter(|c| !lamps_only || c.id != "hygge")
                .collect()
        };
        return vec![
            text_part(
                &id(1),
                vec![Span::text("These might be what you're looking for:")],
            ),
            Part::Products(ProductsPart {
                part_id: id(2),
                products: items.into_iter().map(|c| product(c, base)).collect(),
            }),
        ];
    }
    vec![Part::RichText(faq(question, &id(1)))]
}

/// The FAQ answer to `question`, as one `rich_text` part with id `part_id` (a fallback that
/// lists what the bot knows when nothing matches).
pub fn faq(question: &str, part_id: &str) -> RichText {
    RichText {
        part_id: part_id.to_owned(),
        blocks: faq_blocks(question).unwrap_or_else(fallback),
    }
}

/// The best-matching FAQ entry's answer, if any keyword matches.
fn faq_blocks(question: &str) -> Option<Vec<Block>> {
    let q = question.to_lowercase();
    let words: Vec<&str> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let score = |e: &Entry| {
        e.keywords
            .iter()
            .filter(|k| {
                if k.contains(' ') {
                    q.contains(*k)
                } else {
                    words.contains(k)
                }
            })
            .count()
    };
    let best = KNOWLEDGE
        .iter()
        .map(|e| (score(e), e))
        .filter(|(s, _)| *s > 0)
        .max_by_key(|(s, _)| *s);
    best.map(|(_, e)| (e.answer)())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::{Message, Role};

    fn text_of(q: &str) -> String {
        Message {
            message_id: "m".into(),
            role: Role::Assistant,
            parts: answer(q, "m", "http://x"),
            created_at: None,
        }
        .plain_text()
    }

    fn types(q: &str) -> Vec<&'static str> {
        answer(q, "m", "http://x")
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
            ["rich_text", "image"]
        );
        assert_eq!(
            types("Do you have a wool throw?"),
            ["rich_text", "products"]
        );
        assert_eq!(types("What are your shipping times?"), ["rich_text"]);
        assert!(text_of("Do you have a wool throw?").contains("Hygge wool throw"));
        assert!(
            !text_of("Which lamp do you recommend?").contains("Hygge"),
            "{}",
            text_of("Which lamp do you recommend?")
        );
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
