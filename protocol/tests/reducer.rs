//! The transcript reducer and the SSE parser, including property tests over random input.

use dgbot_protocol::message::ListItem;
use dgbot_protocol::sse::{SseEvent, SseParser};
use dgbot_protocol::stream::{DoneEvent, PartEvent, StreamErrorCode};
use dgbot_protocol::transcript::SpanPath;
use dgbot_protocol::*;
use proptest::prelude::*;

fn rich(id: &str) -> Part {
    Part::RichText(RichText {
        part_id: id.into(),
        blocks: vec![],
    })
}

fn stream_of(words: &[&str]) -> Vec<StreamEvent> {
    let mut events = vec![
        StreamEvent::status("connected"),
        StreamEvent::status("processing"),
        StreamEvent::delta("p1", Delta::Start { part: rich("p1") }),
        StreamEvent::delta(
            "p1",
            Delta::Block {
                block: Block::paragraph(vec![]),
            },
        ),
        StreamEvent::delta(
            "p1",
            Delta::Span {
                span: Span::text(""),
            },
        ),
    ];
    events.extend(
        words
            .iter()
            .map(|w| StreamEvent::delta("p1", Delta::Text { text: (*w).into() })),
    );
    events
}

#[test]
fn deltas_grow_the_draft_and_done_replaces_it() {
    let mut t = Transcript::new();
    let mut changes = vec![];
    for ev in stream_of(&["Standard", " shipping"]) {
        changes.push(t.apply(&ev).unwrap());
    }
    let at = SpanPath {
        part: 0,
        block: 0,
        item: None,
        span: 0,
    };
    assert_eq!(changes[2], Change::PartStarted { part: 0 });
    assert_eq!(changes[6], Change::TextAppended { at, from: 8 });
    let draft = t.draft().unwrap();
    let Part::RichText(rt) = &draft.parts[0] else {
        panic!()
    };
    assert_eq!(
        rt.blocks[0],
        Block::paragraph(vec![Span::text("Standard shipping")])
    );

    let final_message = Message {
        message_id: "msg_abc".into(),
        role: Role::Assistant,
        parts: vec![Part::RichText(RichText {
            part_id: "p1".into(),
            blocks: vec![Block::paragraph(vec![Span::text("Standard shipping")])],
        })],
        created_at: None,
        author: None,
        feedback: None,
    };
    let done = t
        .apply(&StreamEvent::Done(DoneEvent {
            message: final_message.clone(),
        }))
        .unwrap();
    assert_eq!(
        done,
        Change::Done {
            message: 0,
            same: true
        }
    );
    assert!(t.draft().is_none());
    assert_eq!(t.messages(), std::slice::from_ref(&final_message));

    // A done that differs from the draft still wins.
    for ev in stream_of(&["draft text"]) {
        t.apply(&ev).unwrap();
    }
    let done = t
        .apply(&StreamEvent::Done(DoneEvent {
            message: final_message,
        }))
        .unwrap();
    assert_eq!(
        done,
        Change::Done {
            message: 1,
            same: false
        }
    );
}

#[test]
fn bullet_lists_and_part_replacement() {
    let mut t = Transcript::new();
    t.apply(&StreamEvent::delta("p", Delta::Start { part: rich("p") }))
        .unwrap();
    t.apply(&StreamEvent::delta(
        "p",
        Delta::Block {
            block: Block::BulletList { items: vec![] },
        },
    ))
    .unwrap();
    assert!(
        t.apply(&StreamEvent::delta(
            "p",
            Delta::Span {
                span: Span::text("x")
            }
        ))
        .is_err(),
        "no item yet"
    );
    let c = t
        .apply(&StreamEvent::delta(
            "p",
            Delta::Item {
                item: ListItem::default(),
            },
        ))
        .unwrap();
    assert_eq!(
        c,
        Change::ItemAppended {
            part: 0,
            block: 0,
            item: 0
        }
    );
    let c = t
        .apply(&StreamEvent::delta(
            "p",
            Delta::Span {
                span: Span::bold("A"),
            },
        ))
        .unwrap();
    assert_eq!(
        c,
        Change::SpanAppended(SpanPath {
            part: 0,
            block: 0,
            item: Some(0),
            span: 0
        })
    );
    t.apply(&StreamEvent::delta("p", Delta::Text { text: "B".into() }))
        .unwrap();

    let final_part = Part::RichText(RichText {
        part_id: "p".into(),
        blocks: vec![Block::paragraph(vec![Span::text("final")])],
    });
    let c = t
        .apply(&StreamEvent::Part(PartEvent {
            part: final_part.clone(),
        }))
        .unwrap();
    assert_eq!(c, Change::PartReplaced { part: 0 });
    let c = t
        .apply(&StreamEvent::Part(PartEvent {
            part: Part::Unknown,
        }))
        .unwrap();
    assert_eq!(c, Change::PartStarted { part: 1 });
    assert_eq!(t.draft().unwrap().parts, vec![final_part, Part::Unknown]);
}

