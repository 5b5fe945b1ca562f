//! One streamed request to an OpenAI-compatible `POST {base_url}/chat/completions`
//! (`"stream": true`): the reply is Server-Sent Events whose `data:` is a JSON chunk
//! (`choices[0].delta.content`, `choices[0].delta.tool_calls[]`, `finish_reason`) and finally
//! `[DONE]`. Read with our own SSE parser (`dgbot_protocol::sse`), so any chunking of the bytes
//! gives the same chunks.
//!
//! Every way it can fail becomes a [`Failure`] that says whether trying again may help: a
//! timeout, `429`, `408`, a `5xx`, a connection that breaks or ends before the answer did, and a
//! malformed chunk after good ones may pass; a `4xx` (bad key, unknown model, a request the
//! server refuses) or a reply that is not a chunk stream at all (a wrong `base_url`) will not.

use std::collections::VecDeque;

use dgbot_protocol::sse::{SseEvent, SseParser};
use serde_json::Value;
use tokio::time::Instant;

use crate::model::ModelConfig;

/// Why an answer could not be had, and whether the same question may succeed later.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub retryable: bool,
    pub reason: String,
}

impl Failure {
    fn transient(reason: impl Into<String>) -> Self {
        Failure {
            retryable: true,
            reason: reason.into(),
        }
    }

    fn permanent(reason: impl Into<String>) -> Self {
        Failure {
            retryable: false,
            reason: reason.into(),
        }
    }
}

/// A tool call, put together from its streamed fragments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// JSON text.
    pub arguments: String,
}

/// The most of an error response kept for the log.
const ERROR_BODY: usize = 2048;

/// A completion being streamed.
pub struct Completion {
    res: reqwest::Response,
    parser: SseParser,
    pending: VecDeque<SseEvent>,
    deadline: Instant,
    /// The tool calls the model asked for (complete once the stream has ended).
    pub tool_calls: Vec<ToolCall>,
    /// A `finish_reason` arrived: a server that then closes without `[DONE]` has finished.
    finished: bool,
    ended: bool,
    /// A well-formed chunk arrived: a malformed one after it is a glitch, not a wrong server.
    good_chunk: bool,
}

impl Completion {
    /// Send the request; fails on a refused request or status.
    pub async fn start(
        http: &reqwest::Client,
        config: &ModelConfig,
        body: &Value,
        deadline: Instant,
    ) -> Result<Completion, Failure> {
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        let mut req = http
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(body.to_string());
        if let Some(key) = config.api_key() {
            req = match config.api_key_header.as_deref() {
                // Azure OpenAI's key header.
                Some(name) if !name.eq_ignore_ascii_case("authorization") => req.header(name, key),
                _ => req.bearer_auth(key),
            };
        }
        let res = match tokio::time::timeout_at(deadline, req.send()).await {
            Err(_) => return Err(Failure::transient("timed out waiting for the model")),
            Ok(Err(e)) => return Err(Failure::transient(format!("request failed: {e}"))),
            Ok(Ok(res)) => res,
        };
        let status = res.status();
        if !status.is_success() {
            let why = format!(
                "the model's server answered {status}: {}",
                error_body(res).await
            );
            let retryable =
                status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error();
            return Err(Failure {
                retryable,
                reason: why,
            });
        }
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type.contains("event-stream") {
            return Err(Failure::permanent(format!(
                "the model's server sent {content_type:?}, not an event stream: is base_url an OpenAI-compatible API?"
            )));
        }
        Ok(Completion {
            res,
            parser: SseParser::new(),
            pending: VecDeque::new(),
            deadline,
            tool_calls: Vec::new(),
            finished: false,
            ended: false,
            good_chunk: false,
        })
    }

    /// The next piece of the answer's text; `None` once the model has finished.
    pub async fn next_text(&mut self) -> Result<Option<String>, Failure> {
        loop {
            while let Some(event) = self.pending.pop_front() {
                if let Some(text) = self.on_event(&event)? {
                    return Ok(Some(text));
                }
            }
            if self.ended {
                return Ok(None);
            }
            self.read().await?;
        }
    }

