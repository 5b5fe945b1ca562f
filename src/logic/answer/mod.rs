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
mod tests;
