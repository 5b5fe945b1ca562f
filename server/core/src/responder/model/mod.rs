//! Answers from a language model: any server that speaks the OpenAI-compatible chat
//! completions API with streaming (OpenAI, Azure OpenAI, Mistral, Groq, Ollama, vLLM,
//! llama.cpp's server), chosen per chatbot by `[chatbot.model]`.

//!
//! - [`client`]: one streamed request, its chunks and tool-call fragments, and why it failed.
//! - [`markdown`]: the model's Markdown, as it streams, to our parts as O(delta) `part_delta`s.
//! - [`prompt`]: instructions, grounding in the knowledge base, history, tools.
//!
//! An answer is a loop of rounds: stream the model's text into parts; if it asked for tools,
//! run them (`show_products` → a `products` part from the catalogue; a custom API action →
//! `Core::run_action`), each with its tool events, give the results back and let it continue.
//! A failure ends the stream with seed 002's `generation_failed`, what was said kept.
//! docs/protocol.md, "Language model responder".

pub mod client;
pub mod markdown;
pub mod prompt;

use std::sync::Arc;
use std::time::Duration;

use dgbot_protocol::message::{Product, Source};
use dgbot_protocol::stream::{DoneEvent, StreamErrorCode, StreamErrorEvent};
use dgbot_protocol::{Message, Role, StreamEvent};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use self::client::{Completion, Failure, ToolCall};
use self::markdown::PartWriter;
use super::{Answer, AnswerItem, Items, Question, Responder, ToolEvent, ToolStatus};
use crate::actions::ActionInput;
use crate::knowledge::base::KnowledgeBase;
use crate::knowledge::products::CatalogueItem;
use crate::model::{Action, ModelConfig};
use crate::{ConversationKey, Core};

/// The most rounds of tool calls in one answer (a model that keeps calling tools is stopped).
const MAX_ROUNDS: usize = 4;

/// Product cards shown at most per call.
const MAX_PRODUCTS: usize = 6;

/// What the visitor reads when an answer fails (seed 002's example wording).
const FAILED: &str = "Failed to generate a response. Please try again.";
const UNAVAILABLE: &str = "The assistant can't answer right now. Please contact us another way.";

/// Answers the chatbots that have a `[chatbot.model]`; the others go to the next responder.
pub struct ModelResponder;

impl Responder for ModelResponder {
    fn respond(&self, q: &Question<'_>) -> Option<Answer> {
        let config = q.chatbot.model.clone()?;
        let core = q.core.clone();
        let question = match (q.text.trim(), q.has_image) {
            ("", true) => "(The visitor sent a photo.)".to_owned(),
            (text, _) => text.to_owned(),
        };
        let history = earlier_messages(&core, q.key, &question);
        let passages = prompt::grounding(q.knowledge, &question, q.public_base);
        // Nothing the site says answers it (and it asks for no product): the model is told so,
        // and the question is kept for the site owner, as the demo bot keeps it.
        if passages.is_empty() && q.knowledge.products(&question).is_none() && !q.has_image {
            let lang = super::grounded::language_of(&question, &q.chatbot.default_language);
            core.keep_unanswered(q.key, &question, &lang);
        }
        let system = prompt::system_prompt(
            &q.chatbot.config.name,
            &q.chatbot.config.language,
            config.system_prompt.as_deref(),
            q.knowledge,
            &question,
            &passages,
        );
        let lang = super::grounded::language_of(&question, &q.chatbot.default_language);
        let job = Job {
            messages: prompt::messages(system, &history, &question),
            tools: prompt::tools(q.knowledge, &q.chatbot.actions),
            core,
            config,
            key: q.key.clone(),
            knowledge: q.knowledge.clone(),
            actions: q.chatbot.actions.clone(),
            question,
            page: q.page.map(str::to_owned),
            reply_id: q.reply_id.to_owned(),
            public_base: q.public_base.to_owned(),
            passages: passages.into_iter().map(|(source, _)| source).collect(),
            lang,
        };
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(job.run(tx));
        Some(Answer {
            items: Items::Live(rx),
            store: true,
            // The model paces itself.
            paced: false,
        })
    }
}

/// The conversation before the question (which is stored already, as its last message).
fn earlier_messages(core: &Core, key: &ConversationKey, question: &str) -> Vec<Message> {
    let mut messages = crate::logged("the model's history", core.store.messages(key));
    if messages
        .last()
        .is_some_and(|m| m.role == Role::User && m.plain_text().trim() == question)
    {
        messages.pop();
    }
    messages
}

