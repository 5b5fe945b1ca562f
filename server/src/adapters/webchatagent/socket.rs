//! The WebSocket `/api/livechat`: a client joins one session (`client:join`) and writes in it
//! (`client:message`, `client:typing`); it hears the session's messages, status, typing and,
//! in bot mode, the assistant's answers as they stream (`livechat:*`, every event with the
//! session id). A refused frame gets `livechat:error` and changes nothing.
//!
//! One task per socket: it reads frames, forwards the session's hub events and sends
//! protocol pings; nothing else runs per idle socket. A socket that sends nothing (not even
//! the pong browsers answer pings with) for [`Timings::idle_after`] is closed, as is one that
//! joins no session within [`Timings::join_within`].

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use dgbot_protocol::webchatagent::{
    ClientEvent, ClientMessage, ClientTyping, ErrorCode, ErrorEvent, Join, Pong, ServerEvent,
    Status,
};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use super::events::Follower;
use super::session::{Page, Refusal, answered, exists, key_of, mode_status, text_parts};
use crate::SharedState;
use dgbot_core::hub::ConversationEvent;

/// Largest frame a client may send: a message of the longest text the core takes, escaped.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// What a socket reads into at first (it grows for a larger frame): small, so an idle socket
/// costs little.
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// How long a closing socket waits for the client's close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Events waiting for a slow socket before its answer tasks wait too.
const OUTBOX: usize = 64;

/// When the server pings and gives up.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// A protocol ping this often.
    pub ping_every: Duration,
    /// Close a socket that sent nothing (no frame, no pong) for this long (close code 1001).
    pub idle_after: Duration,
    /// Close a socket that joined no session this long after it opened (close code 1008).
    pub join_within: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            ping_every: Duration::from_secs(25),
            idle_after: Duration::from_secs(60),
            join_within: Duration::from_secs(60),
        }
    }
}

/// `GET /api/livechat`: the upgrade. A browser page (an `Origin`) must be on some chatbot's
/// allowed origins (`403` otherwise); `client:join` then checks the chatbot it names.
pub async fn upgrade(
    State(state): State<SharedState>,
    parts: Parts,
    ws: WebSocketUpgrade,
    timings: Timings,
) -> Response {
    let page = Page::of(&parts, &state.config.public_base);
    if !page.allowed_by_any(state.core.chatbots()) {
        return (
            StatusCode::FORBIDDEN,
            "No chatbot here accepts live chats from this page's origin",
        )
            .into_response();
    }
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            let (outbox, outgoing) = mpsc::channel(OUTBOX);
            let open = crate::ops::OpenConnection::new("livechat");
            let run = Connection {
                state,
                page,
                timings,
                joined: None,
                outbox,
            }
            .run(socket, outgoing);
            async move {
                run.await;
                drop(open);
            }
        })
}

struct Connection {
    state: SharedState,
    page: Page,
    timings: Timings,
    joined: Option<Joined>,
    /// Events from this socket's answer tasks (refusals that come after the frame was read).
    outbox: mpsc::Sender<ServerEvent>,
}

/// The session a socket follows.
struct Joined {
    follower: Follower,
    events: broadcast::Receiver<ConversationEvent>,
}

