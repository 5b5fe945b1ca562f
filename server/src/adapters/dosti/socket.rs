//! Seed 004's Socket.IO server (socketioxide: engine.io v4, what `socket.io-client` 4.x and the
//! seed's Java and Swift clients speak) on the default `/socket.io/` path, namespace `/`.
//!
//! A connection names its visitor in the query (`apiKey`, `role=visitor`, `visitorId`,
//! `visitorName`); anything else is refused before it connects, with a `connect_error` whose
//! message says why. Each connection then listens to its conversation's hub on its own, so a
//! visitor attached twice (two tabs, a phone and a laptop) gets every event on both, whichever
//! protocol caused it.

use std::sync::Arc;

use dgbot_protocol::dosti::{
    AgentJoined, AgentLeft, CHANNEL_SAAS, ConnectQuery, DEVICE_AGENT, Failure, PartnerTyping,
    ReceiveMessage, SendMessage, SendResponse, ServerEvent, TypingSignal,
};
use dgbot_protocol::livechat::LivechatStatus;
use dgbot_protocol::message::Author;
use dgbot_protocol::{Message, StreamEvent};
use serde::de::DeserializeOwned;
use serde_json::Value;
use socketioxide::extract::{AckSender, Event, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::{ParserError, SocketIo};
use tokio::sync::broadcast;

use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::visitor::{self, DostiVisitor, Via};
use crate::SharedState;
use crate::http::origin::origin_allowed;
use crate::http::origin::same_origin;
use dgbot_core::CoreError;
use dgbot_core::hub::ConversationEvent;

/// Socket.IO's default path, as the seed's clients use it.
const PATH: &str = "/socket.io/";
/// The largest HTTP long-polling payload accepted: a message is at most 4,000 characters.
const MAX_PAYLOAD: u64 = 64 * 1024;

/// The Socket.IO layer; it answers `/socket.io/` and passes everything else on.
pub fn layer(state: &SharedState) -> SocketIoLayer {
    let (layer, io) = SocketIo::builder().max_payload(MAX_PAYLOAD).build_layer();
    let (on_connect_state, authenticate_state) = (state.clone(), state.clone());
    io.ns(
        "/",
        (move |s: SocketRef| on_connect(s, on_connect_state))
            .with(move |s: SocketRef| authenticate(s, authenticate_state)),
    );
    layer
}

/// CORS for `/socket.io/` (everything else passes untouched): the long-polling transport is
/// plain HTTP, so a browser on a site a chatbot allows needs it to connect at all (the
/// WebSocket transport does not). Which chatbot's site it must be is checked at connect,
/// once the `apiKey` names the chatbot. No cookies are involved (`withCredentials` stays off).
pub async fn polling_cors(
    State(state): State<SharedState>,
    req: axum::extract::Request,
    next: Next,
) -> Response {
    if !req.uri().path().starts_with(PATH) {
        return next.run(req).await;
    }
    let allowed = req
        .headers()
        .get(header::ORIGIN)
        .filter(|o| {
            o.to_str().is_ok_and(|o| {
                state
                    .core
                    .chatbots()
                    .iter()
                    .any(|bot| origin_allowed(&bot.allowed_origins, o))
            })
        })
        .cloned();
    let mut res = if req.method() == Method::OPTIONS {
        let mut res = StatusCode::NO_CONTENT.into_response();
        if allowed.is_some() {
            let h = res.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        res
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("origin"));
    if let Some(origin) = allowed {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    res
}

/// Connect middleware: the query names a visitor of a chatbot, or the client gets
/// `connect_error` with the reason (and connects to nothing).
async fn authenticate(s: SocketRef, state: SharedState) -> Result<(), String> {
    let parts = s.req_parts();
    let query = axum::extract::Query::<ConnectQuery>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .map_err(|e| format!("Bad connection query: {}", e.body_text()))?;
    let role = query.role.as_deref().unwrap_or("visitor");
    if role != "visitor" {
        return Err(format!(
            "role {role:?} is not accepted here: connect with role=visitor (agents use the agent console)"
        ));
    }
    let origin = parts
        .headers
        .get(axum::http::header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("null"))
        .filter(|o| !same_origin(parts, o, &state.config.public_base));
    let visitor = visitor::authenticate(
        &state.core,
        query.api_key.as_deref(),
        query.visitor_id.as_deref(),
        query.visitor_name.as_deref(),
        origin,
    )
    .map_err(|e| visitor::failure(&e).1.error)?;
    s.extensions.insert(Arc::new(visitor));
    Ok(())
}

/// A visitor connected: attach to the conversation first (nothing published from now on is
/// missed), then take their events.
async fn on_connect(s: SocketRef, state: SharedState) {
    let Some(visitor) = s.extensions.get::<Arc<DostiVisitor>>() else {
        let _ = s.disconnect();
        return;
    };
    // Counted until the socket (and its extensions) is dropped.
    s.extensions
        .insert(Arc::new(crate::ops::OpenConnection::new("socketio")));
    let events = state.core.subscribe(&visitor.key);
    visitor::remember_name(&state.core, &visitor);
    let relay =
        tokio::spawn(relay(s.clone(), state.clone(), visitor.clone(), events)).abort_handle();
    s.on_disconnect({
        let relay = relay.clone();
        move || async move { relay.abort() }
    });
    if !s.connected() {
        relay.abort(); // gone before the disconnect handler was in place
    }

    let st = state.clone();
    s.on(
        "send_message",
        move |s: SocketRef, TryData(data): TryData<Value>, ack: AckSender| {
            send_message(s, st, data, ack)
        },
    );
    let st = state.clone();
    s.on(
        "typing",
        move |s: SocketRef, TryData(data): TryData<Value>| typing(s, st, data, true),
    );
    let st = state.clone();
    s.on(
        "stop_typing",
        move |s: SocketRef, TryData(data): TryData<Value>| typing(s, st, data, false),
    );
    s.on_fallback(|s: SocketRef, Event(name): Event| async move {
        refuse(
            &s,
            Failure::new(
                "validation",
                format!("Unknown event {name:?}: send send_message, typing or stop_typing"),
            ),
        );
    });
    agent_already_there(&s, &state, &visitor);
}

/// Reconnecting while an agent has the chat: say so, as if they had just joined.
fn agent_already_there(s: &SocketRef, state: &SharedState, visitor: &DostiVisitor) {
    if let Ok(now) = state.core.livechat_state(&visitor.key)
        && now.status == LivechatStatus::Active
        && let Some(agent) = now.agent
    {
        emit(s, &ServerEvent::AgentJoined(joined(&agent)));
    }
}

/// `send_message {type: "saas", message}`: refused input gets a `chat_error` (and the ack, when
/// the client asked for one, says the same); accepted input is acked with the stored message.
async fn send_message(
    s: SocketRef,
    state: SharedState,
    data: Result<Value, ParserError>,
    ack: AckSender,
) {
    let Some(visitor) = s.extensions.get::<Arc<DostiVisitor>>() else {
        return;
    };
    let sent = payload::<SendMessage>(
        data,
        "send_message",
        r#"{"type": "saas", "message": "text"}"#,
    )
    .and_then(|m| channel(m.channel.as_deref()).map(|()| m.message))
    .and_then(|text| {
        visitor::send(&state.core, &visitor, &text, Via::SocketIo)
            .map_err(|e| visitor::failure(&e).1)
    });
    match sent {
        Ok(message) => {
            let _ = ack.send(&SendResponse {
                success: true,
                message,
            });
        }
        Err(failure) => {
            let _ = ack.send(&failure);
            refuse(&s, failure);
        }
    }
}

/// `typing` / `stop_typing {type: "saas"}`: the agent sees the visitor typing (seed 002's
/// livechat typing). Shared only while an agent has the chat; before that it is dropped
/// quietly (a keystroke is not an error).
async fn typing(s: SocketRef, state: SharedState, data: Result<Value, ParserError>, on: bool) {
    let Some(visitor) = s.extensions.get::<Arc<DostiVisitor>>() else {
        return;
    };
    let event = if on { "typing" } else { "stop_typing" };
    let checked = match data {
        // No argument at all is as good as `{type: "saas"}`.
        Err(_) => Ok(()),
        Ok(v) => payload::<TypingSignal>(Ok(v), event, r#"{"type": "saas"}"#)
            .and_then(|t| channel(t.channel.as_deref())),
    };
    if let Err(failure) = checked {
        return refuse(&s, failure);
    }
    match state.core.visitor_typing(&visitor.key, on) {
        Ok(_) | Err(CoreError::Conflict(_)) => {}
        Err(e) => refuse(&s, visitor::failure(&e).1),
    }
}

/// An event's one argument as `T`, or a failure that shows the shape expected.
fn payload<T: DeserializeOwned>(
    data: Result<Value, ParserError>,
    event: &str,
    shape: &str,
) -> Result<T, Failure> {
    let wrong = |why: String| {
        Failure::new(
            "validation",
            format!("{event} takes one argument, {shape}: {why}"),
        )
    };
    let value = data.map_err(|e| wrong(e.to_string()))?;
    serde_json::from_value(value).map_err(|e| wrong(e.to_string()))
}

/// The seed's only channel is `saas`; leaving `type` out means it too.
fn channel(channel: Option<&str>) -> Result<(), Failure> {
    match channel {
        None | Some(CHANNEL_SAAS) => Ok(()),
        Some(other) => Err(Failure::new(
            "validation",
            format!("type must be \"saas\", not {other:?}"),
        )),
    }
}

fn refuse(s: &SocketRef, failure: Failure) {
    emit(s, &ServerEvent::Error(failure));
}

fn emit(s: &SocketRef, event: &ServerEvent) -> bool {
    s.emit(event.name(), &event.payload()).is_ok()
}

/// Forward the conversation's events to this connection until it closes.
async fn relay(
    s: SocketRef,
    state: SharedState,
    visitor: Arc<DostiVisitor>,
    mut events: broadcast::Receiver<ConversationEvent>,
) {
    let bot_name = state
        .core
        .chatbot(&visitor.key.chatbot_id)
        .map(|b| b.config.name.clone())
        .unwrap_or_default();
    let mut relay = Relay {
        visitor_id: visitor.key.visitor_id.clone(),
        bot_name,
        answering: false,
    };
    loop {
        match events.recv().await {
            Ok(event) => {
                for out in relay.outgoing(event) {
                    if !emit(&s, &out) {
                        return;
                    }
                }
            }
            // Fell behind (over 256 events): what was missed is in the store, for a poll.
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// What a conversation event becomes for a Dosti client. Dosti has no streaming: while the
/// assistant composes, the client sees the support side typing; the whole answer then comes
/// as one `receive_message`.
struct Relay {
    visitor_id: String,
    bot_name: String,
    /// The assistant is composing (`partner_typing` sent, `partner_stopped_typing` not yet).
    answering: bool,
}

impl Relay {
    fn outgoing(&mut self, event: ConversationEvent) -> Vec<ServerEvent> {
        match event {
            ConversationEvent::Answer(StreamEvent::Done(done)) => {
                let mut out = self.stop_answering();
                out.extend(self.message(&self.bot_name.clone(), &done.message));
                out
            }
            ConversationEvent::Answer(StreamEvent::Error(e)) => {
                let mut out = self.stop_answering();
                out.push(ServerEvent::Error(Failure::new("answer_failed", e.message)));
                out
            }
            ConversationEvent::Answer(_) if !self.answering => {
                self.answering = true;
                vec![ServerEvent::PartnerTyping(PartnerTyping::agent())]
            }
            ConversationEvent::AgentMessage(m) => self
                .message(&visitor::agent_name(&m), &m)
                .into_iter()
                .collect(),
            ConversationEvent::AgentTyping { is_typing: true } => {
                vec![ServerEvent::PartnerTyping(PartnerTyping::agent())]
            }
            ConversationEvent::AgentTyping { is_typing: false } => {
                vec![ServerEvent::PartnerStoppedTyping(PartnerTyping::agent())]
            }
            ConversationEvent::AgentJoined(agent) => vec![ServerEvent::AgentJoined(joined(&agent))],
            ConversationEvent::AgentLeft { reason, .. } => {
                vec![ServerEvent::AgentLeft(AgentLeft {
                    device_id: DEVICE_AGENT.into(),
                    reason,
                })]
            }
            // The visitor's own doings (another tab's message or typing) and what Dosti has no
            // event for (tools, hand-over offers, session bookkeeping) are not sent.
            _ => vec![],
        }
    }

    fn stop_answering(&mut self) -> Vec<ServerEvent> {
        if std::mem::take(&mut self.answering) {
            vec![ServerEvent::PartnerStoppedTyping(PartnerTyping::agent())]
        } else {
            vec![]
        }
    }

    /// `receive_message` with the message as text; nothing for a message without text.
    fn message(&self, sender: &str, m: &Message) -> Option<ServerEvent> {
        let text = m.plain_text();
        (!text.trim().is_empty()).then(|| {
            ServerEvent::ReceiveMessage(ReceiveMessage {
                visitor_id: self.visitor_id.clone(),
                visitor_name: sender.to_owned(),
                message: text,
            })
        })
    }
}

fn joined(agent: &Author) -> AgentJoined {
    AgentJoined {
        device_id: DEVICE_AGENT.into(),
        agent_id: agent.agent_id.clone(),
        agent_name: agent.display_name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::stream::DoneEvent;
    use dgbot_protocol::{Part, Role, message::TextPart};

    fn relay() -> Relay {
        Relay {
            visitor_id: "android_user_789".into(),
            bot_name: "Nordlys Assistant".into(),
            answering: false,
        }
    }

    fn text(role: Role, text: &str, author: Option<Author>) -> Message {
        Message {
            message_id: "msg_1".into(),
            role,
            parts: vec![Part::Text(TextPart { text: text.into() })],
            created_at: None,
            author,
            feedback: None,
        }
    }

    fn names(events: &[ServerEvent]) -> Vec<&'static str> {
        events.iter().map(ServerEvent::name).collect()
    }

    #[test]
    fn an_answer_is_typing_then_one_message() {
        let mut r = relay();
        let status = ConversationEvent::Answer(StreamEvent::status("thinking"));
        assert_eq!(names(&r.outgoing(status.clone())), ["partner_typing"]);
        assert!(r.outgoing(status).is_empty(), "typing is said once");
        let done = ConversationEvent::Answer(StreamEvent::Done(DoneEvent {
            message: text(Role::Assistant, "We ship in 2-4 days.", None),
        }));
        let out = r.outgoing(done);
        assert_eq!(names(&out), ["partner_stopped_typing", "receive_message"]);
        assert_eq!(
            out[1].payload(),
            serde_json::json!({
                "visitorId": "android_user_789", "visitorName": "Nordlys Assistant",
                "message": "We ship in 2-4 days."
            })
        );
    }

    #[test]
    fn an_agents_reply_carries_their_name() {
        let alice = Author {
            agent_id: "agent-alice".into(),
            display_name: "Alice".into(),
            avatar_url: None,
        };
        let mut r = relay();
        let out = r.outgoing(ConversationEvent::AgentJoined(alice.clone()));
        assert_eq!(
            out[0].payload(),
            serde_json::json!({ "deviceId": "agent", "agentId": "agent-alice", "agentName": "Alice" })
        );
        let out = r.outgoing(ConversationEvent::AgentMessage(text(
            Role::Agent,
            "Hi John!",
            Some(alice),
        )));
        assert_eq!(out[0].payload()["visitorName"], "Alice");
        let typing = r.outgoing(ConversationEvent::AgentTyping { is_typing: true });
        assert_eq!(
            typing[0].payload(),
            serde_json::json!({ "deviceId": "agent" })
        );
        assert!(
            r.outgoing(ConversationEvent::VisitorTyping { is_typing: true })
                .is_empty()
        );
    }
}
