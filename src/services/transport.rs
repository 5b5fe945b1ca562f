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

use crate::logic::errors::TransportError;
use crate::logic::i18n::t_with;

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

/// The JSON body of an answer as `R`. The one generic step of a call: the request itself
/// ([`request`]) is the same code for every type, so each answer type costs the widget only
/// its decoder.
pub fn decode<R: DeserializeOwned>(text: &str) -> Result<R, TransportError> {
    crate::services::json::parse(text)
        .and_then(|v| dgbot_protocol::from_value(v).map_err(|e| e.to_string()))
        .map_err(|e| TransportError::Network(format!("unexpected response: {e}")))
}

async fn check(res: Response) -> Result<Response, TransportError> {
    if res.ok() {
        return Ok(res);
    }
    let retry_after = res.headers().get("Retry-After").ok().flatten();
    let body = text(&res).await.unwrap_or_default();
    Err(api_error(res.status(), retry_after, &body))
}

/// A non-2xx answer as the error the callers act on (`Retry-After` for 429s, the envelope).
fn api_error(status: u16, retry_after: Option<String>, body: &str) -> TransportError {
    let error = crate::services::json::parse(body)
        .ok()
        .and_then(|v| ApiError::from_json(&v))
        .unwrap_or_else(|| {
            ApiError::new(
                dgbot_protocol::ApiErrorCode::Internal,
                t_with("The chat service answered {}.", &[&status.to_string()]),
            )
        });
    TransportError::Api {
        status,
        error,
        retry_after_secs: retry_after.and_then(|v| v.trim().parse().ok()),
    }
}

pub fn encode<B: Serialize>(body: &B) -> Result<String, TransportError> {
    crate::services::json::stringify(body).map_err(TransportError::Network)
}

