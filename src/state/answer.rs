//! The answer being asked for: the question goes out (`POST /messages`, retried by
//! `logic::send`), the answer streams in as SSE events, a batch at a time, and the page follows
//! what `logic::answer` says each event means and how the answer ended. The code that does it
//! comes in the `text` chunk with the answer's renderer.

use std::cell::RefCell;
use std::rc::Rc;

use dgbot_protocol::api::{ClassificationResponse, InputMessage, SendMessageRequest};
use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::{Message, Part, Role, StreamEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::AbortController;

use crate::logic::answer::{Answer, Arrival, Batch, Effect, Ending, batch_ms};
use crate::logic::errors::TransportError;
use crate::logic::i18n::{t, t_with};
use crate::logic::send::{Attempts, Next};
use crate::services::api::API;
use crate::services::transport;
use crate::state::host::Host;
use crate::state::transcript::Transcript;
use crate::state::view_model::{Delivery, MessageVm, next_key};

#[derive(Clone, Copy)]
pub struct Answering {
    /// An answer is streaming (the composer shows the stop button).
    pub streaming: RwSignal<bool>,
    /// Waiting for the first token of the answer (the typing indicator).
    pub waiting: RwSignal<bool>,
    /// What the assistant is looking up meanwhile (a custom API action's label).
    pub looking_up: RwSignal<Option<String>>,
    abort: StoredValue<Option<AbortController>, LocalStorage>,
    pub transcript: Transcript,
}

impl Answering {
    pub fn new(transcript: Transcript) -> Self {
        Answering {
            streaming: RwSignal::new(false),
            waiting: RwSignal::new(false),
            looking_up: RwSignal::new(None),
            abort: StoredValue::new_local(None),
            transcript,
        }
    }

    fn host(&self) -> Host {
        self.transcript.host
    }

    /// Stop the streaming answer; what arrived is kept.
    pub fn stop(&self) {
        self.abort.with_value(|a| {
            if let Some(a) = a {
                a.abort();
            }
        });
    }

    /// Ask the assistant and stream its answer. The code that does it (the stream, the
    /// transcript's reducer, the host's stream events) comes in the `text` chunk with the
    /// answer's renderer, fetched when the visitor starts typing (`preload_text`); if it cannot
    /// be fetched the message stays in the log, unsent, with its resend action.
    pub(crate) fn ask(self, user: MessageVm, parts: Vec<Part>) {
        spawn_local(async move {
            match answer_chunk(self, user.clone(), parts).await {
                Ok(exchange) => exchange.await,
                Err(crate::Unloaded) => user.delivery.set(Delivery::Unsent(
                    t("The chat could not load. Check your connection.").into(),
                )),
            }
        });
    }

    async fn exchange(self, user: MessageVm, parts: Vec<Part>) {
        if let Some(answer) = &user.replaces {
            self.transcript.forget_replaced(answer, user.key);
        }
        self.host().sent_at.set_value(Some(js_sys::Date::now()));
        self.streaming.set(true);
        self.waiting.set(true);
        self.looking_up.set(None);
        let prompt: String = parts
            .iter()
            .filter_map(|p| {
                if let Part::Text(t) = p {
                    Some(t.text.as_str())
                } else {
                    None
                }
            })
            .collect();
        let mut reply = MessageVm::new(next_key(), Role::Assistant, &[], Delivery::Pending)
            .with_prompt(&prompt, user.client_id.clone());
        reply.replaces = user.replaces.clone();
        let answer = Rc::new(RefCell::new(Answer::default()));
        let mut result = self.stream_answer(&parts, &reply, &answer).await;
        let mut attempts = Attempts::default();
        loop {
            match attempts.next(&result) {
                Next::Renew => {
                    result = match self.transcript.api.authenticate().await {
                        Ok(_) => self.stream_answer(&parts, &reply, &answer).await,
                        Err(e) => Err(e),
                    };
                }
                Next::Wait(secs) => {
                    user.delivery.set(Delivery::Unsent(t_with(
                        "The chat is busy; trying again in {} s.",
                        &[&secs.to_string()],
                    )));
                    transport::sleep_ms(secs * 1000).await;
                    user.delivery.set(Delivery::Pending);
                    result = self.stream_answer(&parts, &reply, &answer).await;
                }
                Next::Stop => break,
            }
        }
        self.waiting.set(false);
        self.streaming.set(false);
        self.abort.set_value(None);
        let started = reply.parts.with_untracked(|p| !p.is_empty());
        let ending = answer.borrow().end(&result, started);
        match ending {
            Ending::Done | Ending::Failed { .. } => user.delivery.set(Delivery::Done),
            Ending::CutOff { why } => {
                user.delivery.set(Delivery::Done);
                self.transcript.data.update_value(|t| {
                    t.end_draft(&format!("partial_{}", reply.key));
                });
                self.transcript.show_reply(&reply);
                reply.delivery.set(Delivery::Incomplete {
                    why: why.into(),
                    retry: true,
                });
            }
            Ending::Incomplete { why, retry, error } => {
                if let Some(error) = error {
                    self.host().post(error);
                }
                user.delivery.set(Delivery::Done);
                self.transcript.data.update_value(|t| {
                    t.end_draft(&format!("partial_{}", reply.key));
                });
                reply.delivery.set(Delivery::Incomplete {
                    why: why.into(),
                    retry,
                });
            }
            Ending::Unsent { why, error } => {
                self.host().post(error);
                self.transcript.data.update_value(|t| {
                    t.end_draft("");
                });
                self.transcript
                    .messages
                    .update(|m| m.retain(|vm| vm.key != reply.key));
                user.delivery.set(Delivery::Unsent(why));
            }
        }
        self.transcript.grew();
    }

    /// One POST /messages: feed its events through the transcript into `reply`, a batch at a
    /// time ([`Batch`]).
    async fn stream_answer(
        &self,
        parts: &[Part],
        reply: &MessageVm,
        answer: &Rc<RefCell<Answer>>,
    ) -> Result<(), TransportError> {
        let client_id = reply.client_id.clone();
        let token = self.transcript.api.token().await?;
        let body = SendMessageRequest {
            message: InputMessage {
                parts: parts.to_vec(),
            },
            context: self.host().context(),
            replaces: reply.replaces.clone(),
        };
        let controller =
            AbortController::new().map_err(|e| TransportError::Network(format!("{e:?}")))?;
        let signal = controller.signal();
        self.abort.set_value(Some(controller));
        self.transcript.data.update_value(|t| t.begin_draft());
        let this = *self;
        let batch = Rc::new(RefCell::new(Batch::default()));
        let result = {
            let (batch, answer, reply) = (batch.clone(), answer.clone(), reply.clone());
            transport::post_sse(
                &format!("{API}/messages"),
                Some(&token),
                &body,
                &signal,
                client_id.as_deref(),
                move |sse| {
                    match StreamEvent::decode_with(
                        &sse.event,
                        &sse.data,
                        crate::services::json::parse,
                    ) {
                        Ok(Some(event)) => {
                            let waiting = answer.borrow().waiting();
                            let arrival = batch.borrow_mut().arrive(event, waiting);
                            match arrival {
                                Arrival::FlushNow => this.flush(&batch, &answer, &reply),
                                Arrival::Schedule => {
                                    let (batch, answer, reply) =
                                        (batch.clone(), answer.clone(), reply.clone());
                                    set_timeout(
                                        move || this.flush(&batch, &answer, &reply),
                                        std::time::Duration::from_millis(batch_ms(this.watched())),
                                    );
                                }
                                Arrival::Queued => {}
                            }
                        }
                        Ok(None) => {} // an event name from a newer server
                        Err(e) => leptos::logging::warn!("dgbot: {e}"),
                    }
                },
            )
            .await
        };
        self.flush(&batch, answer, reply); // whatever arrived since the last batch
        result
    }

    /// Someone watches the answer grow: the log is at its end and the page is visible.
    fn watched(&self) -> bool {
        self.transcript.at_end.get_value() && !document().hidden()
    }

    /// Apply the queued stream events in one go (one layout for the page).
    fn flush(&self, batch: &RefCell<Batch>, answer: &RefCell<Answer>, reply: &MessageVm) {
        let events = batch.borrow_mut().take();
        if events.is_empty() {
            return;
        }
        // The effects touch the page and the host, never the transcript lent to the answer.
        self.transcript.data.try_update_value(|t| {
            answer
                .borrow_mut()
                .apply(t, events, &mut |effect| self.carry_out(effect, reply))
        });
    }

    /// One step of the answer on the page.
    fn carry_out(&self, effect: Effect<'_>, reply: &MessageVm) {
        match effect {
            Effect::Post(action) => self.host().post(action),
            Effect::LookingUp(label) => self.looking_up.set(label),
            Effect::StopWaiting => self.waiting.set(false),
            Effect::ShowReply => self.transcript.show_reply(reply),
            Effect::Mirror(change, draft) => {
                if !draft.is_some_and(|d| reply.apply(change, d)) {
                    reply.set_parts(draft.map_or(&[][..], |d| &d.parts));
                }
            }
            Effect::Done { message, same } => {
                if !same {
                    reply.set_parts(&message.parts);
                }
                // The answer's id and time, for its controls (feedback, ask again).
                self.transcript.messages.update_untracked(|m| {
                    if let Some(vm) = m.iter_mut().find(|vm| vm.key == reply.key) {
                        vm.message_id = Some(message.message_id.clone());
                        vm.created_at = message
                            .created_at
                            .clone()
                            .or_else(|| Some(crate::services::now()));
                    }
                });
                reply.delivery.set(Delivery::Done);
                self.transcript.announcement.set(message.plain_text());
                self.report_recommendations(message);
            }
            Effect::Classify(message_id) => self.report_classification(message_id),
            Effect::Failed { why, retry } => {
                reply.delivery.set(Delivery::Incomplete { why, retry })
            }
            Effect::Ignored(e) => leptos::logging::warn!("dgbot: ignored stream event: {e}"),
            Effect::Grew => self.transcript.grew(),
        }
    }

    /// Seed 002 `productRecommendation`, once per products part of a finished answer.
    fn report_recommendations(&self, message: &Message) {
        for part in &message.parts {
            match part {
                Part::Products(p)
                    if self
                        .host()
                        .first_sight(&format!("recommendation:{}", p.part_id)) =>
                {
                    let urls = p.products.iter().map(|p| p.url.clone()).collect::<Vec<_>>();
                    self.host().post(FrameAction::ProductRecommendation {
                        urls: (!urls.is_empty()).then_some(urls),
                    });
                }
                // Seed 001's `handoff_offered`: the answer offers a person.
                Part::RequestHumanAgent(m)
                    if self.host().first_sight(&format!("handoff:{}", m.part_id)) =>
                {
                    self.host().post(FrameAction::HandoffOffered {
                        message: message.plain_text(),
                    });
                }
                _ => {}
            }
        }
    }

    /// Seed 002 `conversationClassified`: the server classifies the conversation a few seconds
    /// after each answer; `emne` is `null` when that fails or takes too long.
    fn report_classification(self, message_id: String) {
        spawn_local(async move {
            let path = format!(
                "/classification?message_id={}",
                js_sys::encode_uri_component(&message_id)
            );
            let emne = match self
                .transcript
                .api
                .get::<ClassificationResponse>(&path)
                .await
            {
                Ok(c) => c.classification,
                Err(e) => {
                    leptos::logging::warn!("dgbot: no classification: {}", e.message());
                    None
                }
            };
            self.host()
                .post(FrameAction::ConversationClassified { emne });
        });
    }
}

crate::lazy! { text:
    /// [`Answering::ask`]'s exchange, from the `text` chunk.
    fn answer_chunk(
        answering: Answering,
        user: MessageVm,
        parts: Vec<Part>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
        Box::pin(answering.exchange(user, parts))
    }
}

crate::lazy! { text:
    /// Fetches the `text` chunk (asking, streaming and drawing the answer) ahead of need: when
    /// the visitor starts typing, and at start-up for a returning visitor.
    pub fn preload_text() -> () {}
}
