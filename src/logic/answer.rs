//! The answer's outcome and batching policy, as a plain state machine: given the stream's
//! events, the batch timer and the stream's end, it says what to apply and when, what to show
//! and tell the host page ([`Effect`]s, in order), and how the answer ended ([`Ending`]: done,
//! failed with or without a retry, cut off, incomplete, or the question unsent). `state::answer` feeds
//! it the stream and carries out its effects on the page.
//!
//! Nothing the visitor typed is ever dropped: a message the server did not take stays in the
//! log marked unsent, with a resend action; a cut-off answer keeps what arrived, marked.

use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::transcript::{Change, Draft, ReduceError};
use dgbot_protocol::{Message, StreamEvent, Transcript};

use crate::logic::errors::{TransportError, error_action, unsent_reason};
use crate::logic::i18n::t;

/// Stream events are applied to the page at most this often (the first token, `done` and
/// `error` at once). Rendering every 2-ms event costs the browser a frame's style, layout and
/// paint each time; ten updates a second still read as a reply being written, and cost the page
/// about 30 % less than twenty (602-686 ms against 919 ms for 5,000 events: BENCHMARKS.md).
pub const BATCH_MS: u64 = 100;

/// The same while nobody watches the answer grow: the visitor has scrolled up the log to read,
/// or the page is hidden. Four updates a second keep the host's `stream_chunk` events moving.
pub const BATCH_AWAY_MS: u64 = 250;

/// How long stream events wait to be applied: [`BATCH_MS`] while the visitor `watched` the
/// answer (the log at its end, the page visible), else [`BATCH_AWAY_MS`].
pub fn batch_ms(watched: bool) -> u64 {
    if watched { BATCH_MS } else { BATCH_AWAY_MS }
}

/// Stream events waiting for the next batch. One per request: a retry starts a new one, so a
/// timer left from an earlier request finds nothing to apply.
#[derive(Debug, Default)]
pub struct Batch {
    queue: Vec<StreamEvent>,
    scheduled: bool,
}

/// What to do once an event has arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Apply the batch now: the answer's first token (the visitor is waiting for it), `done`
    /// and `error`.
    FlushNow,
    /// Set a timer that applies the batch in [`batch_ms`]: none is set.
    Schedule,
    /// A timer is set: the event goes with the batch it applies.
    Queued,
}

impl Batch {
    /// `event` arrived; `waiting`: the answer's first token has not been applied yet.
    pub fn arrive(&mut self, event: StreamEvent, waiting: bool) -> Arrival {
        let urgent = waiting || matches!(event, StreamEvent::Done(_) | StreamEvent::Error(_));
        self.queue.push(event);
        if urgent {
            Arrival::FlushNow
        } else if !std::mem::replace(&mut self.scheduled, true) {
            Arrival::Schedule
        } else {
            Arrival::Queued
        }
    }

    /// The events to apply now, oldest first (a timer still set then finds none).
    pub fn take(&mut self) -> Vec<StreamEvent> {
        self.scheduled = false;
        std::mem::take(&mut self.queue)
    }
}

/// One step of applying the stream to the page, in the order given.
#[derive(Debug)]
pub enum Effect<'a> {
    /// Tell the host page.
    Post(FrameAction),
    /// What the assistant is looking up meanwhile (a custom API action's label), shown in the
    /// typing bubble; `None`: nothing.
    LookingUp(Option<String>),
    /// The typing indicator goes.
    StopWaiting,
    /// The reply joins the log, if it is not there yet.
    ShowReply,
    /// Mirror `change` of the draft in the reply; `draft` is the draft after it. When the
    /// change does not fit the reply, the reply is redrawn from the draft.
    Mirror(&'a Change, Option<&'a Draft>),
    /// `done`: the reply is `message` (redrawn unless `same`: the draft already equalled it)
    /// and is done; announce it and report its products and hand-over offer to the host.
    Done { message: &'a Message, same: bool },
    /// Ask the server how it classified the conversation after the answer `message_id`.
    Classify(String),
    /// `error`: the reply stops short, saying `why`; "Try again" when `retry`.
    Failed { why: String, retry: bool },
    /// An event the transcript could not apply: logged, and otherwise ignored.
    Ignored(ReduceError),
    /// A batch was applied: the log grew.
    Grew,
}

