//! Seed 002's conversation classification: after each answer the server gives the conversation
//! a topic (the seed's examples are "Ordre", "Produktinformation", "Reklamation"), which the
//! widget reports as `conversationClassified` and the loader as `chat_conversation_classified`.
//!
//! The demo classifier scores the visitor's words against topic keywords; the latest question
//! counts double, so a conversation that moves on is re-classified. An operator's real backend
//! would ask its model instead; the endpoint and timing stay the same.

use dgbot_protocol::{Message, Part, Role};

/// Topics, most specific first (a tie goes to the earlier one), with how much one keyword
/// weighs: a complaint about a lamp is a complaint, not product information.
const TOPICS: &[(&str, usize, &[&str])] = &[
    (
        "Complaint",
        3,
        &[
            "complaint",
            "broken",
            "damaged",
            "defect",
            "defective",
            "faulty",
            "ticket",
            "wrong",
            "unhappy",
            "angry",
        ],
    ),
    (
        "Returns",
        2,
        &["return", "returns", "refund", "exchange", "regret"],
    ),
    (
        "Order",
        2,
        &[
            "order", "orders", "ordered", "status", "tracking", "track", "cancel", "invoice",
        ],
    ),
    (
        "Shipping",
        1,
        &[
            "shipping", "delivery", "deliver", "ship", "shipped", "arrive", "postnord", "courier",
        ],
    ),
    (
        "Payment",
        1,
        &[
            "pay",
            "payment",
            "card",
            "mobilepay",
            "klarna",
            "price",
            "discount",
        ],
    ),
    (
        "Opening hours",
        1,
        &[
            "open", "opening", "hours", "closed", "store", "shop", "visit",
        ],
    ),
    (
        "Product information",
        1,
        &[
            "lamp",
            "lamps",
            "light",
            "pendant",
            "floor",
            "table",
            "throw",
            "blanket",
            "wool",
            "product",
            "products",
            "aurora",
            "fjord",
            "skagen",
            "hygge",
            "recommend",
            "size",
            "material",
            "stock",
            "gift",
        ],
    ),
];

/// What a conversation about nothing in particular is filed as.
pub const OTHER: &str = "Other";

/// The topic of a conversation, from its visitor messages.
pub fn classify(messages: &[Message]) -> &'static str {
    let questions: Vec<String> = messages
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| {
            m.parts
                .iter()
                .filter_map(|p| {
                    if let Part::Text(t) = p {
                        Some(t.text.to_lowercase())
                    } else {
                        None
                    }
                })
                .collect()
        })
        .collect();
    let mut best = (0, OTHER);
    for (topic, topic_weight, words) in TOPICS {
        let score: usize = questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let weight = if i + 1 == questions.len() { 2 } else { 1 };
                let hits = q
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| words.contains(w))
                    .count();
                hits.min(2) * topic_weight * weight
            })
            .sum();
        if score > best.0 {
            best = (score, topic);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(text: &str) -> Message {
        Message {
            message_id: "m".into(),
            role: Role::User,
            parts: vec![Part::text(text)],
            created_at: None,
            author: None,
            feedback: None,
        }
    }

    #[test]
    fn newcomer_questions_get_their_topic() {
        for (q, topic) in [
            ("How long does shipping take?", "Shipping"),
            ("Where is my order?", "Order"),
            ("Can I return a lamp I bought?", "Returns"),
            ("My lamp arrived broken", "Complaint"),
            ("Do you have a floor lamp?", "Product information"),
            ("When are you open on Saturday?", "Opening hours"),
            ("Can I pay with MobilePay?", "Payment"),
            ("hello", OTHER),
        ] {
            assert_eq!(classify(&[visitor(q)]), topic, "{q}");
        }
    }

    #[test]
    fn the_latest_question_weighs_most() {
        let chat = [
            visitor("Do you have a pendant lamp?"),
            visitor("How fast is delivery?"),
        ];
        assert_eq!(classify(&chat), "Shipping");
    }
}
