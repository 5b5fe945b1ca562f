//! What the model is told: instructions, the knowledge it must answer from (the passages that
//! best answer the question, numbered so that it cites them as `[1]`, and the catalogue
//! products that match it, with their ids), the conversation so far, and the tools it may call.
//!
//! Products are grounded twice over: the model sees real catalogue entries, and it can only
//! show product cards by calling `show_products` with catalogue ids; the cards (title, price,
//! picture, link) are then built from the catalogue, never from the model's words.

use dgbot_protocol::message::{Message, Role, Source};
use serde_json::{Value, json};

use crate::knowledge::base::KnowledgeBase;
use crate::knowledge::products::CatalogueItem;
use crate::model::Action;

/// The tool that shows product cards.
pub const SHOW_PRODUCTS: &str = "show_products";

/// Fields of an action the bot fills itself (not the model).
const KNOWN_FIELDS: [&str; 3] = ["question", "page", "identity"];

/// Earlier messages of the conversation sent along (the newest).
const HISTORY: usize = 10;

/// Products put in the prompt at most.
const PRODUCTS: usize = 20;

const INSTRUCTIONS: &str = "You are {name}, the assistant on this website. Answer the visitor's \
question from the knowledge below only; if it does not say, say so briefly and offer to put \
them in touch with the team. Be brief and friendly. Write Markdown: short paragraphs, `-` \
lists, **bold**, tables for comparisons, links only to pages named in the knowledge. After a \
sentence that uses a numbered passage, cite it with its number in brackets, like [1].";

/// Passages put in the prompt at most.
const PASSAGES: usize = 4;

/// The passages the model is given for `question`, in their numbered order: the source each
/// one is cited as, and its text.
pub fn grounding(knowledge: &KnowledgeBase, question: &str, base: &str) -> Vec<(Source, String)> {
    let mut out: Vec<(Source, String)> = vec![];
    if let Some(entry) = knowledge.curated(question) {
        out.push((entry.source(base), entry.passage.text.clone()));
    }
    for found in knowledge.retrieve(question, PASSAGES) {
        if found.entry.product.is_none() {
            out.push((found.entry.source(base), found.entry.passage.text.clone()));
        }
    }
    out.truncate(PASSAGES);
    out
}

const PRODUCT_RULES: &str = "To recommend products, call the tool show_products with their \
catalogue ids (at most 4): the visitor then sees cards with the real price and picture. Never \
state a price or product detail that is not in the catalogue below.";

/// The system message: instructions (the chatbot's own, or ours), then the grounding.
pub fn system_prompt(
    name: &str,
    language: &str,
    custom: Option<&str>,
    knowledge: &KnowledgeBase,
    question: &str,
    passages: &[(Source, String)],
) -> String {
    let mut out = match custom {
        Some(text) => text.to_owned(),
        None => INSTRUCTIONS.replace("{name}", name),
    };
    out.push_str(&format!(
        "\nAnswer in the visitor's language (the site's is {language})."
    ));
    if !knowledge.catalogue.is_empty() {
        out.push_str("\n\n");
        out.push_str(PRODUCT_RULES);
    }
    if passages.is_empty() {
        out.push_str("\n\n## Knowledge\nNothing in the site's pages answers this question.");
    }
    for (i, (source, text)) in passages.iter().enumerate() {
        out.push_str(&format!("\n\n## [{}] {}\n", i + 1, source.title));
        if !source.url.is_empty() {
            out.push_str(&format!("(from {})\n", source.url));
        }
        out.push_str(text);
    }
    let products = matching_products(knowledge, question);
    if !products.is_empty() {
        out.push_str("\n\n## Catalogue (id | title | category | price | description)\n");
        for p in products {
            out.push_str(&format!(
                "- {} | {} | {} | {} {} | {}\n",
                p.id,
                p.title,
                p.category,
                p.price,
                p.currency,
                p.description.as_deref().unwrap_or("")
            ));
        }
    }
    out
}

/// The catalogue's products for the question, or its first ones when none match.
fn matching_products<'a>(knowledge: &'a KnowledgeBase, question: &str) -> Vec<&'a CatalogueItem> {
    let mut found = knowledge.products(question).unwrap_or_default();
    if found.is_empty() {
        found = knowledge.catalogue.iter().collect();
    }
    found.truncate(PRODUCTS);
    found
}

/// The chat messages: the system prompt, the conversation's recent turns, the question.
pub fn messages(system: String, history: &[Message], question: &str) -> Vec<Value> {
    let mut out = vec![json!({ "role": "system", "content": system })];
    let start = history.len().saturating_sub(HISTORY);
    for m in &history[start..] {
        let role = match m.role {
            Role::User => "user",
            Role::Assistant | Role::Agent => "assistant",
            Role::System => continue,
        };
        let text = m.plain_text();
        if !text.trim().is_empty() {
            out.push(json!({ "role": role, "content": text }));
        }
    }
    out.push(json!({ "role": "user", "content": question }));
    out
}

/// The tools the model may call: `show_products` when there is a catalogue, and each custom
/// API action, its parameters the values it sends that the model must supply (as strings).
pub fn tools(knowledge: &KnowledgeBase, actions: &[Action]) -> Vec<Value> {
    let mut tools = Vec::new();
    if !knowledge.catalogue.is_empty() {
        tools.push(function(
            SHOW_PRODUCTS,
            "Show the visitor product cards (title, real price, picture, link) for catalogue products.",
            json!({
                "type": "object",
                "properties": {
                    "product_ids": {
                        "type": "array",
                        "items": { "type": "string" },
                        "description": "Catalogue ids, best first"
                    }
                },
                "required": ["product_ids"]
            }),
        ));
    }
    for action in actions.iter().filter(|a| a.name != SHOW_PRODUCTS) {
        let fields = model_fields(action);
        let properties: serde_json::Map<String, Value> = fields
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    json!({ "type": "string", "description": f.replace('_', " ") }),
                )
            })
            .collect();
        tools.push(function(
            &action.name,
            &action.description,
            json!({ "type": "object", "properties": properties, "required": fields }),
        ));
    }
    tools
}

/// The values of `action` the model supplies.
pub fn model_fields(action: &Action) -> Vec<&str> {
    action
        .send
        .iter()
        .map(String::as_str)
        .filter(|f| !KNOWN_FIELDS.contains(f))
        .collect()
}

fn function(name: &str, description: &str, parameters: Value) -> Value {
    json!({
        "type": "function",
        "function": { "name": name, "description": description, "parameters": parameters }
    })
}
