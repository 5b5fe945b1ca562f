//! The transcript reducer: finished messages plus the assistant draft being streamed.
//!
//! `part_delta` grows the draft at O(size of the delta); `part` finalizes (replaces) one part;
//! `done.message` replaces the whole draft and is the source of truth; `error` ends the stream,
//! keeping whatever had arrived. Every `apply` returns a [`Change`] naming exactly what moved, so
//! a renderer can update only that (the iframe app mirrors the draft with fine-grained signals).
//! Malformed sequences return a [`ReduceError`] and leave the transcript as it was; nothing panics.

use std::collections::HashMap;

use crate::message::{Block, Message, Part, Role};
use crate::stream::{Delta, StreamErrorEvent, StreamEvent};

/// Where a span lives inside the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanPath {
    pub part: usize,
    pub block: usize,
    /// The bullet item, when the block is a `bullet_list`.
    pub item: Option<usize>,
    pub span: usize,
}

/// What an applied event changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Status(String),
    /// A new part was appended to the draft at this index.
    PartStarted {
        part: usize,
    },
    /// The part at this index was replaced whole (a `part` event or a repeated `start`).
    PartReplaced {
        part: usize,
    },
    BlockAppended {
        part: usize,
        block: usize,
    },
    ItemAppended {
        part: usize,
        block: usize,
        item: usize,
    },
    SpanAppended(SpanPath),
    /// Text was appended to a span; the new text is the span's text from byte `from` on.
    TextAppended {
        at: SpanPath,
        from: usize,
    },
    RowAppended {
        part: usize,
        row: usize,
    },
    ProductAppended {
        part: usize,
        product: usize,
    },
    /// The draft was replaced by `done.message`, now the last finished message. `same` is
    /// true when the streamed draft already equalled the final parts (nothing to redraw).
    Done {
        message: usize,
        same: bool,
    },
    /// The stream ended with an `error` event. A non-empty partial answer was kept as the
    /// last finished message (`kept`), for the app to mark incomplete.
    Failed {
        error: StreamErrorEvent,
        kept: Option<usize>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReduceError {
    /// A delta named a part that was never started.
    UnknownPart(String),
    /// The delta does not fit the part (e.g. a `block` op on a non-`rich_text` part, `text`
    /// before any span, `item` when the last block is not a bullet list).
    Misplaced { part_id: String, op: &'static str },
    /// An op from a newer protocol.
    UnknownOp,
}

impl std::fmt::Display for ReduceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReduceError::UnknownPart(id) => write!(f, "part_delta for unknown part `{id}`"),
            ReduceError::Misplaced { part_id, op } => {
                write!(f, "`{op}` delta does not fit part `{part_id}`")
            }
            ReduceError::UnknownOp => write!(f, "unknown part_delta op"),
        }
    }
}

impl std::error::Error for ReduceError {}

#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub parts: Vec<Part>,
    pub status: Option<String>,
    index: HashMap<String, usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Transcript {
    messages: Vec<Message>,
    draft: Option<Draft>,
}

impl Transcript {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn draft(&self) -> Option<&Draft> {
        self.draft.as_ref()
    }

    /// Append a finished message (the visitor's own, or one restored from history).
    pub fn push(&mut self, message: Message) -> usize {
        self.messages.push(message);
        self.messages.len() - 1
    }

    /// Put an older page of history before the messages held.
    pub fn prepend(&mut self, older: Vec<Message>) {
        self.messages.splice(0..0, older);
    }

    /// Forget the messages with these ids (a question and its answer that "ask again" or
    /// "edit" replaced).
    pub fn remove(&mut self, message_ids: &[String]) {
        self.messages
            .retain(|m| !message_ids.contains(&m.message_id));
    }

    /// Start a fresh assistant draft (dropping any unfinished one).
    pub fn begin_draft(&mut self) {
        self.draft = Some(Draft::default());
    }

    /// End the draft without `done` (stop button, dropped connection). A non-empty partial
    /// answer becomes a finished message with `message_id` `fallback_id`; returns its index.
    pub fn end_draft(&mut self, fallback_id: &str) -> Option<usize> {
        let draft = self.draft.take()?;
        if draft.parts.is_empty() {
            return None;
        }
        Some(self.push(Message {
            message_id: fallback_id.to_owned(),
            role: Role::Assistant,
            parts: draft.parts,
            created_at: None,
            author: None,
            feedback: None,
        }))
    }

    pub fn apply(&mut self, event: &StreamEvent) -> Result<Change, ReduceError> {
        match event {
            StreamEvent::Status(s) => {
                self.draft.get_or_insert_with(Draft::default).status = Some(s.status.clone());
                Ok(Change::Status(s.status.clone()))
            }
            StreamEvent::PartDelta(d) => self
                .draft
                .get_or_insert_with(Draft::default)
                .apply_delta(&d.part_id, &d.delta),
            StreamEvent::Part(p) => Ok(self
                .draft
                .get_or_insert_with(Draft::default)
                .put_part(p.part.clone())),
            StreamEvent::Done(done) => {
                let same = self
                    .draft
                    .take()
                    .is_some_and(|d| d.parts == done.message.parts);
                let message = self.push(done.message.clone());
                Ok(Change::Done { message, same })
            }
            StreamEvent::Error(error) => {
                let kept = self.end_draft("partial");
                Ok(Change::Failed {
                    error: error.clone(),
                    kept,
                })
            }
        }
    }
}

