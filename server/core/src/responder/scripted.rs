//! Canned replies for tests and demos: a visitor message equal to a trigger gets exactly the
//! given SSE events (malformed ones included, or a dropped connection) instead of an answer.

use super::{Answer, AnswerItem, Items, Question, Responder};

/// A reply streamed verbatim (the server's `scripted_replies` setting).
#[derive(Debug, Clone)]
pub struct ScriptedReply {
    pub trigger: String,
    pub events: Vec<ScriptedEvent>,
}

#[derive(Debug, Clone)]
pub enum ScriptedEvent {
    /// `event: {0}` / `data: {1}`, sent as is.
    Sse(String, String),
    /// Kill the connection mid-stream (the client sees a network error, not a clean end).
    Drop,
}

/// The scripted replies as a responder: nothing it sends is stored.
pub struct Scripted(pub Vec<ScriptedReply>);

impl Responder for Scripted {
    fn respond(&self, question: &Question<'_>) -> Option<Answer> {
        let script = self.0.iter().find(|s| s.trigger == question.text.trim())?;
        let items = script
            .events
            .iter()
            .map(|e| match e {
                ScriptedEvent::Sse(name, data) => AnswerItem::Raw {
                    name: name.clone(),
                    data: data.clone(),
                },
                ScriptedEvent::Drop => AnswerItem::Drop,
            })
            .collect();
        Some(Answer {
            items: Items::ready(items),
            store: false,
            paced: true,
        })
    }
}
