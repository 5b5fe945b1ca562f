//! The `Responder` seam: what answers a visitor's message, as the events of a stream. Three
//! responders, asked in order: the tests' scripted replies ([`scripted`]), a language model
//! ([`model`], for chatbots with a `[chatbot.model]`) and the demo bot ([`DemoBot`], answering
//! from the chatbot's knowledge, `crate::knowledge`, with [`demo_bot`]'s logic). A human agent is not a responder: agents are another author
//! of messages (`core::livechat`).

pub mod demo_bot;
pub mod grounded;
pub mod model;
pub mod scripted;

use dgbot_protocol::stream::{DoneEvent, PartEvent, part_deltas};
use dgbot_protocol::{Block, Message, Part, RichText, Role, Span, StreamEvent};

use crate::ConversationKey;
use crate::model::Chatbot;
pub use scripted::Scripted;

/// A visitor's message to answer.
pub struct Question<'a> {
    pub key: &'a ConversationKey,
    pub chatbot: &'a Chatbot,
    /// What the chatbot knows: passages, curated answers, products.
    pub knowledge: &'a std::sync::Arc<crate::knowledge::base::KnowledgeBase>,
    /// The text parts joined (may be empty when the visitor sent only an image).
    pub text: &'a str,
    pub has_image: bool,
    /// The id the answer gets.
    pub reply_id: &'a str,
    /// The server's public origin, for image and product URLs.
    pub public_base: &'a str,
    /// The page the visitor asks from (seed 002's `context.page`), when the client said.
    pub page: Option<&'a str>,
    /// The core, for what an answer may do besides writing (custom API actions).
    pub core: &'a std::sync::Arc<crate::Core>,
}

/// One item of an answer's stream.
// Moved once from the responder to the stream: boxing the event would cost an allocation per
// event for nothing.
#[allow(clippy::large_enum_variant)]
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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToolEvent {
    pub tool: String,
    pub status: ToolStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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
    pub items: Items,
    /// Store the `done` event's message once the whole stream has been delivered (scripted
    /// replies and replays of a stored answer store nothing).
    pub store: bool,
    /// Pace the parts by `stream_delay`, as a model would write them (a real model, or a
    /// stream that waits on a tool, paces itself).
    pub paced: bool,
}

/// An answer's items: all known when it starts, or arriving as the responder produces them
/// (after a tool call, from a language model).
pub enum Items {
    Ready(std::vec::IntoIter<AnswerItem>),
    Live(tokio::sync::mpsc::Receiver<AnswerItem>),
}

impl Items {
    pub fn ready(items: Vec<AnswerItem>) -> Self {
        Items::Ready(items.into_iter())
    }

    /// The next item, `None` at the end.
    pub async fn next(&mut self) -> Option<AnswerItem> {
        match self {
            Items::Ready(items) => items.next(),
            Items::Live(rx) => rx.recv().await,
        }
    }
}