#[test]
fn malformed_sequences_are_errors_and_change_nothing() {
    let mut t = Transcript::new();
    assert_eq!(
        t.apply(&StreamEvent::delta(
            "nope",
            Delta::Text { text: "x".into() }
        )),
        Err(ReduceError::UnknownPart("nope".into()))
    );
    t.apply(&StreamEvent::delta("p", Delta::Start { part: rich("p") }))
        .unwrap();
    assert!(matches!(
        t.apply(&StreamEvent::delta("p", Delta::Text { text: "x".into() })),
        Err(ReduceError::Misplaced { .. })
    ));
    assert!(matches!(
        t.apply(&StreamEvent::delta(
            "p",
            Delta::Item {
                item: ListItem::default()
            }
        )),
        Err(ReduceError::Misplaced { .. })
    ));
    assert_eq!(
        t.apply(&StreamEvent::delta("p", Delta::Unknown)),
        Err(ReduceError::UnknownOp)
    );
    assert_eq!(t.draft().unwrap().parts, vec![rich("p")]);
}

#[test]
fn error_event_keeps_the_partial_answer() {
    let mut t = Transcript::new();
    for ev in stream_of(&["half an ans"]) {
        t.apply(&ev).unwrap();
    }
    let err = StreamErrorEvent {
        code: StreamErrorCode::GenerationFailed,
        message: "Failed".into(),
        retryable: true,
    };
    let c = t.apply(&StreamEvent::Error(err.clone())).unwrap();
    assert_eq!(
        c,
        Change::Failed {
            error: err.clone(),
            kept: Some(0)
        }
    );
    assert_eq!(t.messages()[0].plain_text(), "half an ans");

    let mut empty = Transcript::new();
    assert_eq!(
        empty.apply(&StreamEvent::Error(err.clone())).unwrap(),
        Change::Failed {
            error: err,
            kept: None
        }
    );
}

// ---- property tests ----

#[test]
fn an_older_page_of_history_goes_before_what_is_held() {
    let msg = |id: &str| Message {
        message_id: id.into(),
        role: Role::User,
        parts: vec![Part::text(id)],
        created_at: None,
        author: None,
        feedback: None,
    };
    let mut t = Transcript::new();
    t.push(msg("m3"));
    t.push(msg("m4"));
    t.prepend(vec![msg("m1"), msg("m2")]);
    t.prepend(vec![]);
    let ids: Vec<&str> = t.messages().iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3", "m4"]);
}

fn sse_bytes(events: &[(String, String)], crlf: bool) -> Vec<u8> {
    let nl = if crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    for (i, (name, data)) in events.iter().enumerate() {
        if i % 3 == 0 {
            out.push_str(&format!(": keep-alive{nl}"));
        }
        out.push_str(&format!("event: {name}{nl}"));
        for line in data.split('\n') {
            out.push_str(&format!("data: {line}{nl}"));
        }
        out.push_str(nl);
    }
    out.into_bytes()
}

fn chunked(bytes: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut p = SseParser::new();
    let mut out = vec![];
    let mut last = 0;
    for c in cuts.into_iter().chain([bytes.len()]) {
        p.feed(&bytes[last..c], &mut out);
        last = c;
    }
    out
}