/// One JSON call (`body` already encoded): the answer's text, or the error it is.
pub async fn request(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<String>,
    idempotency_key: Option<&str>,
) -> Result<String, TransportError> {
    let res = fetch(
        method,
        url,
        token,
        body,
        "application/json",
        None,
        idempotency_key,
    )
    .await?;
    text(&res).await
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
    if let Some(worker) = stream_worker::get() {
        let body = encode(body)?;
        match stream_worker::post_sse(
            &worker,
            url,
            token,
            &body,
            signal,
            idempotency_key,
            &mut on_event,
        )
        .await
        {
            Err(stream_worker::Unavailable) => stream_worker::forget(),
            Ok(result) => return result,
        }
    }
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

/// `post_sse` through the page's stream worker (worker/sse-worker.js): the worker fetches and
/// reads the body off this thread and sends the text in batches. Used when the page names the
/// worker (`window.__dgw`, set by dist/index.html); otherwise, or if the worker cannot start,
/// the stream is read here.
mod stream_worker {
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::rc::Rc;

    use dgbot_protocol::sse::{SseEvent, SseParser};
    use js_sys::{Object, Promise, Reflect};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{AbortSignal, MessageEvent, Worker};

    use super::{TransportError, api_error};

    /// How often the worker hands over text; the chat applies it at its own pace (`BATCH_MS`).
    const PACE_MS: u32 = 50;

    /// The worker could not run (its script failed to load): nothing was sent through it.
    pub struct Unavailable;

    #[derive(Default)]
    struct Inbox {
        queue: RefCell<VecDeque<JsValue>>,
        wake: RefCell<Option<js_sys::Function>>,
    }

    impl Inbox {
        fn deliver(&self, message: JsValue) {
            match self.wake.borrow_mut().take() {
                Some(wake) => {
                    let _ = wake.call1(&JsValue::NULL, &message);
                }
                None => self.queue.borrow_mut().push_back(message),
            }
        }

        async fn next(&self) -> JsValue {
            if let Some(message) = self.queue.borrow_mut().pop_front() {
                return message;
            }
            let arrived = Promise::new(&mut |resolve, _| *self.wake.borrow_mut() = Some(resolve));
            JsFuture::from(arrived).await.unwrap_or_default()
        }
    }

    thread_local! {
        /// `None`: not tried yet; `Some(None)`: this page has no (working) worker.
        static WORKER: RefCell<Option<Option<Worker>>> = const { RefCell::new(None) };
        /// The stream being read (one at a time: the chat sends after an answer ends) and its id.
        static CURRENT: RefCell<Option<(u32, Rc<Inbox>)>> = const { RefCell::new(None) };
        static NEXT_ID: Cell<u32> = const { Cell::new(1) };
    }

    pub fn get() -> Option<Worker> {
        WORKER.with(|w| w.borrow_mut().get_or_insert_with(start).clone())
    }

    /// Stop using the worker (it failed to start); streams are read on this thread from now.
    pub fn forget() {
        WORKER.with(|w| *w.borrow_mut() = Some(None));
    }

    fn start() -> Option<Worker> {
        let url = Reflect::get(&leptos::prelude::window(), &"__dgw".into())
            .ok()?
            .as_string()?;
        let worker = Worker::new(&url).ok()?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
            let data = ev.data();
            let id = Reflect::get(&data, &"id".into())
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or_default() as u32;
            let inbox = CURRENT.with(|c| c.borrow().clone());
            if let Some((_, inbox)) = inbox.filter(|(current, _)| *current == id) {
                inbox.deliver(data);
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        // A script that cannot load: every stream waiting on it learns so and is read here.
        let on_error = Closure::<dyn FnMut(JsValue)>::new(|_| {
            forget();
            if let Some((_, inbox)) = CURRENT.with(|c| c.borrow().clone()) {
                let broken = Object::new();
                let _ = Reflect::set(&broken, &"unavailable".into(), &JsValue::TRUE);
                inbox.deliver(broken.into());
            }
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        Some(worker)
    }

    pub async fn post_sse(
        worker: &Worker,
        url: &str,
        token: Option<&str>,
        body: &str,
        signal: &AbortSignal,
        idempotency_key: Option<&str>,
        on_event: &mut dyn FnMut(SseEvent),
    ) -> Result<Result<(), TransportError>, Unavailable> {
        let id = NEXT_ID.with(|n| n.replace(n.get() + 1));
        let inbox = Rc::new(Inbox::default());
        CURRENT.with(|c| *c.borrow_mut() = Some((id, inbox.clone())));
        let set = |o: &Object, k: &str, v: &JsValue| {
            let _ = Reflect::set(o, &k.into(), v);
        };
        let headers = Object::new();
        set(&headers, "Accept", &"text/event-stream".into());
        set(&headers, "Content-Type", &"application/json".into());
        if let Some(t) = token {
            set(&headers, "Authorization", &format!("Bearer {t}").into());
        }
        if let Some(key) = idempotency_key {
            set(&headers, "Idempotency-Key", &key.into());
        }
        let request = Object::new();
        set(&request, "id", &id.into());
        set(&request, "url", &url.into());
        set(&request, "headers", &headers);
        set(&request, "body", &body.into());
        set(&request, "pace", &PACE_MS.into());
        // The stop button: the worker aborts its fetch and answers `aborted`.
        let stop = {
            let worker = worker.clone();
            Closure::<dyn FnMut()>::new(move || {
                let abort = Object::new();
                let _ = Reflect::set(&abort, &"abort".into(), &id.into());
                let _ = worker.post_message(&abort);
            })
        };
        let _ = signal.add_event_listener_with_callback("abort", stop.as_ref().unchecked_ref());
        let result = if signal.aborted() {
            Ok(Err(TransportError::Aborted))
        } else if worker.post_message(&request).is_err() {
            Err(Unavailable)
        } else {
            read(&inbox, on_event).await
        };
        let _ = signal.remove_event_listener_with_callback("abort", stop.as_ref().unchecked_ref());
        CURRENT.with(|c| {
            if c.borrow()
                .as_ref()
                .is_some_and(|(current, _)| *current == id)
            {
                *c.borrow_mut() = None;
            }
        });
        result
    }

    async fn read(
        inbox: &Inbox,
        on_event: &mut dyn FnMut(SseEvent),
    ) -> Result<Result<(), TransportError>, Unavailable> {
        let field = |m: &JsValue, k: &str| Reflect::get(m, &k.into()).unwrap_or_default();
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        loop {
            let m = inbox.next().await;
            if let Some(text) = field(&m, "text").as_string() {
                parser.feed(text.as_bytes(), &mut events);
                for event in events.drain(..) {
                    on_event(event);
                }
            } else if field(&m, "done").is_truthy() {
                return Ok(Ok(()));
            } else if field(&m, "unavailable").is_truthy() {
                return Err(Unavailable);
            } else if let Some(status) = field(&m, "status").as_f64() {
                let body = field(&m, "body").as_string().unwrap_or_default();
                return Ok(Err(api_error(
                    status as u16,
                    field(&m, "retryAfter").as_string(),
                    &body,
                )));
            } else if field(&m, "aborted").is_truthy() {
                return Ok(Err(TransportError::Aborted));
            } else {
                let error = field(&m, "error").as_string().unwrap_or_default();
                return Ok(Err(TransportError::Network(error)));
            }
        }
    }
}
