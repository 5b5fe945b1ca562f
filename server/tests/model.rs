//! The language-model responder against a fake OpenAI-compatible server on loopback, started
//! here: its streamed chunks are scripted per question (Markdown in odd chunk boundaries, tool
//! calls in fragments, a malformed chunk, a drop mid-answer, a 429, a 400, a stall), and a
//! custom API action's endpoint is served here too. Driven through seed 002's SSE
//! (`POST /api/v1/chat/messages`) and seed 001's `/ws`.

mod common;

use dgbot_testkit::TestServer;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use dgbot_protocol::sse::SseParser;
use dgbot_protocol::stream::StreamEvent;
use dgbot_protocol::transcript::{Change, Transcript};
use dgbot_server::core::responder::model::markdown::markdown_parts;
use dgbot_server::model::Action;
use dgbot_server::model::ModelConfig;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;

/// The answer the fake model writes for "markdown…" questions.
const ANSWER: &str = "Our **Aurora** lamp is ~~sold out~~ back in stock: see [its page](https://shop.example/aurora), not [this](javascript:alert(1)).\n\nWhy people like it:\n\n- a *warm* light\n- **dimmable**\n\n| Lamp | Price |\n|---|---|\n| Aurora | 1 299 kr |\n| Fjord | 749 kr |\n\nAnything else?";

/// What the fake model and the action endpoint were asked, and when (for the benchmark).
#[derive(Default)]
struct Seen {
    requests: Vec<Value>,
    action_bodies: Vec<Value>,
    /// Per question: how many times it was asked.
    asked: HashMap<String, usize>,
    /// The benchmark: when the last request arrived and its first chunk went out.
    arrived: Option<Instant>,
    first_sent: Option<Instant>,
}

type Shared = Arc<Mutex<Seen>>;