/// What ends a socket, with its close code.
enum Ending {
    Gone,
    Close(u16, &'static str),
}

impl Connection {
    async fn run(mut self, mut socket: WebSocket, mut outgoing: mpsc::Receiver<ServerEvent>) {
        let opened = Instant::now();
        let mut heard = Instant::now();
        let mut ping = tokio::time::interval(self.timings.ping_every);
        ping.tick().await;
        let ending = loop {
            let sent = tokio::select! {
                frame = socket.recv() => match frame {
                    Some(Ok(frame)) => {
                        heard = Instant::now();
                        match self.on_frame(frame).await {
                            Ok(events) => send_all(&mut socket, events).await,
                            Err(ending) => break ending,
                        }
                    }
                    _ => break Ending::Gone,
                },
                Some(event) = outgoing.recv() => send_all(&mut socket, vec![event]).await,
                event = next_event(&mut self.joined) => {
                    let events = self.on_hub(event);
                    send_all(&mut socket, events).await
                }
                _ = ping.tick() => {
                    if heard.elapsed() >= self.timings.idle_after {
                        break Ending::Close(1001, "idle");
                    }
                    if self.joined.is_none() && opened.elapsed() >= self.timings.join_within {
                        break Ending::Close(1008, "join a session first");
                    }
                    socket.send(Frame::Ping(Default::default())).await.is_ok()
                }
            };
            if !sent {
                break Ending::Gone;
            }
        };
        if let Ending::Close(code, reason) = ending {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = socket.send(Frame::Close(Some(frame))).await;
            // The closing handshake: let the client answer (and read what was sent before).
            let _ = tokio::time::timeout(CLOSE_WAIT, async {
                while let Some(Ok(frame)) = socket.recv().await {
                    if matches!(frame, Frame::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    }

    /// A frame from the client: the events to send back, or the end of the socket.
    async fn on_frame(&mut self, frame: Frame) -> Result<Vec<ServerEvent>, Ending> {
        match frame {
            Frame::Text(text) => Ok(self.on_text(text.as_str()).await),
            Frame::Binary(_) => Ok(vec![refusal_event(
                None,
                None,
                Refusal::new(ErrorCode::Malformed, "Send JSON in text frames"),
            )]),
            Frame::Close(_) => Err(Ending::Gone),
            Frame::Ping(_) | Frame::Pong(_) => Ok(vec![]),
        }
    }

    async fn on_text(&mut self, text: &str) -> Vec<ServerEvent> {
        let (event, session_id) = match decode(text) {
            Ok(decoded) => decoded,
            Err((session_id, request, refusal)) => {
                return vec![refusal_event(session_id, request, refusal)];
            }
        };
        let request = Some(event.name().to_owned());
        let result = match event {
            ClientEvent::Join(join) => self.join(join),
            ClientEvent::Message(message) => self.message(message).await,
            ClientEvent::Typing(typing) => self.typing(typing),
            ClientEvent::Ping(ping) => Ok(vec![ServerEvent::Pong(Pong {
                session_id: ping.session_id,
            })]),
        };
        result.unwrap_or_else(|refusal| vec![refusal_event(session_id, request, refusal)])
    }

    /// `client:join`: follow the session (replacing the one followed before); its status now,
    /// and the live-chat messages after `after` when given.
    fn join(&mut self, join: Join) -> Result<Vec<ServerEvent>, Refusal> {
        if join.role != "user" {
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                "Join as \"user\"; agents answer through the agent API",
            ));
        }
        let core = &self.state.core;
        let bot = core.chatbot(&join.chatbot_id).ok_or_else(|| {
            let why = format!("No chatbot with id {:?}", join.chatbot_id);
            Refusal::new(ErrorCode::UnknownChatbot, why)
        })?;
        self.page.allowed_for(bot)?;
        let key = key_of(&bot.id, &join.session_id)
            .filter(|key| exists(core, key).unwrap_or(false))
            .ok_or_else(|| {
                Refusal::new(
                    ErrorCode::UnknownSession,
                    "No such session: start one with POST /api/chat",
                )
            })?;
        // Attach before reading, so nothing between the two is missed.
        let events = core.subscribe(&key);
        let (follower, status) = Follower::start(core, key)?;
        let mut out = vec![status];
        if let Some(after) = &join.after {
            let missed = core.livechat_messages_after(&follower.key, after)?;
            out.extend(missed.iter().map(|m| follower.message(m)));
        }
        self.joined = Some(Joined { follower, events });
        Ok(out)
    }

    /// The joined session, if the frame names it.
    fn joined_as(&self, chatbot_id: &str, session_id: &str) -> Result<&Joined, Refusal> {
        self.joined
            .as_ref()
            .filter(|j| j.follower.key.chatbot_id == chatbot_id)
            .filter(|j| j.follower.key.visitor_id == session_id)
            .ok_or_else(|| {
                Refusal::new(
                    ErrorCode::NotJoined,
                    "This socket has not joined that session: send client:join first",
                )
            })
    }

    /// `client:message`: to the person while the session is `waiting` or `open` (echoed to
    /// every socket of the session as `livechat:message`), else to the assistant, whose answer
    /// streams to every socket of the session.
    async fn message(&mut self, m: ClientMessage) -> Result<Vec<ServerEvent>, Refusal> {
        let key = self
            .joined_as(&m.chatbot_id, &m.session_id)?
            .follower
            .key
            .clone();
        if m.sender != "user" {
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                "Send as \"user\"; agents answer through the agent API",
            ));
        }
        let core = self.state.core.clone();
        let client_id = m.client_message_id.as_deref();
        if matches!(mode_status(&core, &key)?.1, Status::Waiting | Status::Open) {
            core.visitor_livechat_message(&key, text_parts(&m.content), client_id)?;
            return Ok(vec![]);
        }
        // Stored before this returns (or refused here); the answer is drained by its own task
        // so this socket keeps reading, and reaches the socket through the hub.
        let rx = core.post_message(&key, text_parts(&m.content), client_id)?;
        let outbox = self.outbox.clone();
        tokio::spawn(async move {
            let refusal = match answered(&core, &key, rx).await.map(|a| a.handover_refused) {
                Ok(None) => return,
                Ok(Some(why)) => Refusal::new(ErrorCode::Forbidden, why),
                Err(refusal) => refusal,
            };
            let _ = outbox
                .send(refusal_event(
                    Some(key.visitor_id),
                    Some("client:message".into()),
                    refusal,
                ))
                .await;
        });
        Ok(vec![])
    }

    /// `client:typing`: shared with the agent while one is in the chat; dropped otherwise
    /// (typing is a hint, not worth an error).
    fn typing(&mut self, t: ClientTyping) -> Result<Vec<ServerEvent>, Refusal> {
        let key = self
            .joined_as(&t.chatbot_id, &t.session_id)?
            .follower
            .key
            .clone();
        if mode_status(&self.state.core, &key)?.1 == Status::Open {
            self.state.core.visitor_typing(&key, t.is_typing)?;
        }
        Ok(vec![])
    }

    /// A hub event of the joined session.
    fn on_hub(&mut self, event: Result<ConversationEvent, RecvError>) -> Vec<ServerEvent> {
        let core = self.state.core.clone();
        let Some(joined) = self.joined.as_mut() else {
            return vec![];
        };
        match event {
            Ok(event) => joined.follower.on(&core, event).into_iter().collect(),
            Err(RecvError::Lagged(_)) => joined.follower.resync(&core).into_iter().collect(),
            Err(RecvError::Closed) => {
                joined.events = core.subscribe(&joined.follower.key);
                vec![]
            }
        }
    }
}

/// The next hub event of the joined session (never, while none is joined).
async fn next_event(joined: &mut Option<Joined>) -> Result<ConversationEvent, RecvError> {
    match joined {
        Some(j) => j.events.recv().await,
        None => std::future::pending().await,
    }
}

/// Send `events`; `false` once the socket is gone.
async fn send_all(socket: &mut WebSocket, events: Vec<ServerEvent>) -> bool {
    for event in events {
        let json = serde_json::to_string(&event).expect("server events serialize");
        if socket.send(Frame::Text(json.into())).await.is_err() {
            return false;
        }
    }
    true
}

/// A frame that could not be read: the session and `type` it named, if any, and why.
type Unreadable = (Option<String>, Option<String>, Refusal);

/// A frame as a client event (and the session it names), or why it could not be read.
fn decode(text: &str) -> Result<(ClientEvent, Option<String>), Unreadable> {
    let value: Value = serde_json::from_str(text).map_err(|_| {
        (
            None,
            None,
            Refusal::new(
                ErrorCode::Malformed,
                "Not JSON: send one JSON object a frame",
            ),
        )
    })?;
    let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let (session_id, kind) = (field("sessionId"), field("type"));
    if !value.is_object() {
        let refusal = Refusal::new(ErrorCode::Malformed, "Send one JSON object a frame");
        return Err((None, None, refusal));
    }
    match serde_json::from_value::<ClientEvent>(value) {
        Ok(event) => Ok((event, session_id)),
        Err(e) => {
            let known = matches!(
                kind.as_deref(),
                Some("client:join" | "client:message" | "client:typing" | "client:ping")
            );
            let refusal = match (known, &kind) {
                (true, _) => Refusal::new(ErrorCode::Malformed, format!("Invalid frame: {e}")),
                (false, Some(k)) => Refusal::new(
                    ErrorCode::UnknownType,
                    format!(
                        "Unknown type {k:?}: use client:join, client:message, client:typing or client:ping"
                    ),
                ),
                (false, None) => Refusal::new(ErrorCode::Malformed, "The frame has no \"type\""),
            };
            Err((session_id, kind, refusal))
        }
    }
}

fn refusal_event(
    session_id: Option<String>,
    request: Option<String>,
    refusal: Refusal,
) -> ServerEvent {
    ServerEvent::Error(ErrorEvent {
        session_id,
        code: refusal.code,
        message: refusal.message,
        request,
        retry_after: refusal.retry_after,
    })
}