impl Draft {
    fn put_part(&mut self, part: Part) -> Change {
        match part.part_id().and_then(|id| self.index.get(id)).copied() {
            Some(i) => {
                self.parts[i] = part;
                Change::PartReplaced { part: i }
            }
            None => {
                if let Some(id) = part.part_id() {
                    self.index.insert(id.to_owned(), self.parts.len());
                }
                self.parts.push(part);
                Change::PartStarted {
                    part: self.parts.len() - 1,
                }
            }
        }
    }

    fn apply_delta(&mut self, part_id: &str, delta: &Delta) -> Result<Change, ReduceError> {
        let misplaced = |op| ReduceError::Misplaced {
            part_id: part_id.to_owned(),
            op,
        };
        if let Delta::Start { part } = delta {
            let mut part = part.clone();
            if let Part::RichText(rt) = &mut part {
                rt.part_id = part_id.to_owned();
            }
            return Ok(match self.index.get(part_id).copied() {
                Some(i) => {
                    self.parts[i] = part;
                    Change::PartReplaced { part: i }
                }
                None => {
                    self.index.insert(part_id.to_owned(), self.parts.len());
                    self.parts.push(part);
                    Change::PartStarted {
                        part: self.parts.len() - 1,
                    }
                }
            });
        }
        if matches!(delta, Delta::Unknown) {
            return Err(ReduceError::UnknownOp);
        }
        let pi = *self
            .index
            .get(part_id)
            .ok_or_else(|| ReduceError::UnknownPart(part_id.to_owned()))?;
        match (delta, &mut self.parts[pi]) {
            (Delta::Row { row }, Part::Table(t)) => {
                t.rows.push(row.clone());
                return Ok(Change::RowAppended {
                    part: pi,
                    row: t.rows.len() - 1,
                });
            }
            (Delta::Product { product }, Part::Products(p)) => {
                p.products.push(product.clone());
                return Ok(Change::ProductAppended {
                    part: pi,
                    product: p.products.len() - 1,
                });
            }
            (Delta::Row { .. }, _) => return Err(misplaced("row")),
            (Delta::Product { .. }, _) => return Err(misplaced("product")),
            _ => {}
        }
        let Part::RichText(rt) = &mut self.parts[pi] else {
            return Err(misplaced("rich_text op"));
        };
        let bi = rt.blocks.len().wrapping_sub(1);
        match delta {
            Delta::Block { block } => {
                rt.blocks.push(block.clone());
                Ok(Change::BlockAppended {
                    part: pi,
                    block: rt.blocks.len() - 1,
                })
            }
            Delta::Item { item } => match rt.blocks.last_mut() {
                Some(Block::BulletList { items }) => {
                    items.push(item.clone());
                    Ok(Change::ItemAppended {
                        part: pi,
                        block: bi,
                        item: items.len() - 1,
                    })
                }
                _ => Err(misplaced("item")),
            },
            Delta::Span { span } => {
                let (item, spans) =
                    last_spans(rt.blocks.last_mut()).ok_or_else(|| misplaced("span"))?;
                spans.push(span.clone());
                Ok(Change::SpanAppended(SpanPath {
                    part: pi,
                    block: bi,
                    item,
                    span: spans.len() - 1,
                }))
            }
            Delta::Text { text } => {
                let (item, spans) =
                    last_spans(rt.blocks.last_mut()).ok_or_else(|| misplaced("text"))?;
                let si = spans
                    .len()
                    .checked_sub(1)
                    .ok_or_else(|| misplaced("text"))?;
                let span = &mut spans[si];
                let from = span.text.len();
                span.text.push_str(text);
                Ok(Change::TextAppended {
                    at: SpanPath {
                        part: pi,
                        block: bi,
                        item,
                        span: si,
                    },
                    from,
                })
            }
            Delta::Start { .. } | Delta::Unknown | Delta::Row { .. } | Delta::Product { .. } => {
                unreachable!("handled above")
            }
        }
    }
}

/// The spans that `span` and `text` ops append to: the last paragraph's, or the last item's
/// of the last bullet list.
fn last_spans(block: Option<&mut Block>) -> Option<(Option<usize>, &mut Vec<crate::Span>)> {
    match block? {
        Block::Paragraph { spans } => Some((None, spans)),
        Block::BulletList { items } => {
            let i = items.len().checked_sub(1)?;
            Some((Some(i), &mut items[i].spans))
        }
        Block::Unknown => None,
    }
}