    /// Read the next bytes into `pending`.
    async fn read(&mut self) -> Result<(), Failure> {
        match tokio::time::timeout_at(self.deadline, self.res.chunk()).await {
            Err(_) => Err(Failure::transient(
                "the model took longer than timeout_seconds",
            )),
            Ok(Err(e)) => Err(Failure::transient(format!("the connection broke: {e}"))),
            Ok(Ok(None)) if self.finished => {
                self.ended = true;
                Ok(())
            }
            Ok(Ok(None)) => Err(Failure::transient("the connection ended mid-answer")),
            Ok(Ok(Some(bytes))) => {
                let mut events = Vec::new();
                self.parser.feed(&bytes, &mut events);
                self.pending.extend(events);
                Ok(())
            }
        }
    }

    /// One SSE event: its text, if it has any.
    fn on_event(&mut self, event: &SseEvent) -> Result<Option<String>, Failure> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.ended = true;
            self.pending.clear();
            return Ok(None);
        }
        if data.is_empty() {
            return Ok(None);
        }
        let chunk: Value = serde_json::from_str(data).map_err(|e| {
            let reason = format!("a malformed chunk ({e}): {}", clip(data));
            match self.good_chunk {
                true => Failure::transient(reason),
                false => Failure::permanent(reason),
            }
        })?;
        if let Some(error) = chunk.get("error") {
            return Err(Failure::transient(format!("the model failed: {error}")));
        }
        let Some(choices) = chunk.get("choices").and_then(Value::as_array) else {
            return match self.good_chunk {
                true => Err(Failure::transient(format!(
                    "a chunk without choices: {}",
                    clip(data)
                ))),
                false => Err(Failure::permanent(format!(
                    "not a completion chunk: {}",
                    clip(data)
                ))),
            };
        };
        self.good_chunk = true;
        // Usage-only chunks have no choices; we ask for one choice.
        let Some(choice) = choices.first() else {
            return Ok(None);
        };
        if choice.get("finish_reason").is_some_and(|r| !r.is_null()) {
            self.finished = true;
        }
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            calls.iter().for_each(|c| self.tool_call_fragment(c));
        }
        Ok(delta
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned))
    }

    /// Tool calls stream as fragments keyed by `index`: the id and name once, the arguments'
    /// JSON text in pieces.
    fn tool_call_fragment(&mut self, fragment: &Value) {
        let index = fragment
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(self.tool_calls.len().saturating_sub(1) as u64) as usize;
        if index > 16 {
            return; // no model asks for that many at once; a broken one might
        }
        if self.tool_calls.len() <= index {
            self.tool_calls.resize_with(index + 1, ToolCall::default);
        }
        let call = &mut self.tool_calls[index];
        let text = |key: &str| fragment.get(key).and_then(Value::as_str);
        let function = fragment.get("function").unwrap_or(&Value::Null);
        let part = |key: &str| function.get(key).and_then(Value::as_str);
        // Some servers repeat the id and name in every fragment: the first counts.
        if let Some(id) = text("id").filter(|_| call.id.is_empty()) {
            call.id = id.to_owned();
        }
        if let Some(name) = part("name").filter(|_| call.name.is_empty()) {
            call.name = name.to_owned();
        }
        if let Some(args) = part("arguments") {
            call.arguments.push_str(args);
        }
    }
}

/// The start of an error response's body, for the log.
async fn error_body(mut res: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY {
        match res.chunk().await {
            Ok(Some(bytes)) => body.extend_from_slice(&bytes),
            _ => break,
        }
    }
    clip(&String::from_utf8_lossy(&body)).to_owned()
}

/// At most 200 bytes of `text`, on a character boundary.
fn clip(text: &str) -> &str {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
