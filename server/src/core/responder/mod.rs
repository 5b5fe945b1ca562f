//! The `Responder` seam: what answers a visitor's message, as the events of a stream. The demo
//! bot ([`DemoBot`]) and the tests' scripted replies ([`Scripted`]) are two responders; a
//! language model would be a third. A human agent is not a responder: agents are another author
//! of messages (`core::livechat`).

pub mod demo_bot;
pub mod knowledge;

use dgbot_protocol::stream::{DoneEvent, PartEvent, part_deltas};
use dgbot_protocol::{Block, Message, Part, RichText, Role, Span, StreamEvent};

use crate::config::Chatbot;
use crate::core::ConversationKey;
use crate::{ScriptedEvent, ScriptedReply};

/// A visitor's message to answer.
pub struct Question<'a> {
    pub key: &'a ConversationKey,
    pub chatbot: &'a Chatbot,
    /// The text parts joined (may be empty when the visitor sent only an image).
    pub text: &'a str,
    pub has_image: bool,
    /// The id the answer gets.
    pub reply_id: &'a str,
    /// The server's public origin, for image and product URLs.
    pub public_base: &'a str,
}

/// One item of an answer's stream.
#[derive(Debug, Clone)]
pub enum AnswerItem {
    Event(StreamEvent),
    /// `event: name` / `data: …` exactly as given (tests send malformed events this way).
    Raw {
        name: String,
        data: String,
    },
    /// The responder uses a tool (the demo bot: a catalogue search, a knowledge-base lookup).
    /// Seed 001's `/ws` shows these as `tool_action` / `tool_action_result`.
    Tool(ToolEvent),
    /// Break the connection here (the client sees a network error, not a clean end).
    Drop,
}

/// A tool call starting (`Calling`) or ending (`Done`, `Error`).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolEvent {
    pub tool: String,
    pub status: ToolStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolStatus {
    Calling,
    Done,
    Error,
}

impl ToolStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolStatus::Calling => "calling",
            ToolStatus::Done => "done",
            ToolStatus::Error => "error",
        }
    }
}

pub struct Answer {
    pub items: Vec<AnswerItem>,
    /// The assistant message to store once the whole stream has been delivered.
    pub reply: Option<Message>,
}

pub trait Responder: Send + Sync {
    /// The answer to `question`, or `None` to let the next responder answer.
    fn respond(&self, question: &Question<'_>) -> Option<Answer>;
}

/// Canned replies (`ServerConfig::scripted_replies`): a visitor message equal to a trigger gets
/// exactly its events, and nothing is stored.
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
        Some(Answer { items, reply: None })
    }
}

/// The demo shop's assistant: answers from the chatbot's knowledge base, as structured deltas.
pub struct DemoBot;

impl Responder for DemoBot {
    fn respond(&self, q: &Question<'_>) -> Option<Answer> {
        let (parts, tools) = if q.has_image {
            let thanks = Part::RichText(RichText {
                part_id: format!("{}_part_1", q.reply_id),
                blocks: vec![Block::paragraph(vec![Span::text(
                    "Thank you for the photo. We've added it to your case and will get back to you by email.",
                )])],
            });
            (vec![thanks], vec![])
        } else {
            demo_bot::answer_with_tools(q.text, q.reply_id, q.public_base, &q.chatbot.knowledge)
        };
        let mut answer = answer_of(q.reply_id, parts);
        // The tools ran before the answer was written: after `status: processing`, before the
        // first part.
        let at = answer
            .items
            .iter()
            .position(|i| !matches!(i, AnswerItem::Event(StreamEvent::Status(_))))
            .unwrap_or(0);
        let calls = tools.iter().flat_map(|tool| {
            [ToolStatus::Calling, ToolStatus::Done].map(|status| {
                AnswerItem::Tool(ToolEvent {
                    tool: (*tool).to_owned(),
                    status,
                })
            })
        });
        answer.items.splice(at..at, calls);
        Some(answer)
    }
}

/// The stream of a whole answer: `status` connected and processing, the parts as structured
/// deltas (a whole `part` event where a part has no delta form), then `done`.
pub fn answer_of(reply_id: &str, parts: Vec<Part>) -> Answer {
    let mut items = vec![
        AnswerItem::Event(StreamEvent::status("connected")),
        AnswerItem::Event(StreamEvent::status("processing")),
    ];
    for part in &parts {
        match part_deltas(part) {
            Some(deltas) => {
                let id = part.part_id().unwrap_or_default();
                items.extend(
                    deltas
                        .into_iter()
                        .map(|d| AnswerItem::Event(StreamEvent::delta(id, d))),
                );
            }
            None => items.push(AnswerItem::Event(StreamEvent::Part(PartEvent {
                part: part.clone(),
            }))),
        }
    }
    let reply = Message {
        message_id: reply_id.to_owned(),
        role: Role::Assistant,
        parts,
        created_at: None,
        author: None,
    };
    items.push(AnswerItem::Event(StreamEvent::Done(DoneEvent {
        message: reply.clone(),
    })));
    Answer {
        items,
        reply: Some(reply),
    }
}