/// One SSE chunk of a completion stream.
fn chunk(delta: Value, finish: Option<&str>) -> String {
    let c = json!({ "id": "c1", "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] });
    format!("data: {c}\n\n")
}

/// `text` as content chunks of `size` characters, then a stop and `[DONE]`.
fn text_stream(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
    out.extend(
        chars
            .chunks(size)
            .map(|c| chunk(json!({ "content": c.iter().collect::<String>() }), None)),
    );
    out.push(chunk(json!({}), Some("stop")));
    out.push("data: [DONE]\n\n".into());
    out
}

/// A tool call in fragments: id and name first, the arguments' JSON in three pieces.
fn tool_call_stream(name: &str, args: &Value) -> Vec<String> {
    let args = args.to_string();
    let third = args.len() / 3;
    let mut out = vec![chunk(
        json!({ "role": "assistant", "content": null, "tool_calls": [{ "index": 0, "id": "call_1", "type": "function", "function": { "name": name, "arguments": "" } }] }),
        None,
    )];
    for piece in [&args[..third], &args[third..2 * third], &args[2 * third..]] {
        out.push(chunk(
            json!({ "tool_calls": [{ "index": 0, "function": { "arguments": piece } }] }),
            None,
        ));
    }
    out.push(chunk(json!({}), Some("tool_calls")));
    out.push("data: [DONE]\n\n".into());
    out
}

/// The SSE bytes re-cut at odd places (7, 3, 11, 5… bytes), each piece its own body frame.
fn odd_frames(events: Vec<String>) -> Vec<Vec<u8>> {
    let bytes = events.concat().into_bytes();
    let sizes = [7, 3, 11, 5, 13, 2];
    let mut out = Vec::new();
    let mut at = 0;
    for i in 0.. {
        if at >= bytes.len() {
            break;
        }
        let end = (at + sizes[i % sizes.len()]).min(bytes.len());
        out.push(bytes[at..end].to_vec());
        at = end;
    }
    out
}

/// How a scripted reply ends.
enum End {
    Clean,
    Drop,
    Stall,
}

fn streamed(frames: Vec<Vec<u8>>, end: End) -> Response {
    let body = async_stream(frames, end);
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}

fn async_stream(
    frames: Vec<Vec<u8>>,
    end: End,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let tail: Vec<Result<Vec<u8>, std::io::Error>> = match end {
        End::Clean | End::Stall => vec![],
        End::Drop => vec![Err(std::io::Error::other("the model's server died"))],
    };
    let stall = matches!(end, End::Stall);
    futures_util::stream::iter(frames.into_iter().map(Ok).chain(tail))
        .then(|frame| async move {
            tokio::task::yield_now().await;
            frame
        })
        .chain(futures_util::stream::once(async move {
            if stall {
                std::future::pending::<()>().await;
            }
            Ok(vec![])
        }))
}

/// The fake `POST /v1/chat/completions`: the script is chosen by the question's first word.
async fn completions(State(seen): State<Shared>, Json(req): Json<Value>) -> Response {
    let arrived = Instant::now();
    let question = req["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let after_tool = req["messages"].as_array().unwrap().last().unwrap()["role"] == "tool";
    let times = {
        let mut s = seen.lock().unwrap();
        s.requests.push(req.clone());
        let n = {
            let n = s.asked.entry(question.clone()).or_default();
            *n += 1;
            *n
        };
        s.arrived = Some(arrived);
        n
    };
    let word = question.split_whitespace().next().unwrap_or_default();
    let status = |code: u16| {
        Response::builder()
            .status(code)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"error":{"message":"scripted"}}"#))
            .unwrap()
    };
    match word {
        "markdown3" => streamed(odd_frames(text_stream(ANSWER, 3)), End::Clean),
        "markdown17" => streamed(odd_frames(text_stream(ANSWER, 17)), End::Clean),
        "lamps" if !after_tool => streamed(
            odd_frames(tool_call_stream(
                "show_products",
                &json!({ "product_ids": ["fjord", "unicorn-9000", "aurora", "fjord"] }),
            )),
            End::Clean,
        ),
        "lamps" => streamed(
            odd_frames(text_stream(
                "Both are **lovely**; the Fjord is the cheaper one.",
                4,
            )),
            End::Clean,
        ),
        "order" if !after_tool => streamed(
            odd_frames(tool_call_stream(
                "order_status",
                &json!({ "order_number": "1042", "email": "ada@example.com", "secret": "do not send" }),
            )),
            End::Clean,
        ),
        "order" => {
            let result = req["messages"].as_array().unwrap().last().unwrap()["content"]
                .as_str()
                .unwrap()
                .to_owned();
            let status: Value = serde_json::from_str(&result).unwrap();
            let text = format!("Your order has **{}**.", status["status"].as_str().unwrap());
            streamed(odd_frames(text_stream(&text, 5)), End::Clean)
        }
        // Fails the first time (a malformed chunk after good ones), then answers.
        "flaky" if times == 1 => {
            let mut events = text_stream("Half an answer, then", 4);
            events.truncate(events.len() - 2);
            events.push("data: {\"choices\": [{\"delta\": {\"content\": \"oops\"\n\n".into());
            streamed(odd_frames(events), End::Clean)
        }
        "flaky" => streamed(odd_frames(text_stream("A whole answer.", 4)), End::Clean),
        "drop" => {
            let mut events = text_stream("The first words and", 4);
            events.truncate(events.len() - 2);
            streamed(odd_frames(events), End::Drop)
        }
        "stall" => {
            let mut events = text_stream("Thinking", 4);
            events.truncate(events.len() - 2);
            streamed(odd_frames(events), End::Stall)
        }
        // Cites the first passage it was given, by number (issue 26).
        "shipping" => streamed(
            odd_frames(text_stream(
                "We don't ship to the **USA** yet [1]; within the EU it takes 2–4 days.",
                5,
            )),
            End::Clean,
        ),
        "busy" => status(429),
        "broken" => status(500),
        "refused" => status(400),
        "html" => Response::builder()
            .header("content-type", "text/html")
            .body(Body::from("<html>not an API</html>"))
            .unwrap(),
        "bench" => {
            // A model whose headers come at once and whose first token takes 20 ms.
            let mut frames: Vec<Vec<u8>> =
                text_stream("The **answer** to your question, in a few words.", 6)
                    .into_iter()
                    .map(String::into_bytes)
                    .collect();
            let first = frames.remove(0);
            let first = futures_util::stream::once(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                seen.lock().unwrap().first_sent = Some(Instant::now());
                Ok::<_, std::io::Error>(first)
            });
            let rest = futures_util::stream::iter(frames.into_iter().map(Ok));
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(first.chain(rest)))
                .unwrap()
        }
        _ => streamed(
            odd_frames(text_stream("I can help with that.", 4)),
            End::Clean,
        ),
    }
}

/// The custom action's endpoint: records the body, answers with an order status.
async fn order_endpoint(State(seen): State<Shared>, Json(body): Json<Value>) -> Json<Value> {
    seen.lock().unwrap().action_bodies.push(body);
    Json(json!({ "status": "shipped", "eta": "Friday" }))
}

