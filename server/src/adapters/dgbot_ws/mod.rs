//! Seed 001: DGbot's WebSocket, `GET /ws?key=CHATBOT_ID&visitor_id=…` (frames in
//! `dgbot_protocol::dgbot_ws`; decisions in docs/protocol.md, "DGbot WebSocket").
//!
//! A connection is one visitor's view of their conversation (`key` + `visitor_id`, the same
//! conversation key as every other protocol): it hears everything the conversation's hub
//! announces, so two tabs of one visitor see the same answers, and an agent's reply reaches
//! it whichever protocol started the conversation. What the client sends goes to the bot, or
//! to the agent once one has joined.

use std::time::Duration;

use axum::Router;
use axum::extract::ws::{
    CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade, close_code,
};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::ORIGIN;
use axum::response::Response;
use axum::routing::get;
use dgbot_protocol::dgbot_ws::{ClientFrame, ServerFrame, TextChunks, decode_client_frame};
use dgbot_protocol::livechat::{HandoverRequest, LivechatStatus};
use dgbot_protocol::message::TextPart;
use dgbot_protocol::{Part, StreamEvent};
use tokio::sync::broadcast::error::RecvError;

use crate::SharedState;
use crate::http::origin::origin_allowed;
use dgbot_core::ConversationKey;
use dgbot_core::error::CoreError;
use dgbot_core::hub::ConversationEvent;
use dgbot_core::model::ids::is_valid_visitor_id;
use dgbot_core::responder::ToolStatus;

/// The largest frame a client may send: a chat message, not a file.
const MAX_FRAME: usize = 64 * 1024;
/// The read buffer a connection starts with (it grows for a larger frame, up to [`MAX_FRAME`]).
const READ_BUFFER: usize = 4 * 1024;

pub fn routes(_state: &SharedState) -> Router<SharedState> {
    Router::new().route("/ws", get(upgrade))
}

#[derive(serde::Deserialize)]
pub struct Connect {
    key: Option<String>,
    visitor_id: Option<String>,
    /// `1`: also send each answer's structured parts (`message_parts`).
    parts: Option<String>,
}

/// Every connection is upgraded, so that even a refused one hears why (an `error` frame, then
/// a close frame with the reason), which a failed handshake could not say.
async fn upgrade(
    State(state): State<SharedState>,
    Query(q): Query<Connect>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = headers
        .get(ORIGIN)
        .map(|o| o.to_str().unwrap_or("").to_owned());
    let admitted = admit(&state, &q, origin.as_deref());
    let with_parts = q.parts.as_deref() == Some("1");
    ws.max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        // Client frames are small; the library's default 128 KiB read buffer would be most
        // of an idle connection's memory (BENCHMARKS.md).
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            let _open = crate::ops::OpenConnection::new("ws");
            match admitted {
                Ok(key) => Connection::new(state, key, with_parts).run(socket).await,
                Err((code, message)) => refuse(socket, code, &message).await,
            }
        })
}

/// The conversation a connection may attach to, or why not (`error` code and words).
fn admit(
    state: &SharedState,
    q: &Connect,
    origin: Option<&str>,
) -> Result<ConversationKey, (&'static str, String)> {
    let key = q.key.as_deref().unwrap_or("");
    let Some(bot) = state.core.chatbot(key) else {
        return Err((
            "unknown_chatbot",
            format!("No chatbot with key {key:?}: use the id of data-chatbot-id"),
        ));
    };
    let visitor = q.visitor_id.as_deref().unwrap_or("");
    if !is_valid_visitor_id(visitor) {
        return Err((
            "bad_visitor_id",
            "visitor_id must be 8–64 letters, digits, '-' or '_' (a UUID v4 is fine)".into(),
        ));
    }
    // Browsers say which page connects; apps and servers send no Origin and are welcome.
    if let Some(origin) = origin
        && !origin_allowed(&bot.allowed_origins, origin)
        && !origin.eq_ignore_ascii_case(state.config.public_base.trim_end_matches('/'))
    {
        return Err((
            "origin_not_allowed",
            format!("This chatbot is not enabled on {origin:?}"),
        ));
    }
    Ok(ConversationKey::new(bot.id.clone(), visitor))
}

async fn refuse(mut socket: WebSocket, code: &str, message: &str) {
    let _ = socket
        .send(WsMessage::text(ServerFrame::error(code, message).to_json()))
        .await;
    let reason: String = message.chars().take(100).collect();
    let _ = socket
        .send(WsMessage::Close(Some(CloseFrame {
            code: close_code::POLICY,
            reason: reason.into(),
        })))
        .await;
}