/// One answer being written.
struct Job {
    core: Arc<Core>,
    config: ModelConfig,
    key: ConversationKey,
    knowledge: Arc<KnowledgeBase>,
    actions: Vec<Action>,
    question: String,
    /// The page the visitor asks from, for actions that send it.
    page: Option<String>,
    reply_id: String,
    public_base: String,
    messages: Vec<Value>,
    tools: Vec<Value>,
    /// The sources of the passages in the prompt, in their numbered order.
    passages: Vec<Source>,
    /// The question's language (the chatbot's default when it is unclear): follow-ups are in it.
    lang: String,
}

/// The visitor went away: stop asking the model.
struct Gone;

impl Job {
    async fn run(mut self, tx: mpsc::Sender<AnswerItem>) {
        let mut writer = PartWriter::new(&self.reply_id);
        let result = self.answer(&tx, &mut writer).await;
        let mut items: Vec<AnswerItem> =
            writer.finish().into_iter().map(AnswerItem::Event).collect();
        let mut parts = writer.parts().to_vec();
        if matches!(result, Ok(Ok(()))) {
            let said = dgbot_protocol::message::parts_text(&parts);
            let cited = cited(&said, &self.passages);
            let part_id = format!("{}_part_{}", self.reply_id, parts.len() + 1);
            if let Some(sources) = super::grounded::sources_part(part_id, cited.clone()) {
                items.push(AnswerItem::Event(StreamEvent::Part(
                    dgbot_protocol::stream::PartEvent {
                        part: sources.clone(),
                    },
                )));
                parts.push(sources);
                // A grounded answer ends with follow-ups: the headings of the other sections
                // the question finds (the demo bot's, not the model's words).
                let part_id = format!("{}_part_{}", self.reply_id, parts.len() + 1);
                let follow_ups = super::grounded::follow_ups(
                    &self.knowledge,
                    &self.question,
                    &cited,
                    &self.lang,
                    &self.public_base,
                );
                if let Some(suggestions) = super::grounded::suggestions_part(part_id, follow_ups) {
                    items.push(AnswerItem::Event(StreamEvent::Part(
                        dgbot_protocol::stream::PartEvent {
                            part: suggestions.clone(),
                        },
                    )));
                    parts.push(suggestions);
                }
            }
        }
        items.push(AnswerItem::Event(match result {
            Ok(Ok(())) => StreamEvent::Done(DoneEvent {
                message: Message {
                    message_id: self.reply_id.clone(),
                    role: Role::Assistant,
                    parts,
                    created_at: None,
                    author: None,
                    feedback: None,
                },
            }),
            Ok(Err(failure)) => {
                tracing::warn!(
                    "the model's answer {} failed: {}",
                    self.reply_id,
                    failure.reason
                );
                StreamEvent::Error(StreamErrorEvent {
                    code: StreamErrorCode::GenerationFailed,
                    message: if failure.retryable {
                        FAILED
                    } else {
                        UNAVAILABLE
                    }
                    .into(),
                    retryable: failure.retryable,
                })
            }
            Err(Gone) => return,
        }));
        for item in items {
            if tx.send(item).await.is_err() {
                return;
            }
        }
    }

    /// Stream the model's answer into `writer`, running the tools it calls between rounds.
    async fn answer(
        &mut self,
        tx: &mpsc::Sender<AnswerItem>,
        writer: &mut PartWriter,
    ) -> Result<Result<(), Failure>, Gone> {
        for status in ["connected", "processing"] {
            send(tx, AnswerItem::Event(StreamEvent::status(status))).await?;
        }
        let deadline = Instant::now() + Duration::from_secs(self.config.timeout_seconds);
        for round in 0..MAX_ROUNDS {
            let body = self.request_body(round + 1 < MAX_ROUNDS);
            let mut completion =
                match Completion::start(&self.core.http, &self.config, &body, deadline).await {
                    Ok(c) => c,
                    Err(failure) => return Ok(Err(failure)),
                };
            let mut said = String::new();
            loop {
                match completion.next_text().await {
                    Ok(Some(text)) => {
                        said.push_str(&text);
                        for event in writer.push(&text) {
                            send(tx, AnswerItem::Event(event)).await?;
                        }
                    }
                    Ok(None) => break,
                    Err(failure) => return Ok(Err(failure)),
                }
            }
            let calls: Vec<ToolCall> = completion
                .tool_calls
                .into_iter()
                .filter(|c| !c.name.is_empty())
                .collect();
            if calls.is_empty() {
                return Ok(Ok(()));
            }
            self.messages.push(assistant_calls(&said, &calls));
            for call in calls {
                let result = self.call_tool(&call, tx, writer).await?;
                self.messages.push(json!({
                    "role": "tool",
                    "tool_call_id": call.id,
                    "content": result.to_string(),
                }));
            }
        }
        Ok(Ok(()))
    }