pub trait Responder: Send + Sync {
    /// The answer to `question`, or `None` to let the next responder answer.
    fn respond(&self, question: &Question<'_>) -> Option<Answer>;
}

/// The demo shop's assistant: answers from the chatbot's knowledge base, as structured deltas.
pub struct DemoBot;

impl Responder for DemoBot {
    fn respond(&self, q: &Question<'_>) -> Option<Answer> {
        if !q.has_image
            && let Some(action) = demo_bot::action_for(q.text, &q.chatbot.actions)
        {
            return Some(action_answer(q, action.clone()));
        }
        let (parts, tools) = if q.has_image {
            let thanks = Part::RichText(RichText {
                part_id: format!("{}_part_1", q.reply_id),
                blocks: vec![Block::paragraph(vec![Span::text(
                    "Thank you for the photo. We've added it to your case and will get back to you by email.",
                )])],
            });
            (vec![thanks], vec![])
        } else {
            let (parts, tools) =
                demo_bot::answer_with_tools(q.text, q.reply_id, q.public_base, q.knowledge);
            if parts.is_empty() {
                (unknown(q), tools)
            } else {
                (parts, tools)
            }
        };
        let mut items = answer_items(q.reply_id, parts);
        // The tools ran before the answer was written: after `status: processing`, before the
        // first part.
        let at = items
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
        items.splice(at..at, calls);
        Some(Answer {
            items: Items::ready(items),
            store: true,
            paced: true,
        })
    }
}

/// "I don't know" to `q`, in its language, offering a person or a message; the question is
/// kept for the site owner.
pub fn unknown(q: &Question<'_>) -> Vec<Part> {
    let lang = grounded::language_of(q.text, &q.chatbot.default_language);
    let live = q
        .core
        .livechat_config(&q.chatbot.id)
        .is_ok_and(|c| c.enabled && c.availability_status == "live");
    q.core.keep_unanswered(q.key, q.text, &lang);
    grounded::dont_know(q.reply_id, &lang, live)
}

/// The demo bot's answer through a custom API action: it says it is looking something up
/// (`status: tool_call`, the tool events), calls the action, then answers from the response
/// with the action's template, or with its failure answer when the call fails.
fn action_answer(q: &Question<'_>, action: crate::model::Action) -> Answer {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let core = q.core.clone();
    let key = q.key.clone();
    let reply_id = q.reply_id.to_owned();
    let input = crate::actions::ActionInput {
        question: q.text.to_owned(),
        page: q.page.map(str::to_owned),
        values: Default::default(),
    };
    tokio::spawn(async move {
        let tool = |status| {
            AnswerItem::Tool(ToolEvent {
                tool: action.name.clone(),
                status,
            })
        };
        let opening = [
            AnswerItem::Event(StreamEvent::status("connected")),
            AnswerItem::Event(StreamEvent::status("processing")),
            AnswerItem::Event(StreamEvent::tool_call(&action.name, &action.label)),
            tool(ToolStatus::Calling),
        ];
        for item in opening {
            if tx.send(item).await.is_err() {
                return;
            }
        }
        let answer = match core.run_action(&key, &action, &input).await {
            Ok(response) => crate::actions::render_complete(&action.answer, &response)
                .ok_or_else(|| "the response lacks a field the answer names".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        let (text, status) = match answer {
            Ok(text) => (text, ToolStatus::Done),
            Err(why) => {
                tracing::warn!("action {} failed: {why}", action.name);
                (action.failure_answer.clone(), ToolStatus::Error)
            }
        };
        let _ = tx.send(tool(status)).await;
        let parts = vec![Part::RichText(RichText {
            part_id: format!("{reply_id}_part_1"),
            blocks: vec![Block::paragraph(vec![Span::text(text)])],
        })];
        let items = answer_items(&reply_id, parts);
        // `connected` and `processing` were said already.
        for item in items.into_iter().skip(2) {
            if tx.send(item).await.is_err() {
                return;
            }
        }
    });
    Answer {
        items: Items::Live(rx),
        store: true,
        paced: true,
    }
}

/// The stream of a whole answer: `status` connected and processing, the parts as structured
/// deltas (a whole `part` event where a part has no delta form), then `done`. Stored once
/// delivered, paced.
pub fn answer_of(reply_id: &str, parts: Vec<Part>) -> Answer {
    Answer {
        items: Items::ready(answer_items(reply_id, parts)),
        store: true,
        paced: true,
    }
}

/// The items of [`answer_of`].
pub fn answer_items(reply_id: &str, parts: Vec<Part>) -> Vec<AnswerItem> {
    let mut items = vec![
        AnswerItem::Event(StreamEvent::status("connected")),
        AnswerItem::Event(StreamEvent::status("processing")),
    ];
    items.extend(part_items(&parts));
    let reply = Message {
        message_id: reply_id.to_owned(),
        role: Role::Assistant,
        parts,
        created_at: None,
        author: None,
        feedback: None,
    };
    items.push(AnswerItem::Event(StreamEvent::Done(DoneEvent {
        message: reply,
    })));
    items
}

/// `parts` as stream items: structured deltas, or a whole `part` event where a part has no
/// delta form.
pub fn part_items(parts: &[Part]) -> Vec<AnswerItem> {
    let mut items = Vec::new();
    for part in parts {
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
    items
}
