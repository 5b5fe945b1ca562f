//! The `sources` of an answer: the knowledge-base documents and products it used, each with a
//! title and a URL. Read off the answer itself, so they are right whichever way it was made:
//! a `rich_text` part that quotes an FAQ document cites it, a product card or a product's
//! picture cites the product. A document without a `url:` line is served by this adapter as
//! text ([`document`]), so every source is a working link.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dgbot_protocol::message::RichText;
use dgbot_protocol::webchatagent::{Source, SourceKind};
use dgbot_protocol::{Message, Part, Role};

use crate::SharedState;
use dgbot_core::Core;
use dgbot_core::model::Chatbot;
use dgbot_core::responder::knowledge::{FaqDocument, KnowledgeBase};

/// Where a document without its own page is served.
pub const DOCUMENTS_PATH: &str = "/api/chat/documents";

/// The sources of `message`, in the order the answer shows them, each once.
pub fn sources_of(core: &Core, chatbot_id: &str, message: &Message, base: &str) -> Vec<Source> {
    let (Some(bot), Ok(kb)) = (core.chatbot(chatbot_id), core.knowledge_of(chatbot_id)) else {
        return vec![];
    };
    let kb: &KnowledgeBase = kb;
    let mut sources: Vec<Source> = Vec::new();
    let mut cite = |source: Source| {
        if !sources.iter().any(|s| s.url == source.url) {
            sources.push(source);
        }
    };
    for part in &message.parts {
        match part {
            Part::RichText(rt) => {
                if let Some(doc) = kb.faq.iter().find(|d| d.blocks == rt.blocks) {
                    cite(document_source(bot, doc, base));
                }
            }
            Part::Products(p) => p.products.iter().for_each(|product| {
                cite(product_source(&product.title, &product.url));
            }),
            Part::Image(image) => {
                let pictured = kb
                    .catalogue
                    .iter()
                    .map(|c| c.to_product(base))
                    .find(|p| p.image_url.is_some() && p.image_url == image.url);
                if let Some(product) = pictured {
                    cite(product_source(&product.title, &product.url));
                }
            }
            _ => {}
        }
    }
    sources
}

fn document_source(bot: &Chatbot, doc: &FaqDocument, base: &str) -> Source {
    Source {
        kind: SourceKind::Document,
        title: doc.title.clone(),
        url: doc
            .url
            .clone()
            .unwrap_or_else(|| format!("{base}{DOCUMENTS_PATH}/{}/{}", bot.id, doc.name)),
    }
}

fn product_source(title: &str, url: &str) -> Source {
    Source {
        kind: SourceKind::Product,
        title: title.to_owned(),
        url: url.to_owned(),
    }
}

/// `GET /api/chat/documents/{chatbotId}/{name}`: an FAQ document as plain text (its title,
/// then its text), for sources that have no page of their own.
pub async fn document(
    State(state): State<SharedState>,
    Path((chatbot_id, name)): Path<(String, String)>,
) -> Response {
    let doc = state
        .core
        .knowledge_of(&chatbot_id)
        .ok()
        .and_then(|kb| kb.faq.iter().find(|d| d.name == name).cloned());
    let Some(doc) = doc else {
        return (StatusCode::NOT_FOUND, "No such document").into_response();
    };
    let text = Message {
        message_id: String::new(),
        role: Role::Assistant,
        parts: vec![Part::RichText(RichText {
            part_id: String::new(),
            blocks: doc.blocks,
        })],
        created_at: None,
        author: None,
    }
    .plain_text();
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n\n{text}\n", doc.title),
    )
        .into_response()
}
