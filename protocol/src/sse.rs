//! An incremental Server-Sent-Events parser (the WHATWG "event stream interpretation").
//!
//! Bytes may arrive in any chunking: lines may be split anywhere, including between the `\r`
//! and `\n` of a CRLF, and inside a multi-byte UTF-8 character. The parser buffers only the
//! incomplete current line, so feeding a chunk costs O(chunk). It does not know the transport.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or `"message"` when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen on the stream, if any.
    pub id: Option<String>,
}

#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    pending_cr: bool,
    first_line: bool,
    event: String,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    retry_ms: Option<u64>,
}

impl SseParser {
    pub fn new() -> Self {
        SseParser {
            first_line: true,
            ..Default::default()
        }
    }

    /// The reconnection time the server asked for with `retry:`, if any.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// Feed the next chunk of bytes; every event completed by it is pushed to `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) {
        if chunk.is_empty() {
            return; // an empty read must not forget a pending '\r'
        }
        if self.pending_cr {
            self.pending_cr = false;
            if chunk.first() == Some(&b'\n') {
                chunk = &chunk[1..];
            }
        }
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&chunk[..pos]);
            let terminator = chunk[pos];
            chunk = &chunk[pos + 1..];
            if terminator == b'\r' {
                match chunk.first() {
                    Some(b'\n') => chunk = &chunk[1..],
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
            self.line = line;
            self.line.clear();
        }
        self.line.extend_from_slice(chunk);
    }

    /// Convenience for tests and simple callers.
    pub fn feed_vec(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        self.feed(chunk, &mut out);
        out
    }

    fn process_line(&mut self, mut line: &[u8], out: &mut Vec<SseEvent>) {
        if self.first_line {
            self.first_line = false;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // comment (often a keep-alive)
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => self.event = value.into_owned(),
            b"data" => {
                self.data.push_str(&value);
                self.data.push('\n');
                self.has_data = true;
            }
            b"id" if !value.contains('\0') => {
                self.last_id = Some(value.into_owned());
            }
            b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {} // unknown fields are ignored
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        if !self.has_data {
            return;
        }
        self.has_data = false;
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the trailing '\n' added after the last data line
        out.push(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Vec<SseEvent> {
        SseParser::new().feed_vec(input)
    }

    #[test]
    fn seed_error_event() {
        let ev = parse_all(
            b"event: error\ndata: {\"code\":\"generation_failed\",\"message\":\"x\",\"retryable\":true}\n\n",
        );
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].event, "error");
        assert!(ev[0].data.starts_with("{\"code\""));
    }

    #[test]
    fn line_endings_comments_multiline_and_defaults() {
        let ev =
            parse_all(b": keep-alive\r\ndata: a\r\ndata:b\r\rdata: c\n\nid: 7\nevent: x\ndata\n\n");
        assert_eq!(ev.len(), 3);
        assert_eq!(
            ev[0],
            SseEvent {
                event: "message".into(),
                data: "a\nb".into(),
                id: None
            }
        );
        assert_eq!(ev[1].data, "c");
        assert_eq!(
            ev[2],
            SseEvent {
                event: "x".into(),
                data: "".into(),
                id: Some("7".into())
            }
        );
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_resets_name() {
        let ev = parse_all(b"event: status\n\ndata: 1\n\n");
        assert_eq!(
            ev,
            vec![SseEvent {
                event: "message".into(),
                data: "1".into(),
                id: None
            }]
        );
    }

    #[test]
    fn incomplete_trailing_event_is_held_back() {
        let mut p = SseParser::new();
        assert!(p.feed_vec(b"data: partial").is_empty());
        assert_eq!(p.feed_vec(b"\n\n").len(), 1);
    }

    #[test]
    fn bom_and_retry() {
        let mut p = SseParser::new();
        let ev = p.feed_vec(b"\xEF\xBB\xBFretry: 1500\ndata: x\n\n");
        assert_eq!(ev[0].data, "x");
        assert_eq!(p.retry_ms(), Some(1500));
    }

    #[test]
    fn crlf_split_across_chunks() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.feed(b"data: a\r", &mut out);
        p.feed(b"", &mut out);
        p.feed(b"\n\r", &mut out);
        p.feed(b"\n", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data, "a");
    }
}
