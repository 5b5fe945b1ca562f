//! Seed 001: the frames of DGbot's WebSocket (`GET /ws?key=CHATBOT_ID&visitor_id=…`), one
//! JSON object per text frame, tagged by `type`. The seed's own types come first; the others
//! are ours where the seed is silent (docs/protocol.md, "DGbot WebSocket"), and a client that
//! knows only the seed's types can ignore them.
//!
//! [`TextChunks`] turns an answer's structured stream (seed 002's `part_delta` / `part` /
//! `done`) into `stream_chunk` texts: in order, and concatenated they are the whole answer as
//! readable text.

use serde::{Deserialize, Serialize};

use crate::livechat::LivechatStatus;
use crate::message::{Message, Part, Role, parts_text};
use crate::stream::StreamEvent;
use crate::transcript::Transcript;

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Seed: a visitor message. To the bot; to the agent once one has joined.
    Message { content: String },
    /// Seed: keep-alive ("every 25–30 seconds"); answered with [`ServerFrame::Pong`].
    Ping,
    /// Ours: accept the bot's `handoff_offered` (or ask for a person without one).
    HandoffAccept,
    /// Ours: the visitor is typing (shown to the agent while one is in the chat).
    Typing { is_typing: bool },
    /// Ours: end the conversation with the agent.
    EndLivechat {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    StreamStart {
        message_id: String,
    },
    StreamChunk {
        message_id: String,
        content: String,
    },
    StreamEnd {
        message_id: String,
    },
    /// Ours, only with `parts=1` in the URL: the answer's structured parts (seed 002's shapes:
    /// products, tables, markers…), right before its `stream_end`.
    MessageParts {
        message_id: String,
        parts: Vec<Part>,
    },
    /// Seed: the bot is calling a tool (`status: "calling"`).
    ToolAction {
        tool: String,
        status: String,
    },
    /// Seed: the tool returned (`status: "done"` or `"error"`).
    ToolActionResult {
        tool: String,
        status: String,
    },
    /// Seed: the bot offers a person; accept with [`ClientFrame::HandoffAccept`].
    HandoffOffered {
        message: String,
    },
    AgentJoined {
        agent_name: String,
    },
    AgentMessage {
        content: String,
        agent_name: String,
    },
    AgentLeft,
    /// Ours: the agent started or stopped typing.
    AgentTyping {
        is_typing: bool,
    },
    /// Ours: the hand-over's state (`waiting`, `active`, `closed`) whenever it changes.
    LivechatStatus {
        status: LivechatStatus,
    },
    /// Ours: the answer to a `ping`.
    Pong,
    /// Ours: something went wrong; `code` is seed 002's `ApiError` code where one applies
    /// (`validation`, `rate_limited`, `conflict`, `forbidden`, `not_found`, `internal`) or
    /// `bad_frame`, `unknown_chatbot`, `bad_visitor_id`, `origin_not_allowed`,
    /// `generation_failed`. Fatal ones are followed by a close frame with the same reason.
    Error {
        code: String,
        message: String,
        /// With `rate_limited`: seconds to wait.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        /// With `generation_failed`: the answer that failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
    },
}

impl ServerFrame {
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        ServerFrame::Error {
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
            message_id: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("frames serialize")
    }
}

/// Decode a client frame, with a reason a person can act on when it is not one.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Some(kind) = value.get("type").and_then(|t| t.as_str()) else {
        return Err(r#"a frame is a JSON object with a "type""#.to_owned());
    };
    let kind = kind.to_owned();
    serde_json::from_value(value).map_err(|e| match kind.as_str() {
        "message" | "ping" | "handoff_accept" | "typing" | "end_livechat" => {
            format!("bad {kind:?} frame: {e}")
        }
        _ => format!(
            "unknown frame type {kind:?} (message, ping, handoff_accept, typing, end_livechat)"
        ),
    })
}

/// The readable text of one streaming answer, handed out as it grows.
#[derive(Debug, Default)]
pub struct TextChunks {
    transcript: Transcript,
    sent: String,
    /// Some events of this answer never arrived: hold the rest back until `done`.
    behind: bool,
}

impl TextChunks {
    pub fn new() -> Self {
        let mut transcript = Transcript::new();
        transcript.begin_draft();
        TextChunks {
            transcript,
            sent: String::new(),
            behind: false,
        }
    }

    /// Some events were missed (a slow reader fell behind the hub). The text from here on
    /// cannot be told from deltas, so nothing more is handed out until `done`, which carries
    /// the whole message: what was sent stays a true prefix of it and no words go missing.
    pub fn fell_behind(&mut self) {
        self.behind = true;
    }

    /// The text `event` adds to what was handed out so far (`None`: nothing new to read). At
    /// `done`, the rest of the final message's text. Text that changes what was already sent
    /// (a part replaced) is not sent again: the chunks only ever append.
    pub fn push(&mut self, event: &StreamEvent) -> Option<String> {
        let text = match event {
            StreamEvent::PartDelta(_) | StreamEvent::Part(_) if self.behind => return None,
            StreamEvent::PartDelta(_) | StreamEvent::Part(_) => {
                self.transcript.apply(event).ok()?;
                parts_text(&self.transcript.draft()?.parts)
            }
            StreamEvent::Done(done) => done.message.plain_text(),
            StreamEvent::Status(_) | StreamEvent::Error(_) => return None,
        };
        let chunk = text.strip_prefix(self.sent.as_str())?;
        if chunk.is_empty() {
            return None;
        }
        let chunk = chunk.to_owned();
        self.sent = text;
        Some(chunk)
    }

    /// Everything handed out so far.
    pub fn text(&self) -> &str {
        &self.sent
    }

    /// The answer so far as a message (for `message_parts` when the stream fails).
    pub fn draft(&self, message_id: &str) -> Message {
        Message {
            message_id: message_id.to_owned(),
            role: Role::Assistant,
            parts: self
                .transcript
                .draft()
                .map(|d| d.parts.clone())
                .unwrap_or_default(),
            created_at: None,
            author: None,
            feedback: None,
        }
    }
}