/// One attached client.
struct Connection {
    state: SharedState,
    key: ConversationKey,
    with_parts: bool,
    /// The answer streaming now: its id and the text handed out.
    answer: Option<(String, TextChunks)>,
    /// The text of the last finished answer (what a `handoff_offered` offers).
    last_answer: String,
    /// The `request_human_agent` part of the bot's last offer.
    offer: Option<String>,
}

impl Connection {
    fn new(state: SharedState, key: ConversationKey, with_parts: bool) -> Self {
        Connection {
            state,
            key,
            with_parts,
            answer: None,
            last_answer: String::new(),
            offer: None,
        }
    }

    async fn run(mut self, mut socket: WebSocket) {
        // Attach before anything can happen, so no event of this conversation is missed.
        let mut events = self.state.core.subscribe(&self.key);
        let idle: Duration = self.state.config.ws_idle_timeout;
        let mut deadline = tokio::time::Instant::now() + idle;
        let (code, reason): (u16, String) = loop {
            tokio::select! {
                frame = socket.recv() => {
                    deadline = tokio::time::Instant::now() + idle;
                    let frames = match frame {
                        None | Some(Err(_)) => return, // gone (or broke the protocol)
                        Some(Ok(WsMessage::Text(text))) => self.on_client_text(text.as_str()),
                        Some(Ok(WsMessage::Binary(_))) => vec![ServerFrame::error(
                            "bad_frame",
                            "frames are JSON text, not binary",
                        )],
                        Some(Ok(WsMessage::Close(_))) => return,
                        Some(Ok(_)) => vec![], // WebSocket pings are answered by the library
                    };
                    if send_all(&mut socket, frames).await.is_err() {
                        return;
                    }
                }
                event = events.recv() => {
                    let frames = match event {
                        Ok(event) => self.on_event(event),
                        // Fell behind: skip ahead; `done` still carries the whole answer.
                        Err(RecvError::Lagged(_)) => {
                            if let Some((_, chunks)) = self.answer.as_mut() {
                                chunks.fell_behind();
                            }
                            vec![]
                        }
                        Err(RecvError::Closed) => break (close_code::AWAY, "server shutting down".into()),
                    };
                    if send_all(&mut socket, frames).await.is_err() {
                        return;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    break (
                        close_code::AWAY,
                        format!("idle for {} s: send a ping every 25–30 s", idle.as_secs()),
                    );
                }
            }
        };
        let _ = socket
            .send(WsMessage::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }

    /// What to answer a client's text frame with (most answers come later, from the hub).
    fn on_client_text(&mut self, text: &str) -> Vec<ServerFrame> {
        let frame = match decode_client_frame(text) {
            Ok(frame) => frame,
            Err(reason) => return vec![ServerFrame::error("bad_frame", reason)],
        };
        let result = match frame {
            ClientFrame::Ping => return vec![ServerFrame::Pong],
            ClientFrame::Message { content } => self.send_message(content),
            ClientFrame::HandoffAccept => self.accept_handoff(),
            ClientFrame::Typing { is_typing } => self
                .state
                .core
                .visitor_typing(&self.key, is_typing)
                .map(|_| ()),
            ClientFrame::EndLivechat { reason } => {
                self.state.core.visitor_close(&self.key, reason).map(|_| ())
            }
        };
        match result {
            Ok(()) => vec![],
            Err(e) => vec![error_frame(e)],
        }
    }

    /// To the agent while one is in the chat; otherwise to the bot, whose answer streams to
    /// every connection of this visitor through the hub.
    fn send_message(&mut self, content: String) -> Result<(), CoreError> {
        let parts = vec![Part::Text(TextPart { text: content })];
        let livechat = self.state.core.livechat_state(&self.key)?;
        if livechat.status == LivechatStatus::Active {
            return self
                .state
                .core
                .visitor_livechat_message(&self.key, parts, None)
                .map(|_| ());
        }
        let mut answer = self.state.core.post_message(&self.key, parts, None)?;
        // The stream runs as long as someone takes its items; the frames come from the hub.
        tokio::spawn(async move { while answer.recv().await.is_some() {} });
        Ok(())
    }

    fn accept_handoff(&mut self) -> Result<(), CoreError> {
        let source = if self.offer.is_some() {
            "marker"
        } else {
            "manual_button"
        };
        self.state
            .core
            .handover(
                &self.key,
                HandoverRequest {
                    platform: "websocket".into(),
                    source: source.into(),
                    part_id: self.offer.take(),
                },
            )
            .map(|_| ())
    }

    /// The frames an event of the conversation becomes.
    fn on_event(&mut self, event: ConversationEvent) -> Vec<ServerFrame> {
        match event {
            ConversationEvent::AnswerStarted { message_id } => {
                self.answer = Some((message_id.clone(), TextChunks::new()));
                vec![ServerFrame::StreamStart { message_id }]
            }
            ConversationEvent::Answer(event) => self.on_answer(event),
            ConversationEvent::Tool(tool) => vec![match tool.status {
                ToolStatus::Calling => ServerFrame::ToolAction {
                    tool: tool.tool,
                    status: tool.status.as_str().into(),
                },
                ToolStatus::Done | ToolStatus::Error => ServerFrame::ToolActionResult {
                    tool: tool.tool,
                    status: tool.status.as_str().into(),
                },
            }],
            ConversationEvent::HandoffOffered { part_id } => {
                self.offer = Some(part_id);
                let message = if self.last_answer.is_empty() {
                    "A person from our team can take over this chat.".to_owned()
                } else {
                    self.last_answer.clone()
                };
                vec![ServerFrame::HandoffOffered { message }]
            }
            ConversationEvent::Livechat { status, .. } => {
                vec![ServerFrame::LivechatStatus { status }]
            }
            ConversationEvent::AgentJoined(agent) => vec![ServerFrame::AgentJoined {
                agent_name: agent.display_name,
            }],
            ConversationEvent::AgentMessage(message) => vec![ServerFrame::AgentMessage {
                content: message.plain_text(),
                agent_name: message
                    .author
                    .map(|a| a.display_name)
                    .unwrap_or_else(|| "Agent".into()),
            }],
            ConversationEvent::AgentTyping { is_typing } => {
                vec![ServerFrame::AgentTyping { is_typing }]
            }
            ConversationEvent::AgentLeft { .. } => vec![ServerFrame::AgentLeft],
            // The visitor's own words are not echoed (the seed has no frame for them).
            ConversationEvent::VisitorMessage(_) | ConversationEvent::VisitorTyping { .. } => {
                vec![]
            }
        }
    }

    fn on_answer(&mut self, event: StreamEvent) -> Vec<ServerFrame> {
        let Some((message_id, chunks)) = self.answer.as_mut() else {
            return vec![]; // attached mid-answer: its start was missed, so is the rest
        };
        let mut frames: Vec<ServerFrame> = chunks
            .push(&event)
            .map(|content| ServerFrame::StreamChunk {
                message_id: message_id.clone(),
                content,
            })
            .into_iter()
            .collect();
        match event {
            StreamEvent::Done(done) => {
                if self.with_parts {
                    frames.push(ServerFrame::MessageParts {
                        message_id: message_id.clone(),
                        parts: done.message.parts,
                    });
                }
                self.last_answer = chunks.text().to_owned();
                frames.push(ServerFrame::StreamEnd {
                    message_id: message_id.clone(),
                });
                self.answer = None;
            }
            StreamEvent::Error(error) => {
                // Clients stop reading at `stream_end` (the seed's example does): it follows.
                frames.push(ServerFrame::Error {
                    code: code_name(&error.code),
                    message: error.message,
                    retry_after: None,
                    message_id: Some(message_id.clone()),
                });
                frames.push(ServerFrame::StreamEnd {
                    message_id: message_id.clone(),
                });
                self.answer = None;
            }
            _ => {}
        }
        frames
    }
}

/// A serde enum's wire name (`generation_failed`, `rate_limited`…).
fn code_name(code: &impl serde::Serialize) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "internal".into())
}

fn error_frame(e: CoreError) -> ServerFrame {
    let failure = crate::http::error::Failure::from(e);
    let retry_after = failure.retry_after;
    let body = failure.error.error;
    ServerFrame::Error {
        code: code_name(&body.code),
        message: body.message,
        retry_after,
        message_id: None,
    }
}

async fn send_all(socket: &mut WebSocket, frames: Vec<ServerFrame>) -> Result<(), axum::Error> {
    for frame in frames {
        socket.send(WsMessage::text(frame.to_json())).await?;
    }
    Ok(())
}