/// The fake model and action endpoint, and our server with the demo chatbot on that model;
/// what the fake was asked.
fn on_fake_model() -> (TestServer, Shared) {
    let seen: Shared = Default::default();
    // Like a real model server, the side server sends its small writes at once (no Nagle delay).
    let fake_base = dgbot_testkit::side::serve(
        Router::new()
            .route("/v1/chat/completions", post(completions))
            .route("/orders", post(order_endpoint))
            .with_state(seen.clone()),
    );

    let mut bot = dgbot_server::config::demo_chatbot();
    bot.rate_limit = dgbot_server::config::RateLimit {
        messages: 1000,
        per_seconds: 60,
    };
    bot.model = Some(ModelConfig {
        base_url: format!("{fake_base}/v1"),
        model: "fake-1".into(),
        temperature: Some(0.2),
        max_tokens: Some(400),
        timeout_seconds: 2,
        ..Default::default()
    });
    bot.actions = vec![Action {
        name: "order_status".into(),
        description: "Look up an order's status by its number and the buyer's email".into(),
        label: "your order".into(),
        url: format!("{fake_base}/orders"),
        method: reqwest::Method::POST,
        headers: vec![],
        send: vec!["order_number".into(), "email".into(), "question".into()],
        keywords: vec![],
        answer: "It is {{status}}.".into(),
        failure_answer: "Sorry.".into(),
        timeout: Duration::from_secs(2),
        signing_secret: None,
    }];
    (TestServer::builder().chatbots(vec![bot]).start(), seen)
}

/// One question over seed 002's SSE: the events, decoded.
struct Asked {
    events: Vec<StreamEvent>,
}

/// The visitor's side of seed 002 against the server on the fake model.
trait Ask {
    /// A new visitor's widget token.
    async fn token(&self) -> String;
    /// Ask over SSE (with an `Idempotency-Key` when given); the events, decoded.
    async fn ask(&self, token: &str, question: &str, key: Option<&str>) -> Asked;
    /// The visitor's stored messages.
    async fn history(&self, token: &str) -> Vec<Value>;
}

impl Ask for TestServer {
    async fn token(&self) -> String {
        dgbot_testkit::Api::new(&self.base).visitor().await.token
    }

    async fn ask(&self, token: &str, question: &str, key: Option<&str>) -> Asked {
        let mut req = self
            .api
            .http
            .post(format!("{}/api/v1/chat/messages", self.base))
            .bearer_auth(token)
            .json(&json!({ "message": { "parts": [{ "type": "text", "text": question }] } }));
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        let mut parser = SseParser::new();
        let mut sse = Vec::new();
        let mut body = res.bytes_stream();
        while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("the stream goes on")
        {
            parser.feed(&chunk.unwrap(), &mut sse);
        }
        let events = sse
            .iter()
            .map(|e| StreamEvent::decode(&e.event, &e.data).unwrap().unwrap())
            .collect();
        Asked { events }
    }

