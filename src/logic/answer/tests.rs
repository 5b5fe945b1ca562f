//! The answer's outcome and batching, natively: streams that end every way they can.

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
            feedback: None,
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
        let mut apply = |answer: &mut Answer, transcript: &mut Transcript, batch: &mut Batch| {
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