    /// The request of one round; the last round offers no tools, so the model must answer.
    fn request_body(&self, with_tools: bool) -> Value {
        let mut body = json!({
            "model": self.config.model,
            "messages": self.messages,
            "stream": true,
        });
        if let Some(t) = self.config.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(n) = self.config.max_tokens {
            body["max_tokens"] = json!(n);
        }
        if with_tools && !self.tools.is_empty() {
            body["tools"] = json!(self.tools);
        }
        body
    }

    /// Run one tool call, with its tool events; what it returns for the model.
    async fn call_tool(
        &self,
        call: &ToolCall,
        tx: &mpsc::Sender<AnswerItem>,
        writer: &mut PartWriter,
    ) -> Result<Value, Gone> {
        let tool = |status| {
            AnswerItem::Tool(ToolEvent {
                tool: call.name.clone(),
                status,
            })
        };
        send(tx, tool(ToolStatus::Calling)).await?;
        let args: Value = serde_json::from_str(&call.arguments).unwrap_or(Value::Null);
        let (ok, result) = if call.name == prompt::SHOW_PRODUCTS {
            let (products, result) = self.show_products(&args);
            let shown = !products.is_empty();
            for event in writer.products(products) {
                send(tx, AnswerItem::Event(event)).await?;
            }
            (shown, result)
        } else if let Some(action) = self.actions.iter().find(|a| a.name == call.name) {
            // The widget says what is being looked up ("Looking up order status…").
            send(
                tx,
                AnswerItem::Event(StreamEvent::tool_call(&action.name, &action.label)),
            )
            .await?;
            self.run_action(action, &args).await
        } else {
            (
                false,
                json!({ "error": format!("there is no tool {:?}", call.name) }),
            )
        };
        let status = if ok {
            ToolStatus::Done
        } else {
            ToolStatus::Error
        };
        send(tx, tool(status)).await?;
        Ok(result)
    }

    /// The catalogue's products among `product_ids` (unknown ids are dropped), as cards.
    fn show_products(&self, args: &Value) -> (Vec<Product>, Value) {
        let ids: Vec<&str> = args
            .get("product_ids")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut shown: Vec<&CatalogueItem> = Vec::new();
        let mut unknown = Vec::new();
        for id in ids {
            match self.knowledge.catalogue.iter().find(|p| p.id == id) {
                Some(p) if !shown.iter().any(|s| s.id == p.id) => shown.push(p),
                Some(_) => {}
                None => unknown.push(id),
            }
        }
        shown.truncate(MAX_PRODUCTS);
        let result = json!({
            "shown": shown.iter().map(|p| &p.id).collect::<Vec<_>>(),
            "unknown_ids": unknown,
        });
        let cards = shown
            .iter()
            .map(|p| p.to_product(&self.public_base))
            .collect();
        (cards, result)
    }

    /// Call a custom API action with the values the model gave (only those the action sends).
    async fn run_action(&self, action: &Action, args: &Value) -> (bool, Value) {
        let fields = prompt::model_fields(action);
        let values = args
            .as_object()
            .map(|given| {
                given
                    .iter()
                    .filter(|(k, v)| fields.contains(&k.as_str()) && !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let input = ActionInput {
            question: self.question.clone(),
            page: self.page.clone(),
            values,
        };
        match self.core.run_action(&self.key, action, &input).await {
            Ok(response) => (true, response),
            Err(e) => {
                tracing::warn!("action {} failed: {e}", action.name);
                (
                    false,
                    json!({ "error": e.to_string(), "tell_the_visitor": action.failure_answer }),
                )
            }
        }
    }
}

/// The passages an answer cites (`[n]` in its text), in the order given. An answer that cites
/// none by number gets no `sources`: it is not said to come from pages it may not have used.
fn cited(said: &str, passages: &[Source]) -> Vec<Source> {
    passages
        .iter()
        .enumerate()
        .filter(|(i, _)| said.contains(&format!("[{}]", i + 1)))
        .map(|(_, s)| s.clone())
        .collect()
}

/// The assistant's turn that asked for tools, as the API wants it back.
fn assistant_calls(said: &str, calls: &[ToolCall]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "type": "function",
                "function": { "name": c.name, "arguments": c.arguments },
            })
        })
        .collect();
    json!({
        "role": "assistant",
        "content": if said.is_empty() { Value::Null } else { Value::from(said) },
        "tool_calls": calls,
    })
}

async fn send(tx: &mpsc::Sender<AnswerItem>, item: AnswerItem) -> Result<(), Gone> {
    tx.send(item).await.map_err(|_| Gone)
}
