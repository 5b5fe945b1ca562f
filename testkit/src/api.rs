//! A typed client for the seeds' calls, over real HTTP: the three actors of seed 002's chat API
//! (the visitor with a token, the site owner's backend with the API key, an agent with a
//! session token). Each call returns the status and the JSON (`call`), or, where a test wants
//! the happy path, asserts success and returns what it needs.

use dgbot_protocol::sse::SseParser;
use dgbot_protocol::{Message, StreamEvent};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{DEMO, DEMO_KEY, HOST_ORIGIN};

/// A client of one server.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

/// Who a request is made as.
#[derive(Clone, Copy)]
pub enum As<'a> {
    Anonymous,
    /// `Authorization: Bearer …` (a visitor or a session token).
    Bearer(&'a str),
    /// `Authorization: Basic base64(key:)` (the seed's API-key scheme).
    Key(&'a str),
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// `/api/v1/chat` + `path`.
    pub fn chat_url(&self, path: &str) -> String {
        format!("{}/api/v1/chat{path}", self.base)
    }

    /// `method` `/api/v1/chat` + `path` as `who`, with a JSON body: the status and the JSON
    /// answer (`null` when there is none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        who: As<'_>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.chat_url(path));
        req = match who {
            As::Anonymous => req,
            As::Bearer(token) => req.bearer_auth(token),
            As::Key(key) => req.basic_auth(key, Some("")),
        };
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        (
            res.status().as_u16(),
            res.json().await.unwrap_or(Value::Null),
        )
    }

    /// A new visitor of the demo chatbot, the way the widget gets one
    /// (`POST /auth/public` from an allowed host page).
    pub async fn visitor(&self) -> Visitor {
        self.visitor_of(DEMO, HOST_ORIGIN).await
    }

    /// A new visitor of `chatbot_id` from a page on `origin`.
    pub async fn visitor_of(&self, chatbot_id: &str, origin: &str) -> Visitor {
        let body = json!({ "chatbot_id": chatbot_id, "host_origin": origin });
        let (status, answer) = self
            .call(Method::POST, "/auth/public", As::Anonymous, Some(body))
            .await;
        assert_eq!(status, 200, "a visitor token: {answer}");
        Visitor {
            api: self.clone(),
            token: answer["token"].as_str().unwrap().to_owned(),
        }
    }

    /// The visitor with this token.
    pub fn visitor_with(&self, token: &str) -> Visitor {
        Visitor {
            api: self.clone(),
            token: token.to_owned(),
        }
    }

    /// The demo chatbot's backend (its API key).
    pub fn backend(&self) -> Backend {
        self.backend_with(DEMO_KEY)
    }

    pub fn backend_with(&self, key: &str) -> Backend {
        Backend {
            api: self.clone(),
            key: key.to_owned(),
        }
    }
}

/// A visitor: seed 002's visitor token.
#[derive(Clone)]
pub struct Visitor {
    pub api: Api,
    pub token: String,
}

/// An answer as it streamed: every SSE event in order, and the `done` message when it came.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// `(event, data)` as sent.
    pub events: Vec<(String, String)>,
    /// The `done` event's message.
    pub message: Option<Message>,
}

impl Answer {
    /// The names of the events, in order.
    pub fn names(&self) -> Vec<&str> {
        self.events.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The answer's text (the `done` message's plain text).
    pub fn text(&self) -> String {
        self.message
            .as_ref()
            .map(Message::plain_text)
            .unwrap_or_default()
    }
}

