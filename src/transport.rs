//! The HTTP transport to the chat API: JSON requests, and `POST /api/v1/chat/messages` read as
//! SSE over `fetch` (the seed: `EventSource` cannot POST). The bytes go through the protocol's
//! incremental [`SseParser`]; this module knows nothing of the events' meaning.

use dgbot_protocol::api::ApiError;
use dgbot_protocol::sse::{SseEvent, SseParser};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

#[derive(Debug, Clone, PartialEq)]
pub enum TransportError {
    /// A non-2xx answer with the seed's `ApiError` envelope (or a synthesized one).
    Api { status: u16, error: ApiError, retry_after_secs: Option<u32> },
    /// No answer, or the connection dropped mid-stream.
    Network(String),
    /// The request was aborted by us (stop button).
    Aborted,
}

impl TransportError {
    pub fn message(&self) -> String {
        match self {
            TransportError::Api { error, .. } => error.error.message.clone(),
            TransportError::Network(_) => "Could not reach the chat service. Check your connection.".to_owned(),
            TransportError::Aborted => "Stopped.".to_owned(),
        }
    }
}

fn js_err(e: impl std::fmt::Debug) -> TransportError {
    TransportError::Network(format!("{e:?}"))
}

fn with_auth(req: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(t) => req.header("Authorization", &format!("Bearer {t}")),
        None => req,
    }
}

async fn check(res: Response) -> Result<Response, TransportError> {
    if res.ok() {
        return Ok(res);
    }
    let status = res.status();
    let retry_after_secs = res.headers().get("Retry-After").and_then(|v| v.trim().parse().ok());
    let error = res.json::<ApiError>().await.unwrap_or_else(|_| {
        ApiError::new(dgbot_protocol::ApiErrorCode::Internal, format!("The chat service answered {status}."))
    });
    Err(TransportError::Api { status, error, retry_after_secs })
}

pub async fn get_json<R: DeserializeOwned>(url: &str, token: Option<&str>) -> Result<R, TransportError> {
    let res = with_auth(Request::get(url), token).send().await.map_err(js_err)?;
    check(res).await?.json().await.map_err(js_err)
}

pub async fn post_json<B: Serialize, R: DeserializeOwned>(url: &str, token: Option<&str>, body: &B) -> Result<R, TransportError> {
    let res = with_auth(Request::post(url), token).json(body).map_err(js_err)?.send().await.map_err(js_err)?;
    check(res).await?.json().await.map_err(js_err)
}

/// POST `body` and feed every SSE event of the answer to `on_event` as it arrives. Returns when
/// the server closes the stream; a drop mid-stream is `Network`, an abort is `Aborted`.
pub async fn post_sse<B: Serialize>(
    url: &str,
    token: Option<&str>,
    body: &B,
    signal: &AbortSignal,
    mut on_event: impl FnMut(SseEvent),
) -> Result<(), TransportError> {
    let aborted = |e: JsValue| if signal.aborted() { TransportError::Aborted } else { js_err(e) };
    let req = with_auth(Request::post(url), token)
        .header("Accept", "text/event-stream")
        .abort_signal(Some(signal))
        .json(body)
        .map_err(js_err)?;
    let res = match req.send().await {
        Ok(res) => res,
        Err(_) if signal.aborted() => return Err(TransportError::Aborted),
        Err(e) => return Err(js_err(e)),
    };
    let res = check(res).await?;
    let stream = res.body().ok_or_else(|| TransportError::Network("empty response body".into()))?;
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(aborted)?;
        let done = js_sys::Reflect::get(&chunk, &"done".into()).map_err(aborted)?.as_bool().unwrap_or(true);
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
