//! The SSE events of `POST /api/v1/chat/messages` (seed 002, "How streaming works"):
//! `status`, `part_delta`, `part`, `done`, `error`. The SSE `event:` line names the event; its
//! `data:` is the JSON payload below.
//!
//! The seed never shows a `part_delta`'s shape. Ours is a structured operation on the part
//! named by `part_id` (never raw markdown), so applying one costs O(size of the delta); see
//! `docs/protocol.md`.

use serde::{Deserialize, Serialize};

use crate::message::{
    Block, ListItem, Message, Part, Product, ProductsPart, Span, TableCell, TablePart,
};

/// `event: status`: lifecycle updates (`connected`, then `processing`). Ours: `tool_call`
/// while the assistant uses a tool (a custom API action), naming it in `tool` and saying what
/// it does in `label` ("order status": the widget shows "Looking up order status…").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StatusEvent {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// `event: part_delta`: one structured operation on a streamed part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartDeltaEvent {
    pub part_id: String,
    pub delta: Delta,
}

/// The `part_delta` grammar. Every op targets the part named by the event's `part_id`.
///
/// Decoded through the flat [`DeltaWire`] rather than serde's internally-tagged path: the
/// widget applies thousands of these, and the tagged decoder is several times the code size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", from = "DeltaWire")]
pub enum Delta {
    /// Begin a part, usually empty (`{"type":"rich_text","part_id":"p1","blocks":[]}`).
    Start { part: Part },
    /// Append a block to a `rich_text` part.
    Block { block: Block },
    /// Append an item to the part's last block, which must be a `bullet_list`.
    Item { item: ListItem },
    /// Append a span to the last paragraph, or to the last item of the last bullet list.
    Span { span: Span },
    /// Append text to the last span.
    Text { text: String },
    /// Append a row to a `table` part.
    Row { row: Vec<TableCell> },
    /// Append a product to a `products` part.
    Product { product: Product },
    /// An op from a newer server: ignored.
    #[serde(other)]
    Unknown,
}

impl Delta {
    /// The answer text this op adds (for the host's `stream_chunk`), if any.
    pub fn text(&self) -> Option<&str> {
        match self {
            Delta::Text { text } => Some(text),
            Delta::Span { span } => Some(&span.text),
            _ => None,
        }
    }
}

impl StreamErrorCode {
    /// The code as on the wire (`"generation_failed"`).
    pub fn as_str(self) -> &'static str {
        match self {
            StreamErrorCode::GenerationFailed => "generation_failed",
            StreamErrorCode::Unknown => "unknown",
        }
    }
}

/// The wire form of a [`Delta`]: `op` and whichever operand the op takes.
#[derive(Deserialize)]
pub struct DeltaWire {
    op: String,
    part: Option<Part>,
    block: Option<Block>,
    item: Option<ListItem>,
    span: Option<Span>,
    text: Option<String>,
    row: Option<Vec<TableCell>>,
    product: Option<Product>,
}

impl From<DeltaWire> for Delta {
    /// An unknown op, or a known op without its operand, is `Unknown` (ignored by the reducer).
    fn from(w: DeltaWire) -> Self {
        match w.op.as_str() {
            "start" => w.part.map(|part| Delta::Start { part }),
            "block" => w.block.map(|block| Delta::Block { block }),
            "item" => w.item.map(|item| Delta::Item { item }),
            "span" => w.span.map(|span| Delta::Span { span }),
            "text" => w.text.map(|text| Delta::Text { text }),
            "row" => w.row.map(|row| Delta::Row { row }),
            "product" => w.product.map(|product| Delta::Product { product }),
            _ => None,
        }
        .unwrap_or(Delta::Unknown)
    }
}

/// `event: part`: a finalized part; replaces the draft part with the same `part_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartEvent {
    pub part: Part,
}

/// `event: done`: the final assembled assistant message, the source of truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoneEvent {
    pub message: Message,
}

/// `event: error`: a terminal stream error. Not followed by `done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamErrorEvent {
    pub code: StreamErrorCode,
    pub message: String,
    #[serde(default)]
    pub retryable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamErrorCode {
    GenerationFailed,
    /// A code from a newer server; handled generically (show `message`, honour `retryable`).
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Status(StatusEvent),
    PartDelta(PartDeltaEvent),
    Part(PartEvent),
    Done(DoneEvent),
    Error(StreamErrorEvent),
}

/// Why an SSE event could not be turned into a [`StreamEvent`].
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub event: String,
    pub reason: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed `{}` event: {}", self.event, self.reason)
    }
}

impl std::error::Error for DecodeError {}