impl Visitor {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api
            .call(method, path, As::Bearer(&self.token), body)
            .await
    }

    /// Ask `text` (`POST /messages`) and read the whole streamed answer.
    pub async fn ask(&self, text: &str) -> Answer {
        self.send(
            json!({ "message": { "parts": [{ "type": "text", "text": text }] } }),
            None,
        )
        .await
    }

    /// `POST /messages` with this body (and `Idempotency-Key` when given); read the stream.
    pub async fn send(&self, body: Value, idempotency_key: Option<&str>) -> Answer {
        let mut req = self
            .api
            .http
            .post(self.api.chat_url("/messages"))
            .bearer_auth(&self.token)
            .json(&body);
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let (mut parser, mut events, mut message) = (SseParser::new(), vec![], None);
        let mut body = res.bytes_stream();
        while let Some(Ok(chunk)) = body.next().await {
            for e in parser.feed_vec(&chunk) {
                if let Ok(Some(StreamEvent::Done(done))) = StreamEvent::decode(&e.event, &e.data) {
                    message = Some(done.message);
                }
                events.push((e.event, e.data));
            }
        }
        Answer {
            status,
            events,
            message,
        }
    }

    /// `GET /messages`: the visitor's history, as JSON.
    pub async fn history(&self) -> Value {
        let (status, history) = self.call(Method::GET, "/messages", None).await;
        assert_eq!(status, 200, "{history}");
        history
    }

    /// Ask for a person (`POST /livechat/handover`, from the widget's button): the session id.
    pub async fn handover(&self) -> String {
        let body = json!({ "platform": "website", "source": "manual_button" });
        let (status, answer) = self
            .call(Method::POST, "/livechat/handover", Some(body))
            .await;
        assert_eq!(status, 200, "a hand-over: {answer}");
        answer["livechat_session_id"]
            .as_str()
            .unwrap_or_else(|| panic!("a session id: {answer}"))
            .to_owned()
    }

    /// `GET /livechat/state`.
    pub async fn livechat_state(&self) -> Value {
        let (status, state) = self.call(Method::GET, "/livechat/state", None).await;
        assert_eq!(status, 200, "{state}");
        state
    }

    /// `GET /livechat/messages`, after message `after`, holding up to `wait` seconds.
    pub async fn livechat_messages(&self, after: Option<&str>, wait: u64) -> Value {
        let mut path = format!("/livechat/messages?wait={wait}");
        if let Some(after) = after {
            path.push_str(&format!("&after={after}"));
        }
        let (status, messages) = self.call(Method::GET, &path, None).await;
        assert_eq!(status, 200, "{messages}");
        messages
    }

    /// Write `text` to the agent (`POST /livechat/messages`).
    pub async fn say(&self, text: &str) -> (u16, Value) {
        let body = json!({ "message": { "parts": [{ "type": "text", "text": text }] } });
        self.call(Method::POST, "/livechat/messages", Some(body))
            .await
    }
}

/// The site owner's backend: seed 002's setup actor, with the chatbot's API key.
#[derive(Clone)]
pub struct Backend {
    pub api: Api,
    pub key: String,
}

impl Backend {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api.call(method, path, As::Key(&self.key), body).await
    }

    /// A session token for an agent system (`POST /livechat/sessions/{id}/token`).
    pub async fn agent_for(&self, session_id: &str) -> Agent {
        let path = format!("/livechat/sessions/{session_id}/token");
        let (status, answer) = self.call(Method::POST, &path, Some(json!({}))).await;
        assert_eq!(status, 200, "a session token: {answer}");
        Agent {
            api: self.api.clone(),
            token: answer["token"]
                .as_str()
                .unwrap_or_else(|| panic!("a token: {answer}"))
                .to_owned(),
        }
    }

    /// The queue: `GET /livechat/sessions?status=…`.
    pub async fn sessions(&self, status: &str) -> Value {
        let (code, sessions) = self
            .call(
                Method::GET,
                &format!("/livechat/sessions?status={status}"),
                None,
            )
            .await;
        assert_eq!(code, 200, "{sessions}");
        sessions
    }
}

/// An agent system in one livechat session: seed 002's session token.
#[derive(Clone)]
pub struct Agent {
    pub api: Api,
    pub token: String,
}

impl Agent {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api
            .call(method, path, As::Bearer(&self.token), body)
            .await
    }

    /// `GET /livechat/agent/context`.
    pub async fn context(&self) -> Value {
        let (status, context) = self
            .call(Method::GET, "/livechat/agent/context", None)
            .await;
        assert_eq!(status, 200, "{context}");
        context
    }

    /// Write `text` as agent `agent_id` (`POST /livechat/agent/messages`; the first message
    /// assigns the agent).
    pub async fn say(&self, agent_id: &str, text: &str) -> (u16, Value) {
        let body = json!({
            "agent_id": agent_id,
            "message": { "parts": [{ "type": "text", "text": text }] },
        });
        self.call(Method::POST, "/livechat/agent/messages", Some(body))
            .await
    }

    /// `POST /livechat/agent/typing`.
    pub async fn typing(&self, agent_id: &str, is_typing: bool) -> (u16, Value) {
        let body = json!({ "agent_id": agent_id, "is_typing": is_typing });
        self.call(Method::POST, "/livechat/agent/typing", Some(body))
            .await
    }

    /// `POST /livechat/agent/close`.
    pub async fn close(&self, agent_id: &str, reason: Option<&str>) -> (u16, Value) {
        let body = json!({ "agent_id": agent_id, "reason": reason });
        self.call(Method::POST, "/livechat/agent/close", Some(body))
            .await
    }
}
