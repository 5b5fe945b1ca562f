//! Arbitrary bytes, cut into arbitrary chunks, through the SSE parser, the event decoder and
//! the transcript reducer, as the widget does with a stream. Must never panic; and the parser
//! must give the same events however the bytes are chunked.

#![no_main]

use dgbot_protocol::sse::SseParser;
use dgbot_protocol::{StreamEvent, Transcript};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cuts, bytes) = data.split_at(data.len().min(4));
    let mut whole = Vec::new();
    SseParser::new().feed(bytes, &mut whole);

    let mut parser = SseParser::new();
    let mut chunked = Vec::new();
    let mut rest = bytes;
    for &c in cuts {
        let at = (c as usize).min(rest.len());
        parser.feed(&rest[..at], &mut chunked);
        rest = &rest[at..];
    }
    parser.feed(rest, &mut chunked);
    assert_eq!(whole, chunked, "chunking changed the events");

    let mut transcript = Transcript::new();
    for sse in &whole {
        if let Ok(Some(event)) = StreamEvent::decode(&sse.event, &sse.data) {
            let _ = transcript.apply(&event);
        }
    }
});