impl StreamEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            StreamEvent::Status(_) => "status",
            StreamEvent::PartDelta(_) => "part_delta",
            StreamEvent::Part(_) => "part",
            StreamEvent::Done(_) => "done",
            StreamEvent::Error(_) => "error",
        }
    }

    /// The JSON `data:` payload.
    pub fn data(&self) -> String {
        let json = match self {
            StreamEvent::Status(e) => serde_json::to_string(e),
            StreamEvent::PartDelta(e) => serde_json::to_string(e),
            StreamEvent::Part(e) => serde_json::to_string(e),
            StreamEvent::Done(e) => serde_json::to_string(e),
            StreamEvent::Error(e) => serde_json::to_string(e),
        };
        json.expect("stream events always serialize")
    }

    /// The event as it goes on the wire: `event: …\ndata: …\n\n`.
    pub fn to_sse(&self) -> String {
        format!("event: {}\ndata: {}\n\n", self.name(), self.data())
    }

    /// Decode an SSE event. `Ok(None)` for event names this widget does not know (ignored, so
    /// a newer server can add events); `Err` for a known event whose data is malformed.
    pub fn decode(event: &str, data: &str) -> Result<Option<StreamEvent>, DecodeError> {
        Self::decode_with(event, data, |d| {
            serde_json::from_str(d).map_err(|e| e.to_string())
        })
    }

    /// [`StreamEvent::decode`] with the JSON text parser given: the widget's is the browser's
    /// `JSON.parse`. `data` is parsed only for the events this widget knows.
    pub fn decode_with(
        event: &str,
        data: &str,
        parse_json: impl FnOnce(&str) -> Result<serde_json::Value, String>,
    ) -> Result<Option<StreamEvent>, DecodeError> {
        if !matches!(event, "status" | "part_delta" | "part" | "done" | "error") {
            return Ok(None);
        }
        let error = |reason: String| DecodeError {
            event: event.to_owned(),
            reason,
        };
        let json = parse_json(data).map_err(error)?;
        fn parse<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> Result<T, String> {
            crate::from_value(json).map_err(|e| e.to_string())
        }
        Ok(Some(match event {
            "status" => StreamEvent::Status(parse(json).map_err(error)?),
            "part_delta" => StreamEvent::PartDelta(parse(json).map_err(error)?),
            "part" => StreamEvent::Part(parse(json).map_err(error)?),
            "done" => StreamEvent::Done(parse(json).map_err(error)?),
            _ => StreamEvent::Error(parse(json).map_err(error)?),
        }))
    }

    pub fn status(status: &str) -> Self {
        StreamEvent::Status(StatusEvent {
            status: status.to_owned(),
            ..Default::default()
        })
    }

    /// `status: tool_call` for `tool`, which the visitor sees as "Looking up {label}…".
    pub fn tool_call(tool: &str, label: &str) -> Self {
        StreamEvent::Status(StatusEvent {
            status: "tool_call".to_owned(),
            tool: Some(tool.to_owned()),
            label: Some(label.to_owned()),
        })
    }

    pub fn delta(part_id: &str, delta: Delta) -> Self {
        StreamEvent::PartDelta(PartDeltaEvent {
            part_id: part_id.to_owned(),
            delta,
        })
    }
}

/// The deltas that stream `part` (a `rich_text`) progressively: `start` with an empty part,
/// then for every block a `block` (and `item`) op, for every span a `span` op with its first
/// word, and a `text` op per further word. Reducing them rebuilds `part` exactly (tested).
/// Words keep their leading whitespace, so concatenation restores the text.
pub fn rich_text_deltas(part: &crate::RichText) -> Vec<Delta> {
    fn span_ops(span: &Span, out: &mut Vec<Delta>) {
        let mut words = split_words(&span.text).into_iter();
        let first = words.next().unwrap_or("");
        out.push(Delta::Span {
            span: Span {
                text: first.to_owned(),
                ..span.clone()
            },
        });
        out.extend(words.map(|w| Delta::Text { text: w.to_owned() }));
    }
    let mut out = vec![Delta::Start {
        part: Part::RichText(crate::RichText {
            part_id: part.part_id.clone(),
            blocks: vec![],
        }),
    }];
    for block in &part.blocks {
        match block {
            Block::Paragraph { spans } => {
                out.push(Delta::Block {
                    block: Block::Paragraph { spans: vec![] },
                });
                spans.iter().for_each(|s| span_ops(s, &mut out));
            }
            Block::BulletList { items } => {
                out.push(Delta::Block {
                    block: Block::BulletList { items: vec![] },
                });
                for item in items {
                    out.push(Delta::Item {
                        item: ListItem::default(),
                    });
                    item.spans.iter().for_each(|s| span_ops(s, &mut out));
                }
            }
            Block::Unknown => out.push(Delta::Block {
                block: Block::Unknown,
            }),
        }
    }
    out
}

/// The deltas that stream `part` progressively, for the parts worth streaming: `rich_text`
/// word by word, `table` row by row, `products` card by card. `None` for parts that are sent
/// whole as a `part` event (images and markers).
pub fn part_deltas(part: &Part) -> Option<Vec<Delta>> {
    match part {
        Part::RichText(rt) => Some(rich_text_deltas(rt)),
        Part::Table(t) => {
            let empty = TablePart {
                rows: vec![],
                ..t.clone()
            };
            let mut out = vec![Delta::Start {
                part: Part::Table(empty),
            }];
            out.extend(t.rows.iter().map(|row| Delta::Row { row: row.clone() }));
            Some(out)
        }
        Part::Products(p) => {
            let empty = ProductsPart {
                part_id: p.part_id.clone(),
                products: vec![],
            };
            let mut out = vec![Delta::Start {
                part: Part::Products(empty),
            }];
            out.extend(p.products.iter().map(|product| Delta::Product {
                product: product.clone(),
            }));
            Some(out)
        }
        _ => None,
    }
}

/// Split text into words that keep their leading whitespace: `"a b  c"` → `["a", " b", "  c"]`.
pub fn split_words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if in_word {
                out.push(&text[start..i]);
                start = i;
                in_word = false;
            }
        } else {
            in_word = true;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}
