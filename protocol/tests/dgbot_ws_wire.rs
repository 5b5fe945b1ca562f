//! Seed 001's frames, from the seed's own examples: they decode to our types and ours encode to
//! exactly the seed's shapes. And the text of a structured stream, chunk by chunk.

use dgbot_protocol::dgbot_ws::{ClientFrame, ServerFrame, TextChunks, decode_client_frame};
use dgbot_protocol::stream::{DoneEvent, part_deltas};
use dgbot_protocol::{Block, Message, Part, RichText, Role, Span, StreamEvent};
use serde_json::{Value, json};

fn encodes_to(frame: ServerFrame, seed: &str) {
    let seed: Value = serde_json::from_str(seed).unwrap();
    assert_eq!(serde_json::to_value(&frame).unwrap(), seed);
    assert_eq!(serde_json::from_value::<ServerFrame>(seed).unwrap(), frame);
}

#[test]
fn the_seeds_client_frames() {
    assert_eq!(
        decode_client_frame(
            r#"{
"type": "message",
"content": "What are your shipping times?"
}"#
        ),
        Ok(ClientFrame::Message {
            content: "What are your shipping times?".into()
        })
    );
    assert_eq!(
        decode_client_frame(r#"{ "type": "ping" }"#),
        Ok(ClientFrame::Ping)
    );
    assert!(
        decode_client_frame(r#"{"type":"shout"}"#)
            .unwrap_err()
            .contains("unknown frame type")
    );
    assert!(decode_client_frame("[1]").unwrap_err().contains("\"type\""));
}

#[test]
fn the_seeds_server_frames() {
    let id = || "msg_abc123".to_owned();
    encodes_to(
        ServerFrame::StreamStart { message_id: id() },
        r#"{ "type": "stream_start", "message_id": "msg_abc123" }"#,
    );
    encodes_to(
        ServerFrame::StreamChunk {
            message_id: id(),
            content: "Standard".into(),
        },
        r#"{ "type": "stream_chunk", "message_id": "msg_abc123", "content": "Standard" }"#,
    );
    encodes_to(
        ServerFrame::StreamEnd { message_id: id() },
        r#"{ "type": "stream_end", "message_id": "msg_abc123" }"#,
    );
    encodes_to(
        ServerFrame::ToolAction {
            tool: "search_products".into(),
            status: "calling".into(),
        },
        r#"{ "type": "tool_action", "tool": "search_products", "status": "calling" }"#,
    );
    encodes_to(
        ServerFrame::ToolActionResult {
            tool: "search_products".into(),
            status: "error".into(),
        },
        r#"{ "type": "tool_action_result", "tool": "search_products", "status": "error" }"#,
    );
    encodes_to(
        ServerFrame::HandoffOffered {
            message: "Want a person?".into(),
        },
        r#"{ "type": "handoff_offered", "message": "Want a person?" }"#,
    );
    encodes_to(
        ServerFrame::AgentJoined {
            agent_name: "Alice".into(),
        },
        r#"{ "type": "agent_joined", "agent_name": "Alice" }"#,
    );
    encodes_to(
        ServerFrame::AgentMessage {
            content: "Hi".into(),
            agent_name: "Alice".into(),
        },
        r#"{ "type": "agent_message", "content": "Hi", "agent_name": "Alice" }"#,
    );
    encodes_to(ServerFrame::AgentLeft, r#"{ "type": "agent_left" }"#);
    encodes_to(ServerFrame::Pong, r#"{ "type": "pong" }"#);
    encodes_to(
        ServerFrame::error("bad_frame", "not JSON"),
        r#"{ "type": "error", "code": "bad_frame", "message": "not JSON" }"#,
    );
}

/// The seed's own example answer, streamed as structured deltas: the chunks concatenate to
/// the text, and `done` adds what is left.
#[test]
fn chunks_concatenate_to_the_answer() {
    let message = Message {
        message_id: "msg_abc123".into(),
        role: Role::Assistant,
        parts: vec![
            Part::RichText(RichText {
                part_id: "p1".into(),
                blocks: vec![
                    Block::paragraph(vec![
                        Span::text("Standard shipping takes "),
                        Span::bold("5–7 business days"),
                        Span::text("."),
                    ]),
                    Block::paragraph(vec![Span::text("Express is faster.")]),
                ],
            }),
            Part::RichText(RichText {
                part_id: "p2".into(),
                blocks: vec![Block::paragraph(vec![Span::text("Anything else?")])],
            }),
        ],
        created_at: None,
        author: None,
        feedback: None,
    };
    let mut chunks = TextChunks::new();
    let mut got = Vec::new();
    for part in &message.parts {
        for delta in part_deltas(part).unwrap() {
            let ev = StreamEvent::delta(part.part_id().unwrap(), delta);
            got.extend(chunks.push(&ev));
        }
    }
    assert!(got.len() >= 4, "{got:?}");
    got.extend(chunks.push(&StreamEvent::Done(DoneEvent {
        message: message.clone(),
    })));
    assert_eq!(got.concat(), message.plain_text());
    assert_eq!(chunks.text(), message.plain_text());
    assert_eq!(
        serde_json::to_value(ClientFrame::Typing { is_typing: true }).unwrap(),
        json!({ "type": "typing", "is_typing": true })
    );
}

#[test]
fn a_reader_that_fell_behind_loses_no_words() {
    let message = Message {
        message_id: "m1".into(),
        role: Role::Assistant,
        parts: vec![Part::RichText(RichText {
            part_id: "p1".into(),
            blocks: vec![Block::paragraph(vec![Span::text(
                "Standard shipping takes 2–4 business days within Denmark.",
            )])],
        })],
        created_at: None,
        author: None,
        feedback: None,
    };
    let part = &message.parts[0];
    let deltas: Vec<StreamEvent> = part_deltas(part)
        .unwrap()
        .into_iter()
        .map(|d| StreamEvent::delta(part.part_id().unwrap(), d))
        .collect();
    assert!(deltas.len() >= 4, "{}", deltas.len());
    let mut chunks = TextChunks::new();
    let mut got: Vec<String> = chunks.push(&deltas[0]).into_iter().collect();
    // Events 1 and 2 were never received (the hub's backlog overflowed).
    chunks.fell_behind();
    for ev in &deltas[3..] {
        got.extend(chunks.push(ev));
    }
    got.extend(chunks.push(&StreamEvent::Done(DoneEvent {
        message: message.clone(),
    })));
    assert_eq!(got.concat(), message.plain_text());
}
