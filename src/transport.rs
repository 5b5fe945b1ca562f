//! The HTTP transport to the chat API: JSON requests, and `POST /api/v1/chat/messages` read as
//! SSE over `fetch` (the seed: `EventSource` cannot POST). The bytes go through the protocol's
//! incremental [`SseParser`]; this module knows nothing of the events' meaning.

use dgbot_protocol::api::ApiError;
use dgbot_protocol::sse::{SseEvent, SseParser};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, ReadableStreamDefaultReader, RequestInit, Response};

#[derive(Debug, Clone, PartialEq)]
pub enum TransportError {
    /// A non-2xx answer with the seed's `ApiError` envelope (or a synthesized one).
    Api {
        status: u16,
        error: ApiError,
        retry_after_secs: Option<u32>,
    },
    /// No answer, or the connection dropped mid-stream.
    Network(String),
    /// The request was aborted by us (stop button).
    Aborted,
}

impl TransportError {
    pub fn message(&self) -> String {
        match self {
            TransportError::Api { error, .. } => error.error.message.clone(),
            TransportError::Network(_) => {
                "Could not reach the chat service. Check your connection.".to_owned()
            }
            TransportError::Aborted => "Stopped.".to_owned(),
        }
    }
}

fn js_err(e: impl std::fmt::Debug) -> TransportError {
    TransportError::Network(format!("{e:?}"))
}

/// One `fetch`, with JSON body and Bearer token when given.
async fn fetch(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<String>,
    accept: &str,
    signal: Option<&AbortSignal>,
    idempotency_key: Option<&str>,
) -> Result<Response, TransportError> {
    let headers = Headers::new().map_err(js_err)?;
    headers.set("Accept", accept).map_err(js_err)?;
    if let Some(key) = idempotency_key {
        headers.set("Idempotency-Key", key).map_err(js_err)?;
    }
    if let Some(t) = token {
        headers
            .set("Authorization", &format!("Bearer {t}"))
            .map_err(js_err)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(js_err)?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    if let Some(signal) = signal {
        init.set_signal(Some(signal));
    }
    let res = JsFuture::from(leptos::prelude::window().fetch_with_str_and_init(url, &init)).await;
    match res {
        Ok(res) => check(res.unchecked_into()).await,
        Err(_) if signal.is_some_and(AbortSignal::aborted) => Err(TransportError::Aborted),
        Err(e) => Err(js_err(e)),
    }
}

async fn text(res: &Response) -> Result<String, TransportError> {
    let text = JsFuture::from(res.text().map_err(js_err)?)
        .await
        .map_err(js_err)?;
    text.as_string()
        .ok_or_else(|| TransportError::Network("response body is not text".into()))
}

async fn json<R: DeserializeOwned>(res: &Response) -> Result<R, TransportError> {
    serde_json::from_str(&text(res).await?)
        .map_err(|e| TransportError::Network(format!("unexpected response: {e}")))
}

async fn check(res: Response) -> Result<Response, TransportError> {
    if res.ok() {
        return Ok(res);
    }
    let status = res.status();
    let retry_after_secs = res
        .headers()
        .get("Retry-After")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok());
    let error = json::<ApiError>(&res).await.unwrap_or_else(|_| {
        ApiError::new(
            dgbot_protocol::ApiErrorCode::Internal,
            format!("The chat service answered {status}."),
        )
    });
    Err(TransportError::Api {
        status,
        error,
        retry_after_secs,
    })
}

fn encode<B: Serialize>(body: &B) -> Result<String, TransportError> {
    serde_json::to_string(body).map_err(js_err)
}

pub async fn get_json<R: DeserializeOwned>(
    url: &str,
    token: Option<&str>,
) -> Result<R, TransportError> {
    json(&fetch("GET", url, token, None, "application/json", None, None).await?).await
}

pub async fn delete_json<R: DeserializeOwned>(
    url: &str,
    token: Option<&str>,
) -> Result<R, TransportError> {
    json(&fetch("DELETE", url, token, None, "application/json", None, None).await?).await
}

pub async fn post_json<B: Serialize, R: DeserializeOwned>(
    url: &str,
    token: Option<&str>,
    body: &B,
) -> Result<R, TransportError> {
    post_json_keyed(url, token, body, None).await
}

/// POST JSON with an `Idempotency-Key` when given.
pub async fn post_json_keyed<B: Serialize, R: DeserializeOwned>(
    url: &str,
    token: Option<&str>,
    body: &B,
    idempotency_key: Option<&str>,
) -> Result<R, TransportError> {
    json(
        &fetch(
            "POST",
            url,
            token,
            Some(encode(body)?),
            "application/json",
            None,
            idempotency_key,
        )
        .await?,
    )
    .await
}

/// POST `body` and feed every SSE event of the answer to `on_event` as it arrives. Returns when
/// the server closes the stream; a drop mid-stream is `Network`, an abort is `Aborted`.
/// `idempotency_key` names the message, so a retry of it is stored once.
pub async fn post_sse<B: Serialize>(
    url: &str,
    token: Option<&str>,
    body: &B,
    signal: &AbortSignal,
    idempotency_key: Option<&str>,
    mut on_event: impl FnMut(SseEvent),
) -> Result<(), TransportError> {
    let aborted = |e: JsValue| {
        if signal.aborted() {
            TransportError::Aborted
        } else {
            js_err(e)
        }
    };
    let res = fetch(
        "POST",
        url,
        token,
        Some(encode(body)?),
        "text/event-stream",
        Some(signal),
        idempotency_key,
    )
    .await?;
    let stream = res
        .body()
        .ok_or_else(|| TransportError::Network("empty response body".into()))?;
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(aborted)?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .map_err(aborted)?
            .as_bool()
            .unwrap_or(true);
        if done {
            return Ok(());
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into()).map_err(aborted)?;
        let bytes = js_sys::Uint8Array::new(&value).to_vec();
        parser.feed(&bytes, &mut events);
        for event in events.drain(..) {
            on_event(event);
        }
    }
}

/// Wait `ms` milliseconds without blocking the page.
pub async fn sleep_ms(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = leptos::prelude::window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
    });
    let _ = JsFuture::from(promise).await;
}