/// How the stream said the answer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Said {
    Done,
    Failed { retry: bool },
}

/// One answer, from the question to its end (across the retries of its request).
#[derive(Debug)]
pub struct Answer {
    /// The answer's first token has not been applied yet (the typing indicator shows).
    waiting: bool,
    /// `done` or `error` was applied.
    said: Option<Said>,
}

impl Default for Answer {
    fn default() -> Self {
        Answer {
            waiting: true,
            said: None,
        }
    }
}

/// How the exchange ended, once the stream is over and no retry is left.
#[derive(Clone, Debug, PartialEq)]
pub enum Ending {
    /// `done` arrived: the answer is whole; the question was delivered.
    Done,
    /// `error` arrived: the reply already says why (and offers a retry when `retry`); the
    /// question was delivered.
    Failed { retry: bool },
    /// The server closed the stream without `done` or `error`: the question was delivered, and
    /// the reply joins the log (if nothing arrived, it was not there yet) marked with `why`,
    /// with "Try again".
    CutOff { why: &'static str },
    /// Part of the answer arrived, then the connection dropped or the visitor stopped it. What
    /// arrived stays, marked with `why`, with "Try again" when `retry`; the question was
    /// delivered. The host page hears `error` when there is one (not for a stop).
    Incomplete {
        why: &'static str,
        retry: bool,
        error: Option<FrameAction>,
    },
    /// Nothing of the answer arrived: the reply goes, and the visitor's message stays in the
    /// log unsent, saying `why`, with its resend action. The host page hears `error`.
    Unsent { why: String, error: FrameAction },
}

impl Answer {
    /// The answer's first token has not been applied yet.
    pub fn waiting(&self) -> bool {
        self.waiting
    }