fn arb_delta() -> impl Strategy<Value = StreamEvent> {
    let id = prop::sample::select(vec!["a", "b", "c"]);
    let text = "[a-zé€ <>\"]{0,6}";
    let delta = prop_oneof![
        Just(Delta::Start { part: rich("x") }),
        Just(Delta::Start {
            part: Part::Unknown
        }),
        Just(Delta::Block {
            block: Block::paragraph(vec![])
        }),
        Just(Delta::Block {
            block: Block::BulletList { items: vec![] }
        }),
        Just(Delta::Block {
            block: Block::Unknown
        }),
        Just(Delta::Item {
            item: ListItem::default()
        }),
        Just(Delta::Row { row: vec![] }),
        Just(Delta::Product {
            product: Default::default()
        }),
        Just(Delta::Start {
            part: Part::Table(Default::default())
        }),
        Just(Delta::Start {
            part: Part::Products(Default::default())
        }),
        text.prop_map(|t| Delta::Span {
            span: Span::text(t)
        }),
        text.prop_map(|t| Delta::Text { text: t }),
        Just(Delta::Unknown),
    ];
    (id, delta).prop_map(|(id, d)| StreamEvent::delta(id, d))
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_events(
        events in prop::collection::vec(("[a-z_]{1,10}", "[a-z {}\":é€\n]{0,40}"), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
        crlf in any::<bool>(),
    ) {
        let bytes = sse_bytes(&events, crlf);
        let whole = chunked(&bytes, &[]);
        prop_assert_eq!(whole.len(), events.len());
        for (got, (name, data)) in whole.iter().zip(&events) {
            prop_assert_eq!(&got.event, name);
            prop_assert_eq!(&got.data, data);
        }
        prop_assert_eq!(chunked(&bytes, &cuts), whole);
    }

    #[test]
    fn random_delta_sequences_never_panic_and_text_only_grows(events in prop::collection::vec(arb_delta(), 0..60)) {
        let mut t = Transcript::new();
        for ev in &events {
            let before = t.draft().map(|d| d.parts.len()).unwrap_or(0);
            if let Ok(Change::PartStarted { part }) = t.apply(ev) { prop_assert_eq!(part, before) }
            prop_assert!(t.draft().map(|d| d.parts.len()).unwrap_or(0) >= before);
        }
    }
}

fn arb_span() -> impl Strategy<Value = Span> {
    ("[a-z ]{0,12}", 0..4u8).prop_map(|(t, k)| match k {
        0 => Span::text(t),
        1 => Span::bold(t),
        2 => Span::strike(t),
        _ => Span::link(t, "https://example.com"),
    })
}

fn arb_rich_text() -> impl Strategy<Value = RichText> {
    let block = prop_oneof![
        prop::collection::vec(arb_span(), 0..4).prop_map(Block::paragraph),
        prop::collection::vec(prop::collection::vec(arb_span(), 0..3), 0..3).prop_map(|items| {
            Block::BulletList {
                items: items.into_iter().map(|spans| ListItem { spans }).collect(),
            }
        }),
    ];
    prop::collection::vec(block, 0..5).prop_map(|blocks| RichText {
        part_id: "p9".into(),
        blocks,
    })
}

proptest! {
    #[test]
    fn streaming_deltas_rebuilds_the_part_exactly(part in arb_rich_text()) {
        let mut t = Transcript::new();
        for d in dgbot_protocol::stream::rich_text_deltas(&part) {
            t.apply(&StreamEvent::delta(&part.part_id, d)).unwrap();
        }
        prop_assert_eq!(&t.draft().unwrap().parts, &vec![Part::RichText(part)]);
    }
}

#[test]
fn split_words_keeps_whitespace() {
    use dgbot_protocol::stream::split_words;
    assert_eq!(
        split_words("Standard shipping  takes 2–4"),
        vec!["Standard", " shipping", "  takes", " 2–4"]
    );
    assert_eq!(split_words(" lead"), vec![" lead"]);
    assert_eq!(split_words(""), Vec::<&str>::new());
    assert_eq!(split_words("tail "), vec!["tail", " "]);
}

#[test]
fn tables_and_products_stream_row_by_row_and_card_by_card() {
    use dgbot_protocol::message::{Product, ProductsPart, TableCell, TablePart};
    use dgbot_protocol::stream::part_deltas;
    let table = Part::Table(TablePart {
        part_id: "t".into(),
        caption: None,
        columns: vec![TableCell::text("Lamp"), TableCell::text("Price")],
        rows: vec![
            vec![TableCell::text("Aurora"), TableCell::text("1.299 kr")],
            vec![TableCell::text("Fjord"), TableCell::text("749 kr")],
        ],
    });
    let products = Part::Products(ProductsPart {
        part_id: "p".into(),
        products: vec![Product {
            title: "Aurora".into(),
            url: "https://a".into(),
            price: Some(1299.0),
            currency: Some("DKK".into()),
            ..Default::default()
        }],
    });
    let mut t = Transcript::new();
    let mut changes = vec![];
    for part in [&table, &products] {
        for d in part_deltas(part).unwrap() {
            changes.push(
                t.apply(&StreamEvent::delta(part.part_id().unwrap(), d))
                    .unwrap(),
            );
        }
    }
    assert_eq!(changes[1], Change::RowAppended { part: 0, row: 0 });
    assert_eq!(
        changes[4],
        Change::ProductAppended {
            part: 1,
            product: 0
        }
    );
    assert_eq!(t.draft().unwrap().parts, vec![table, products]);
    assert!(
        part_deltas(&Part::Unknown).is_none(),
        "markers are sent whole"
    );
    assert!(matches!(
        t.apply(&StreamEvent::delta(
            "t",
            Delta::Product {
                product: Product::default()
            }
        )),
        Err(ReduceError::Misplaced { op: "product", .. })
    ));
    assert!(matches!(
        t.apply(&StreamEvent::delta("p", Delta::Row { row: vec![] })),
        Err(ReduceError::Misplaced { op: "row", .. })
    ));
}