    async fn history(&self, token: &str) -> Vec<Value> {
        let page: Value = self
            .api
            .http
            .get(format!("{}/api/v1/chat/messages", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["messages"].as_array().unwrap().clone()
    }
}

impl Asked {
    /// The parts of `done`, after checking that the streamed deltas built exactly them.
    fn done_parts(&self) -> (String, Vec<dgbot_protocol::Part>) {
        let mut t = Transcript::new();
        let mut last = None;
        for e in &self.events {
            last = Some(t.apply(e).unwrap_or_else(|err| panic!("{err:?}: {e:?}")));
        }
        assert!(
            matches!(last, Some(Change::Done { same: true, .. })),
            "the deltas built done.message: {last:?}"
        );
        let m = &t.messages()[0];
        (m.message_id.clone(), m.parts.clone())
    }

    fn error(&self) -> &dgbot_protocol::stream::StreamErrorEvent {
        match self.events.last() {
            Some(StreamEvent::Error(e)) => e,
            other => panic!("ends with an error, not {other:?}"),
        }
    }

    /// The text the deltas carried before the end.
    fn said(&self) -> String {
        let mut t = Transcript::new();
        t.begin_draft();
        for e in &self.events {
            if matches!(e, StreamEvent::PartDelta(_) | StreamEvent::Part(_)) {
                t.apply(e).unwrap();
            }
        }
        dgbot_protocol::message::parts_text(&t.draft().unwrap().parts)
    }
}

#[tokio::test]
async fn markdown_streams_as_the_same_parts_however_it_is_chunked() {
    let (s, fake) = on_fake_model();
    let token = s.token().await;
    let a = s.ask(&token, "markdown3 please", None).await;
    let b = s.ask(&token, "markdown17 please", None).await;
    let (id_a, parts_a) = a.done_parts();
    let (id_b, parts_b) = b.done_parts();
    assert_eq!(parts_a, markdown_parts(ANSWER, &id_a, 1));
    assert_eq!(parts_b, markdown_parts(ANSWER, &id_b, 1));
    let kinds: Vec<_> = parts_a.iter().map(|p| p.type_name()).collect();
    assert_eq!(kinds, ["rich_text", "table", "rich_text"]);

    let json = serde_json::to_string(&parts_a).unwrap();
    assert!(
        json.contains(r#"{"type":"bold","text":"Aurora"}"#),
        "{json}"
    );
    assert!(
        json.contains(r#"{"type":"strike","text":"sold out"}"#),
        "{json}"
    );
    assert!(
        json.contains(r#""url":"https://shop.example/aurora""#),
        "{json}"
    );
    assert!(
        !json.contains("javascript"),
        "the unsafe link is plain text: {json}"
    );

    // O(delta): text arrives as appends; nothing is sent twice.
    let deltas = a
        .events
        .iter()
        .filter(|e| matches!(e, StreamEvent::PartDelta(_)))
        .count();
    let replaced = a
        .events
        .iter()
        .filter(|e| matches!(e, StreamEvent::Part(_)))
        .count();
    assert!(deltas > 30, "{deltas} deltas");
    assert_eq!(
        replaced,
        0,
        "{:?}",
        a.events
            .iter()
            .filter(|e| matches!(e, StreamEvent::Part(_)))
            .collect::<Vec<_>>()
    );

    // The model saw the knowledge base and the catalogue, and the request's settings.
    let seen = fake.lock().unwrap();
    let req = &seen.requests[0];
    assert_eq!(
        (
            req["model"].as_str(),
            req["stream"].as_bool(),
            req["max_tokens"].as_u64()
        ),
        (Some("fake-1"), Some(true), Some(400))
    );
    let system = req["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("show_products") && system.contains("aurora |"),
        "{system}"
    );
    let tools: Vec<&str> = req["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["show_products", "order_status"]);
    assert_eq!(
        req["tools"][1]["function"]["parameters"]["required"],
        json!(["order_number", "email"]),
        "the bot itself sends the question"
    );
}

#[tokio::test]
async fn the_model_answers_from_numbered_passages_and_cites_the_ones_it_used() {
    let (s, fake) = on_fake_model();
    let token = s.token().await;
    let asked = s.ask(&token, "shipping to the USA: do you?", None).await;
    let (_, parts) = asked.done_parts();
    let kinds: Vec<_> = parts.iter().map(|p| p.type_name()).collect();
    assert_eq!(kinds, ["rich_text", "sources", "suggestions"], "{parts:?}");
    let dgbot_protocol::Part::Sources(cited) = &parts[1] else {
        unreachable!()
    };
    // Follow-ups (issue 27): the headings of the other sections the question finds, not the
    // one cited.
    let dgbot_protocol::Part::Suggestions(next) = &parts[2] else {
        unreachable!()
    };
    assert!(
        next.suggestions
            .contains(&"Shipping and delivery".to_owned())
            && !next
                .suggestions
                .contains(&"Shipping outside the EU".to_owned()),
        "{next:?}"
    );
    // [1] is the best passage, the one the prompt numbered first; only the cited one is listed.
    assert_eq!(cited.sources.len(), 1, "{cited:?}");
    assert_eq!(
        cited.sources[0].url,
        s.url("/demo/help/shipping#shipping-outside-the-eu")
    );
    let seen = fake.lock().unwrap();
    let system = seen.requests[0]["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("## [1] Shipping and delivery › Shipping outside the EU"),
        "{system}"
    );
    assert!(system.contains("We do not ship to the USA"), "{system}");
    assert!(system.contains("cite it with its number"), "{system}");
}

#[tokio::test]
async fn products_come_from_the_catalogue_only() {
    let (s, fake) = on_fake_model();
    let token = s.token().await;
    let asked = s.ask(&token, "lamps under 1000 kr?", None).await;
    let (_, parts) = asked.done_parts();
    let kinds: Vec<_> = parts.iter().map(|p| p.type_name()).collect();
    assert_eq!(kinds, ["products", "rich_text"]);
    let dgbot_protocol::Part::Products(cards) = &parts[0] else {
        unreachable!()
    };
    let ids: Vec<_> = cards
        .products
        .iter()
        .map(|p| p.product_id.as_deref().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["fjord", "aurora"],
        "unknown id dropped, repeat dropped"
    );
    let knowledge = s.core().knowledge_of("demo-shop").unwrap();
    let catalogue = &knowledge.catalogue;
    for card in &cards.products {
        let item = catalogue
            .iter()
            .find(|i| Some(i.id.as_str()) == card.product_id.as_deref())
            .unwrap();
        assert_eq!(
            (card.price, card.title.as_str()),
            (Some(item.price), item.title.as_str())
        );
    }
    // The model heard which ids were shown and which were not.
    let seen = fake.lock().unwrap();
    let tool_msg = seen.requests[1]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let result: Value = serde_json::from_str(tool_msg["content"].as_str().unwrap()).unwrap();
    assert_eq!(result["shown"], json!(["fjord", "aurora"]));
    assert_eq!(result["unknown_ids"], json!(["unicorn-9000"]));
    assert_eq!(tool_msg["tool_call_id"], "call_1");
    assert!(
        seen.requests[1]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["tool_calls"][0]["function"]["name"] == "show_products"),
        "the assistant's tool call is given back"
    );
}

#[tokio::test]
async fn a_custom_action_is_a_tool_with_tool_events_on_ws() {
    let (s, fake) = on_fake_model();
    let url = format!(
        "{}/ws?key=demo-shop&visitor_id=model_visitor_1",
        s.base.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Ws::text(
        json!({ "type": "message", "content": "order 1042 for ada@example.com?" }).to_string(),
    ))
    .await
    .unwrap();
    let mut frames = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame")
            .unwrap()
            .unwrap();
        if let Ws::Text(t) = msg {
            let f: Value = serde_json::from_str(&t).unwrap();
            let end = f["type"] == "stream_end";
            frames.push(f);
            if end {
                break;
            }
        }
    }
    let kinds: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(
        &kinds[..3],
        ["stream_start", "tool_action", "tool_action_result"]
    );
    assert_eq!(
        frames[1],
        json!({ "type": "tool_action", "tool": "order_status", "status": "calling" })
    );
    assert_eq!(
        frames[2],
        json!({ "type": "tool_action_result", "tool": "order_status", "status": "done" })
    );
    let text: String = frames
        .iter()
        .filter(|f| f["type"] == "stream_chunk")
        .map(|f| f["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Your order has shipped.");

    // The endpoint got exactly the action's fields: nothing else the model made up.
    let seen = fake.lock().unwrap();
    let body = &seen.action_bodies[0];
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "action",
            "chatbot_id",
            "visitor_id",
            "order_number",
            "email",
            "question"
        ])
    );
    assert_eq!(
        (
            body["order_number"].as_str(),
            body["email"].as_str(),
            body["visitor_id"].as_str()
        ),
        (
            Some("1042"),
            Some("ada@example.com"),
            Some("model_visitor_1")
        )
    );
}

#[tokio::test]
async fn the_action_answer_streams_over_sse_too() {
    let (s, fake) = on_fake_model();
    let token = s.token().await;
    let asked = s.ask(&token, "order 1042, ada@example.com", None).await;
    let (_, parts) = asked.done_parts();
    assert_eq!(
        dgbot_protocol::message::parts_text(&parts),
        "Your order has shipped."
    );
    assert_eq!(fake.lock().unwrap().action_bodies.len(), 1);
    // The SSE stream names the tool while it runs, for the widget's "Looking up …".
    assert!(
        asked
            .events
            .contains(&StreamEvent::tool_call("order_status", "your order")),
        "{:?}",
        asked.events
    );
}

#[tokio::test]
async fn failures_end_with_generation_failed_and_say_if_a_retry_may_help() {
    let (s, _fake) = on_fake_model();
    let token = s.token().await;
    for (question, retryable, said) in [
        ("drop mid-answer", true, "The first words and"),
        ("stall forever", true, "Thinking"),
        ("busy now", true, ""),
        ("broken server", true, ""),
        ("refused request", false, ""),
        ("html instead", false, ""),
    ] {
        let started = Instant::now();
        let asked = s.ask(&token, question, None).await;
        let error = asked.error();
        assert_eq!(
            (serde_json::to_value(error.code).unwrap(), error.retryable),
            (json!("generation_failed"), retryable),
            "{question}"
        );
        assert_eq!(asked.said(), said, "{question}: what was said stays");
        assert!(
            !asked
                .events
                .iter()
                .any(|e| matches!(e, StreamEvent::Done(_))),
            "{question}: no done after an error"
        );
        if question.starts_with("stall") {
            assert!(
                started.elapsed() >= Duration::from_secs(2),
                "timeout_seconds"
            );
        }
    }
    // What was said before a failure is history.
    let history = s.history(&token).await;
    let texts: Vec<String> = history
        .iter()
        .map(|m| {
            serde_json::from_value::<dgbot_protocol::Message>(m.clone())
                .unwrap()
                .plain_text()
        })
        .collect();
    assert!(
        texts.contains(&"The first words and".to_owned()),
        "{texts:?}"
    );
}

#[tokio::test]
async fn a_malformed_chunk_fails_retryably_and_the_retry_answers_anew() {
    let (s, fake) = on_fake_model();
    let token = s.token().await;
    let first = s.ask(&token, "flaky question", Some("c_flaky_1")).await;
    assert!(first.error().retryable);
    assert_eq!(first.said(), "Half an answer, then");
    // "Try again" resends with the same Idempotency-Key: a new answer, not the partial again.
    let retry = s.ask(&token, "flaky question", Some("c_flaky_1")).await;
    let (_, parts) = retry.done_parts();
    assert_eq!(
        dgbot_protocol::message::parts_text(&parts),
        "A whole answer."
    );
    // And once more: now that one is replayed, without asking the model.
    let again = s.ask(&token, "flaky question", Some("c_flaky_1")).await;
    assert_eq!(
        dgbot_protocol::message::parts_text(&again.done_parts().1),
        "A whole answer."
    );
    assert_eq!(fake.lock().unwrap().asked["flaky question"], 2);
    let history = s.history(&token).await;
    assert_eq!(
        history.len(),
        3,
        "the question, the partial answer, the answer"
    );
}

#[tokio::test]
async fn ws_hears_generation_failed_then_stream_end() {
    let (s, _fake) = on_fake_model();
    let url = format!(
        "{}/ws?key=demo-shop&visitor_id=model_visitor_2",
        s.base.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Ws::text(
        json!({ "type": "message", "content": "busy now" }).to_string(),
    ))
    .await
    .unwrap();
    let mut kinds = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Ws::Text(t) = msg {
            let f: Value = serde_json::from_str(&t).unwrap();
            if f["type"] == "error" {
                assert_eq!(f["code"], "generation_failed");
            }
            kinds.push(f["type"].as_str().unwrap().to_owned());
            if f["type"] == "stream_end" {
                break;
            }
        }
    }
    assert_eq!(kinds, ["stream_start", "error", "stream_end"]);
}

/// Time to first token that our server adds on top of the model's own: from sending the
/// question to the first `part_delta`, minus the fake model's own time from the request's
/// arrival to its first chunk. `cargo test -p dgbot-server --release --test model -- --ignored
/// --nocapture ttft`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn ttft_added_by_the_server() {
    let (s, fake) = on_fake_model();
    let token = s.token().await;
    let mut added = Vec::new();
    for i in 0..110 {
        let sent = Instant::now();
        let res = s
            .api.http
            .post(format!("{}/api/v1/chat/messages", s.base))
            .bearer_auth(&token)
            .json(&json!({ "message": { "parts": [{ "type": "text", "text": format!("bench {i}") }] } }))
            .send()
            .await
            .unwrap();
        let mut parser = SseParser::new();
        let mut body = res.bytes_stream();
        let mut first = None;
        while let Some(chunk) = body.next().await {
            let events = parser.feed_vec(&chunk.unwrap());
            if first.is_none() && events.iter().any(|e| e.event == "part_delta") {
                first = Some(Instant::now());
            }
        }
        let (arrived, first_sent) = {
            let seen = fake.lock().unwrap();
            (seen.arrived.unwrap(), seen.first_sent.unwrap())
        };
        let ours = first.unwrap() - sent;
        let model = first_sent - arrived;
        if i >= 10 {
            // The first ten warm connections and caches up.
            added.push(ours.saturating_sub(model));
        }
    }
    added.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "TTFT added by the server over {} answers: median {:.2} ms, p99 {:.2} ms, max {:.2} ms (fake model's own: 20 ms)",
        added.len(),
        ms(added[added.len() / 2]),
        ms(added[added.len() * 99 / 100]),
        ms(*added.last().unwrap())
    );
}