    /// Apply a batch of events to `transcript`, in order; `effect` carries out each step.
    /// The host's `stream_chunk` carries the batch's new text, posted before `stream_end` or
    /// `error`.
    pub fn apply(
        &mut self,
        transcript: &mut Transcript,
        events: Vec<StreamEvent>,
        effect: &mut impl FnMut(Effect<'_>),
    ) {
        if events.is_empty() {
            return;
        }
        let mut chunk = String::new();
        for event in &events {
            match event {
                StreamEvent::PartDelta(d) => chunk.push_str(d.delta.text().unwrap_or_default()),
                _ => post_chunk(&mut chunk, effect),
            }
            self.event(transcript, event, effect);
        }
        post_chunk(&mut chunk, effect);
        effect(Effect::Grew);
    }

    fn event(
        &mut self,
        transcript: &mut Transcript,
        event: &StreamEvent,
        effect: &mut impl FnMut(Effect<'_>),
    ) {
        if let StreamEvent::Status(s) = event
            && s.status == "tool_call"
        {
            let label = s.label.clone().unwrap_or_default();
            // Shown in the typing bubble, while nothing of the answer is there yet.
            if self.waiting {
                effect(Effect::LookingUp(Some(label.clone())));
            }
            effect(Effect::Post(FrameAction::ToolAction {
                tool: s.tool.clone().unwrap_or_default(),
                status: "calling".into(),
                label,
            }));
        }
        if self.waiting
            && matches!(
                event,
                StreamEvent::PartDelta(_) | StreamEvent::Part(_) | StreamEvent::Done(_)
            )
        {
            self.waiting = false;
            effect(Effect::StopWaiting);
            effect(Effect::LookingUp(None));
            effect(Effect::ShowReply);
            effect(Effect::Post(FrameAction::AssistantFirstToken));
            effect(Effect::Post(FrameAction::StreamStart));
        }
        match transcript.apply(event) {
            Ok(Change::Done { message, same }) => {
                self.said = Some(Said::Done);
                let message = &transcript.messages()[message];
                effect(Effect::Done { message, same });
                effect(Effect::Post(FrameAction::StreamEnd {
                    message_id: message.message_id.clone(),
                }));
                effect(Effect::Classify(message.message_id.clone()));
            }
            Ok(Change::Failed { error, .. }) => {
                self.said = Some(Said::Failed {
                    retry: error.retryable,
                });
                if self.waiting {
                    self.waiting = false;
                    effect(Effect::StopWaiting);
                }
                effect(Effect::ShowReply);
                effect(Effect::Post(FrameAction::Error {
                    code: error.code.as_str().into(),
                    message: error.message.clone(),
                    retryable: error.retryable,
                }));
                effect(Effect::Failed {
                    why: error.message,
                    retry: error.retryable,
                });
            }
            Ok(change) => effect(Effect::Mirror(&change, transcript.draft())),
            Err(e) => effect(Effect::Ignored(e)),
        }
    }

    /// How the exchange ended: `result` is the last request's, `started` says whether the
    /// reply shows part of the answer.
    pub fn end(&self, result: &Result<(), TransportError>, started: bool) -> Ending {
        match result {
            Ok(()) => match self.said {
                Some(Said::Done) => Ending::Done,
                Some(Said::Failed { retry }) => Ending::Failed { retry },
                // The server closed the stream without `done` or `error`.
                None => Ending::CutOff {
                    why: t("The answer was cut off."),
                },
            },
            Err(TransportError::Aborted) if started => Ending::Incomplete {
                why: t("Stopped."),
                retry: false,
                error: None,
            },
            Err(e) if started => Ending::Incomplete {
                why: t("The connection dropped; the answer is incomplete."),
                retry: true,
                error: Some(error_action(e)),
            },
            // Nothing arrived: the visitor's message stays, marked unsent, with a resend action.
            Err(e) => Ending::Unsent {
                why: unsent_reason(e),
                error: error_action(e),
            },
        }
    }
}

fn post_chunk(chunk: &mut String, effect: &mut impl FnMut(Effect<'_>)) {
    if !chunk.is_empty() {
        effect(Effect::Post(FrameAction::StreamChunk {
            content: std::mem::take(chunk),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::message::{Block, RichText, Span};
    use dgbot_protocol::stream::{DoneEvent, StreamErrorCode, StreamErrorEvent, rich_text_deltas};
    use dgbot_protocol::{ApiError, ApiErrorCode, Part, Role};

    /// What the page is asked to do, in words (the reply's parts as the mirror would show them).
    #[derive(Debug, Default)]
    struct Page {
        steps: Vec<String>,
        waiting: bool,
        shown: bool,
        reply_parts: usize,
        posted: Vec<FrameAction>,
    }

    impl Page {
        fn new() -> Self {
            Page {
                waiting: true,
                ..Page::default()
            }
        }

        fn carry_out(&mut self, effect: Effect<'_>) {
            let step = match effect {
                Effect::Post(action) => {
                    let name = format!("{action:?}");
                    self.posted.push(action);
                    format!("post {}", name.split([' ', '{', '(']).next().unwrap())
                }
                Effect::LookingUp(label) => format!("looking up {label:?}"),
                Effect::StopWaiting => {
                    self.waiting = false;
                    "stop waiting".into()
                }
                Effect::ShowReply => {
                    self.shown = true;
                    "show reply".into()
                }
                Effect::Mirror(_, draft) => {
                    self.reply_parts = draft.map_or(0, |d| d.parts.len());
                    "mirror".into()
                }
                Effect::Done { message, same } => {
                    self.reply_parts = message.parts.len();
                    format!("done {} same={same}", message.message_id)
                }
                Effect::Classify(id) => format!("classify {id}"),
                Effect::Failed { why, retry } => format!("failed {why:?} retry={retry}"),
                Effect::Ignored(e) => format!("ignored {e}"),
                Effect::Grew => "grew".into(),
            };
            self.steps.push(step);
        }

        /// The steps since the last call, without the mirroring and growing in between.
        fn said(&mut self) -> Vec<String> {
            std::mem::take(&mut self.steps)
                .into_iter()
                .filter(|s| s != "mirror" && s != "grew")
                .collect()
        }
    }

    fn answer_part() -> Part {
        Part::RichText(RichText {
            part_id: "p1".into(),
            blocks: vec![Block::paragraph(vec![
                Span::text("We ship in two days."),
                Span::bold(" Free over 500 kr."),
            ])],
        })
    }

    fn deltas() -> Vec<StreamEvent> {
        let Part::RichText(rt) = answer_part() else {
            unreachable!()
        };
        rich_text_deltas(&rt)
            .into_iter()
            .map(|d| StreamEvent::delta("p1", d))
            .collect()
    }

    fn done() -> StreamEvent {
        StreamEvent::Done(DoneEvent {
            message: Message {
                message_id: "m1".into(),
                role: Role::Assistant,
                parts: vec![answer_part()],
                created_at: None,
                author: None,
            },
        })
    }

    fn error(retryable: bool) -> StreamEvent {
        StreamEvent::Error(StreamErrorEvent {
            code: StreamErrorCode::GenerationFailed,
            message: "The assistant could not answer.".into(),
            retryable,
        })
    }

    /// Apply `events` one batch each, as they would arrive one by one while the visitor waits.
    fn stream(
        answer: &mut Answer,
        transcript: &mut Transcript,
        page: &mut Page,
        events: Vec<StreamEvent>,
    ) {
        for event in events {
            answer.apply(transcript, vec![event], &mut |e| page.carry_out(e));
        }
    }

    #[test]
    fn a_stream_that_ends_with_done() {
        let (mut answer, mut transcript, mut page) =
            (Answer::default(), Transcript::new(), Page::new());
        transcript.begin_draft();
        let mut events = vec![StreamEvent::status("processing")];
        events.extend(deltas());
        events.push(done());
        stream(&mut answer, &mut transcript, &mut page, events);
        let said = page.said();
        assert_eq!(
            said[..6],
            [
                "stop waiting",
                "looking up None",
                "show reply",
                "post AssistantFirstToken",
                "post StreamStart",
                "post StreamChunk",
            ],
            "the first token: the typing indicator goes, the reply shows, the host hears it"
        );
        assert_eq!(
            said[said.len() - 3..],
            ["done m1 same=true", "post StreamEnd", "classify m1"]
        );
        assert!(!page.waiting && page.shown);
        assert_eq!(page.reply_parts, 1);
        let text: String = page
            .posted
            .iter()
            .filter_map(|a| match a {
                FrameAction::StreamChunk { content } => Some(content.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            text, "We ship in two days. Free over 500 kr.",
            "every word, once"
        );
        assert_eq!(answer.end(&Ok(()), true), Ending::Done);
    }

    #[test]
    fn a_done_that_differs_from_the_draft_redraws_the_reply() {
        let (mut answer, mut transcript, mut page) =
            (Answer::default(), Transcript::new(), Page::new());
        transcript.begin_draft();
        let mut events = deltas();
        events.truncate(2); // the server's final message has more than it streamed
        events.push(done());
        stream(&mut answer, &mut transcript, &mut page, events);
        assert!(page.said().contains(&"done m1 same=false".to_owned()));
    }

    #[test]
    fn a_tool_call_shows_what_is_looked_up_until_the_first_token() {
        let (mut answer, mut transcript, mut page) =
            (Answer::default(), Transcript::new(), Page::new());
        transcript.begin_draft();
        stream(
            &mut answer,
            &mut transcript,
            &mut page,
            vec![StreamEvent::tool_call("order_status", "order status")],
        );
        assert_eq!(
            page.said(),
            ["looking up Some(\"order status\")", "post ToolAction"]
        );
        assert!(answer.waiting(), "still waiting for the answer");
        let mut events = deltas();
        events.insert(1, StreamEvent::tool_call("stock", "stock"));
        stream(&mut answer, &mut transcript, &mut page, events);
        let said = page.said();
        assert_eq!(said[1], "looking up None", "the first token clears it");
        assert!(
            !said.iter().skip(2).any(|s| s.starts_with("looking up")),
            "a later tool call only tells the host: {said:?}"
        );
    }

    #[test]
    fn an_error_after_part_of_the_answer_keeps_it_with_a_retry_when_the_server_says_so() {
        for retryable in [true, false] {
            let (mut answer, mut transcript, mut page) =
                (Answer::default(), Transcript::new(), Page::new());
            transcript.begin_draft();
            let mut events = deltas();
            events.truncate(3);
            events.push(error(retryable));
            stream(&mut answer, &mut transcript, &mut page, events);
            let said = page.said();
            assert_eq!(
                said[said.len() - 3..],
                [
                    "show reply".to_owned(),
                    "post Error".to_owned(),
                    format!("failed \"The assistant could not answer.\" retry={retryable}"),
                ]
            );
            assert!(page.posted.contains(&FrameAction::Error {
                code: "generation_failed".into(),
                message: "The assistant could not answer.".into(),
                retryable,
            }));
            assert_eq!(
                answer.end(&Ok(()), true),
                Ending::Failed { retry: retryable },
                "the server closes the stream after `error`: nothing more to say"
            );
        }
    }

    #[test]
    fn an_error_before_any_token_ends_the_wait_and_shows_the_reply() {
        let (mut answer, mut transcript, mut page) =
            (Answer::default(), Transcript::new(), Page::new());
        transcript.begin_draft();
        stream(&mut answer, &mut transcript, &mut page, vec![error(true)]);
        assert_eq!(
            page.said(),
            [
                "stop waiting",
                "show reply",
                "post Error",
                "failed \"The assistant could not answer.\" retry=true"
            ],
            "no first-token events for the host"
        );
        assert!(!answer.waiting());
    }

    #[test]
    fn a_stream_closed_without_done_is_cut_off() {
        let (mut answer, mut transcript, mut page) =
            (Answer::default(), Transcript::new(), Page::new());
        transcript.begin_draft();
        let mut events = deltas();
        events.truncate(3);
        stream(&mut answer, &mut transcript, &mut page, events);
        let cut_off = Ending::CutOff {
            why: "The answer was cut off.",
        };
        assert_eq!(answer.end(&Ok(()), true), cut_off);
        assert_eq!(
            Answer::default().end(&Ok(()), false),
            cut_off,
            "also when nothing arrived: the question was taken"
        );
    }

    #[test]
    fn a_dropped_connection_mid_answer_keeps_what_arrived_with_a_retry() {
        let dropped = Err(TransportError::Network("reset".into()));
        assert_eq!(
            Answer::default().end(&dropped, true),
            Ending::Incomplete {
                why: "The connection dropped; the answer is incomplete.",
                retry: true,
                error: Some(FrameAction::Error {
                    code: "network".into(),
                    message: "Could not reach the chat service. Check your connection.".into(),
                    retryable: true,
                }),
            }
        );
    }

    #[test]
    fn a_stop_keeps_what_arrived_without_a_retry_or_an_error_for_the_host() {
        assert_eq!(
            Answer::default().end(&Err(TransportError::Aborted), true),
            Ending::Incomplete {
                why: "Stopped.",
                retry: false,
                error: None
            }
        );
    }

    #[test]
    fn a_failure_before_anything_arrived_leaves_the_question_unsent() {
        let refused = TransportError::Api {
            status: 429,
            error: ApiError::new(ApiErrorCode::RateLimited, "Too many messages."),
            retry_after_secs: Some(5),
        };
        assert_eq!(
            Answer::default().end(&Err(refused), false),
            Ending::Unsent {
                why: "Too many messages.".into(),
                error: FrameAction::Error {
                    code: "rate_limited".into(),
                    message: "Too many messages.".into(),
                    retryable: true,
                },
            }
        );
        // A stop before the first token: unsent too, and the host hears it.
        let Ending::Unsent { why, error: host } =
            Answer::default().end(&Err(TransportError::Aborted), false)
        else {
            panic!("unsent")
        };
        assert_eq!(why, "Stopped.");
        assert!(matches!(
            host,
            FrameAction::Error {
                retryable: false,
                ..
            }
        ));
        // The dropped connection wins over an `error` that came first.
        let (mut answer, mut transcript, mut page) =
            (Answer::default(), Transcript::new(), Page::new());
        stream(&mut answer, &mut transcript, &mut page, vec![error(true)]);
        assert!(matches!(
            answer.end(&Err(TransportError::Network("reset".into())), false),
            Ending::Unsent { .. }
        ));
    }

    #[test]
    fn an_event_that_does_not_fit_is_ignored() {
        let (mut answer, mut transcript, mut page) =
            (Answer::default(), Transcript::new(), Page::new());
        transcript.begin_draft();
        let mut events = deltas();
        let stray = events.remove(1); // text for a part not started yet
        let StreamEvent::PartDelta(mut stray) = stray else {
            unreachable!()
        };
        stray.part_id = "nowhere".into();
        stream(
            &mut answer,
            &mut transcript,
            &mut page,
            vec![StreamEvent::PartDelta(stray)],
        );
        assert!(
            page.said().iter().any(|s| s.starts_with("ignored")),
            "logged, nothing else"
        );
    }

    #[test]
    fn the_first_token_done_and_error_are_applied_at_once_the_rest_in_batches() {
        let mut batch = Batch::default();
        let mut events = deltas().into_iter();
        assert_eq!(
            batch.arrive(events.next().unwrap(), true),
            Arrival::FlushNow,
            "the visitor waits for the first token"
        );
        assert_eq!(batch.take().len(), 1);
        assert_eq!(
            batch.arrive(events.next().unwrap(), false),
            Arrival::Schedule
        );
        assert_eq!(batch.arrive(events.next().unwrap(), false), Arrival::Queued);
        assert_eq!(
            batch.arrive(done(), false),
            Arrival::FlushNow,
            "done at once"
        );
        assert_eq!(batch.take().len(), 3, "with what waited");
        assert!(batch.take().is_empty(), "the timer then finds nothing");
        assert_eq!(
            batch.arrive(events.next().unwrap(), false),
            Arrival::Schedule
        );
        assert_eq!(
            batch.arrive(error(false), false),
            Arrival::FlushNow,
            "error at once"
        );
        assert_eq!(batch_ms(true), 100);
        assert_eq!(batch_ms(false), 250, "while nobody watches");
    }

    #[test]
    fn a_stream_of_an_event_every_2_ms_updates_the_page_ten_times_a_second() {
        let count = |watched: bool| {
            let (mut answer, mut transcript, mut batch) =
                (Answer::default(), Transcript::new(), Batch::default());
            transcript.begin_draft();
            let first = deltas().remove(0);
            let mut events = vec![first];
            events.extend((0..498).map(|i| {
                StreamEvent::delta(
                    "p1",
                    dgbot_protocol::stream::Delta::Span {
                        span: Span::text(format!("w{i} ")),
                    },
                )
            }));
            events.insert(
                1,
                StreamEvent::delta(
                    "p1",
                    dgbot_protocol::stream::Delta::Block {
                        block: Block::paragraph(vec![]),
                    },
                ),
            );
            let (mut updates, mut timer) = (0, None::<u64>);
            let mut apply =
                |answer: &mut Answer, transcript: &mut Transcript, batch: &mut Batch| {
                    let events = batch.take();
                    if !events.is_empty() {
                        updates += 1;
                    }
                    answer.apply(transcript, events, &mut |_| {});
                };
            for (i, event) in events.into_iter().enumerate() {
                let now = i as u64 * 2;
                if timer.is_some_and(|at| at <= now) {
                    timer = None;
                    apply(&mut answer, &mut transcript, &mut batch);
                }
                match batch.arrive(event, answer.waiting()) {
                    Arrival::FlushNow => apply(&mut answer, &mut transcript, &mut batch),
                    Arrival::Schedule => timer = Some(now + batch_ms(watched)),
                    Arrival::Queued => {}
                }
            }
            apply(&mut answer, &mut transcript, &mut batch); // the stream's end
            updates
        };
        // 500 events, one every 2 ms: a second of answer. The first token at once, then one
        // update per 100 ms (the last when the stream ends).
        assert_eq!(count(true), 1 + 10);
        assert_eq!(count(false), 1 + 4, "four a second while nobody watches");
    }
}
