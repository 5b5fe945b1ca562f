//! The reactive mirror of the transcript that components render.
//!
//! `dgbot_protocol::Transcript` owns the plain data and says what each stream event changed;
//! [`MessageVm::apply`] updates only that piece here, so one `part_delta` costs O(delta) in the
//! DOM too: a new span appends one node, appended text updates one short text segment (a span's
//! text is kept in segments of at most [`SEGMENT_BYTES`], so a long answer never re-sets a long
//! string). Plain Rust with `ArcRwSignal`s: tested natively.

use dgbot_protocol::api::FeedbackValue;
use dgbot_protocol::message::{
    Block, FilePart, ImagePart, ListItem, Part, Product, Span, SpanKind, TableCell,
};
use dgbot_protocol::transcript::{Change, Draft, SpanPath};
use dgbot_protocol::{Message, Role};
use leptos::prelude::*;

static NEXT_KEY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A page-unique key for list items.
pub fn next_key() -> u64 {
    NEXT_KEY.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Text segments grow up to this many bytes before a new segment starts.
pub const SEGMENT_BYTES: usize = 256;

/// At most this many bytes of one span are shown; the rest becomes "…". Real answers never
/// come near it, and a hostile or broken server sending one huge unbroken string would
/// otherwise make the browser spend seconds laying it out on every update. The transcript
/// keeps the whole text.
pub const MAX_SPAN_BYTES: usize = 20_000;

#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// A visitor message on its way; an assistant message streaming.
    Pending,
    Done,
    /// A visitor message the server never got: kept, with a resend action.
    Unsent(String),
    /// An assistant answer cut short (stream error, dropped connection, stop); `retry` when
    /// asking again may help.
    Incomplete {
        why: String,
        retry: bool,
    },
}

#[derive(Clone)]
pub struct MessageVm {
    /// Unique and stable within the page: the list key.
    pub key: u64,
    pub role: Role,
    pub parts: ArcRwSignal<Vec<PartVm>>,
    pub delivery: ArcRwSignal<Delivery>,
    /// For an assistant answer: the visitor's text it answers (to ask again).
    pub prompt: Option<String>,
    /// A visitor message's own id (sent as `Idempotency-Key`, so a retry is stored once); for
    /// an answer, the id of the message it answers.
    pub client_id: Option<String>,
    /// The server's id, for a message restored or polled from it.
    pub message_id: Option<String>,
    /// An agent message's author: the display name.
    pub author: Option<String>,
    /// When it was said (RFC 3339): the server's, or the moment this page sent or got it.
    pub created_at: Option<String>,
    /// An answer's per-answer feedback, as the visitor last gave it (its controls keep their
    /// own signal of it, in the `text` chunk).
    pub feedback: Option<FeedbackValue>,
    /// A question sent by "edit" or "ask again": the id of the answer it replaces.
    pub replaces: Option<String>,
}

#[derive(Clone)]
pub struct PartVm {
    /// Unique: a replaced part gets a new key, so the list redraws it.
    pub key: u64,
    pub body: PartBody,
}

#[derive(Clone)]
pub enum PartBody {
    RichText {
        blocks: ArcRwSignal<Vec<BlockVm>>,
    },
    Text(String),
    Image(ImagePart),
    /// A livechat attachment: a download link.
    File(FilePart),
    Table {
        caption: Option<String>,
        columns: Vec<TableCell>,
        rows: ArcRwSignal<Vec<Vec<TableCell>>>,
    },
    Products {
        products: ArcRwSignal<Vec<Product>>,
    },
    /// Where a grounded answer comes from: links under it.
    Sources(Vec<dgbot_protocol::message::Source>),
    /// Follow-up questions: chips after the answer.
    Suggestions(Vec<String>),
    /// The markers: rendered whole by their own components.
    Marker(Part),
    Unknown,
}

#[derive(Clone)]
pub enum BlockVm {
    Paragraph {
        spans: ArcRwSignal<Vec<SpanVm>>,
    },
    BulletList {
        items: ArcRwSignal<Vec<ArcRwSignal<Vec<SpanVm>>>>,
    },
    Unknown,
}

#[derive(Clone)]
pub struct SpanVm {
    pub kind: SpanKind,
    /// Already allow-listed (`Span::safe_url`): `None` renders the span as plain text.
    pub href: Option<String>,
    pub segments: ArcRwSignal<Vec<ArcRwSignal<String>>>,
}

impl SpanVm {
    fn new(span: &Span) -> Self {
        let vm = SpanVm {
            kind: span.kind,
            href: span.safe_url().map(str::to_owned),
            segments: ArcRwSignal::new(vec![]),
        };
        vm.append(&span.text);
        vm
    }

    /// Append text: into the last segment while it is short, else into a new one; past
    /// [`MAX_SPAN_BYTES`] only an ellipsis, once.
    pub fn append(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        let shown: usize = self
            .segments
            .with_untracked(|s| s.iter().map(|seg| seg.with_untracked(String::len)).sum());
        if shown >= MAX_SPAN_BYTES {
            return;
        }
        let room = MAX_SPAN_BYTES - shown;
        let capped;
        let text = if text.len() > room {
            let mut end = room;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            capped = format!("{}…", &text[..end]);
            capped.as_str()
        } else {
            text
        };
        let last = self.segments.with_untracked(|s| s.last().cloned());
        match last {
            Some(seg) if seg.with_untracked(|s| s.len()) < SEGMENT_BYTES => {
                seg.update(|s| s.push_str(text))
            }
            _ => self
                .segments
                .update(|s| s.push(ArcRwSignal::new(text.to_owned()))),
        }
    }

    pub fn text(&self) -> String {
        self.segments
            .with_untracked(|s| s.iter().map(|seg| seg.get_untracked()).collect())
    }
}

fn spans_vm(spans: &[Span]) -> ArcRwSignal<Vec<SpanVm>> {
    ArcRwSignal::new(spans.iter().map(SpanVm::new).collect())
}

fn item_vm(item: &ListItem) -> ArcRwSignal<Vec<SpanVm>> {
    spans_vm(&item.spans)
}

impl BlockVm {
    pub fn new(block: &Block) -> Self {
        match block {
            Block::Paragraph { spans } => BlockVm::Paragraph {
                spans: spans_vm(spans),
            },
            Block::BulletList { items } => BlockVm::BulletList {
                items: ArcRwSignal::new(items.iter().map(item_vm).collect()),
            },
            Block::Unknown => BlockVm::Unknown,
        }
    }
}

impl PartVm {
    pub fn new(part: &Part) -> Self {
        let body = match part {
            Part::RichText(rt) => PartBody::RichText {
                blocks: ArcRwSignal::new(rt.blocks.iter().map(BlockVm::new).collect()),
            },
            Part::Text(t) => PartBody::Text(t.text.clone()),
            Part::Image(i) => PartBody::Image(i.clone()),
            Part::File(f) => PartBody::File(f.clone()),
            Part::Table(t) => PartBody::Table {
                caption: t.caption.clone(),
                columns: t.columns.clone(),
                rows: ArcRwSignal::new(t.rows.clone()),
            },
            Part::Products(p) => PartBody::Products {
                products: ArcRwSignal::new(p.products.clone()),
            },
            Part::Sources(s) => PartBody::Sources(s.sources.clone()),
            Part::Suggestions(s) => PartBody::Suggestions(s.suggestions.clone()),
            Part::ShowContactForm(_)
            | Part::ShowSupportTicket(_)
            | Part::RequestImageUpload(_)
            | Part::RequestHumanAgent(_)
            | Part::Custom(_) => PartBody::Marker(part.clone()),
            Part::Unknown => PartBody::Unknown,
        };
        PartVm {
            key: next_key(),
            body,
        }
    }
}

impl MessageVm {
    pub fn new(key: u64, role: Role, parts: &[Part], delivery: Delivery) -> Self {
        MessageVm {
            key,
            role,
            parts: ArcRwSignal::new(parts.iter().map(PartVm::new).collect()),
            delivery: ArcRwSignal::new(delivery),
            prompt: None,
            client_id: None,
            message_id: None,
            author: None,
            created_at: None,
            feedback: None,
            replaces: None,
        }
    }

    /// The message's plain `text` parts, joined (what a visitor typed).
    pub fn text(&self) -> String {
        self.parts.with_untracked(|parts| {
            parts
                .iter()
                .filter_map(|p| match &p.body {
                    PartBody::Text(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    pub fn from_message(key: u64, m: &Message) -> Self {
        let mut vm = Self::new(key, m.role, &m.parts, Delivery::Done);
        vm.message_id = Some(m.message_id.clone());
        vm.author = m.author.as_ref().map(|a| a.display_name.clone());
        vm.created_at = m.created_at.clone();
        vm.feedback = m.feedback.as_ref().map(|f| f.value);
        vm
    }

    /// The follow-up questions the answer ends with, if any.
    pub fn suggestions(&self) -> Vec<String> {
        self.parts.with(|parts| {
            parts
                .iter()
                .find_map(|p| match &p.body {
                    PartBody::Suggestions(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default()
        })
    }

    pub fn with_prompt(mut self, prompt: &str, client_id: Option<String>) -> Self {
        self.prompt = Some(prompt.to_owned());
        self.client_id = client_id;
        self
    }

    pub fn with_client_id(mut self, client_id: String) -> Self {
        self.client_id = Some(client_id);
        self
    }

    /// The parts a visitor message was sent with (as kept here), to send it again.
    pub fn sent_parts(&self) -> Vec<Part> {
        self.parts.with_untracked(|parts| {
            parts
                .iter()
                .filter_map(|p| match &p.body {
                    PartBody::Text(t) => Some(Part::text(t)),
                    PartBody::Image(i) => Some(Part::Image(i.clone())),
                    PartBody::File(f) => Some(Part::File(f.clone())),
                    _ => None,
                })
                .collect()
        })
    }

    /// Replace all parts (a `done` whose message differs from the draft).
    pub fn set_parts(&self, parts: &[Part]) {
        self.parts.set(parts.iter().map(PartVm::new).collect());
    }

    fn blocks(&self, part: usize) -> Option<ArcRwSignal<Vec<BlockVm>>> {
        self.parts
            .with_untracked(|p| match p.get(part).map(|p| &p.body) {
                Some(PartBody::RichText { blocks }) => Some(blocks.clone()),
                _ => None,
            })
    }

    fn spans(&self, at: &SpanPath) -> Option<ArcRwSignal<Vec<SpanVm>>> {
        let blocks = self.blocks(at.part)?;
        blocks.with_untracked(|b| match (b.get(at.block)?, at.item) {
            (BlockVm::Paragraph { spans }, None) => Some(spans.clone()),
            (BlockVm::BulletList { items }, Some(i)) => {
                items.with_untracked(|items| items.get(i).cloned())
            }
            _ => None,
        })
    }

    /// Mirror one change of the draft. Returns false when the change does not fit (the caller
    /// then redraws from the draft), which cannot happen while both follow the same events.
    pub fn apply(&self, change: &Change, draft: &Draft) -> bool {
        let rich = |part: usize| match draft.parts.get(part) {
            Some(Part::RichText(rt)) => Some(rt),
            _ => None,
        };
        match change {
            Change::PartStarted { part } => {
                let Some(p) = draft.parts.get(*part) else {
                    return false;
                };
                self.parts.update(|parts| parts.push(PartVm::new(p)));
                true
            }
            Change::PartReplaced { part } => {
                let Some(p) = draft.parts.get(*part) else {
                    return false;
                };
                self.parts.update(|parts| {
                    if let Some(slot) = parts.get_mut(*part) {
                        *slot = PartVm::new(p);
                    }
                });
                true
            }
            Change::BlockAppended { part, block } => {
                let (Some(blocks), Some(b)) = (
                    self.blocks(*part),
                    rich(*part).and_then(|rt| rt.blocks.get(*block)),
                ) else {
                    return false;
                };
                blocks.update(|bs| bs.push(BlockVm::new(b)));
                true
            }
            Change::ItemAppended { part, block, item } => {
                let Some(Block::BulletList { items }) =
                    rich(*part).and_then(|rt| rt.blocks.get(*block))
                else {
                    return false;
                };
                let Some(new_item) = items.get(*item) else {
                    return false;
                };
                let Some(blocks) = self.blocks(*part) else {
                    return false;
                };
                blocks.with_untracked(|bs| match bs.get(*block) {
                    Some(BlockVm::BulletList { items }) => {
                        items.update(|is| is.push(item_vm(new_item)));
                        true
                    }
                    _ => false,
                })
            }
            Change::SpanAppended(at) => {
                let (Some(spans), Some(span)) = (self.spans(at), draft_span(draft, at)) else {
                    return false;
                };
                spans.update(|s| s.push(SpanVm::new(span)));
                true
            }
            Change::TextAppended { at, from } => {
                let (Some(spans), Some(span)) = (self.spans(at), draft_span(draft, at)) else {
                    return false;
                };
                let Some(new_text) = span.text.get(*from..) else {
                    return false;
                };
                spans
                    .with_untracked(|s| s.get(at.span).map(|vm| vm.append(new_text)))
                    .is_some()
            }
            Change::RowAppended { part, row } => {
                let Some(Part::Table(t)) = draft.parts.get(*part) else {
                    return false;
                };
                let Some(new_row) = t.rows.get(*row) else {
                    return false;
                };
                self.parts
                    .with_untracked(|p| match p.get(*part).map(|p| &p.body) {
                        Some(PartBody::Table { rows, .. }) => {
                            rows.update(|r| r.push(new_row.clone()));
                            true
                        }
                        _ => false,
                    })
            }
            Change::ProductAppended { part, product } => {
                let Some(Part::Products(p)) = draft.parts.get(*part) else {
                    return false;
                };
                let Some(new_product) = p.products.get(*product) else {
                    return false;
                };
                self.parts
                    .with_untracked(|p| match p.get(*part).map(|p| &p.body) {
                        Some(PartBody::Products { products }) => {
                            products.update(|ps| ps.push(new_product.clone()));
                            true
                        }
                        _ => false,
                    })
            }
            Change::Status(_) | Change::Done { .. } | Change::Failed { .. } => true,
        }
    }
}

fn draft_span<'a>(draft: &'a Draft, at: &SpanPath) -> Option<&'a Span> {
    let Some(Part::RichText(rt)) = draft.parts.get(at.part) else {
        return None;
    };
    match (rt.blocks.get(at.block)?, at.item) {
        (Block::Paragraph { spans }, None) => spans.get(at.span),
        (Block::BulletList { items }, Some(i)) => items.get(i)?.spans.get(at.span),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::message::RichText;
    use dgbot_protocol::stream::rich_text_deltas;
    use dgbot_protocol::{StreamEvent, Transcript};

    fn vm_text(vm: &MessageVm) -> Vec<String> {
        let mut out = vec![];
        vm.parts.with_untracked(|parts| {
            for p in parts {
                if let PartBody::RichText { blocks } = &p.body {
                    blocks.with_untracked(|bs| {
                        for b in bs {
                            match b {
                                BlockVm::Paragraph { spans } => out.push(
                                    spans.with_untracked(|s| s.iter().map(SpanVm::text).collect()),
                                ),
                                BlockVm::BulletList { items } => items.with_untracked(|is| {
                                    for i in is {
                                        out.push(format!(
                                            "• {}",
                                            i.with_untracked(|s| s
                                                .iter()
                                                .map(SpanVm::text)
                                                .collect::<String>())
                                        ));
                                    }
                                }),
                                BlockVm::Unknown => out.push("?".into()),
                            }
                        }
                    })
                }
            }
        });
        out
    }

    #[test]
    fn mirrors_a_streamed_answer_and_keeps_segments_short() {
        let long = "word ".repeat(400);
        let part = RichText {
            part_id: "p".into(),
            blocks: vec![
                Block::paragraph(vec![
                    Span::text(long.trim_end()),
                    Span::link("evil", "javascript:alert(1)"),
                ]),
                Block::BulletList {
                    items: vec![ListItem {
                        spans: vec![Span::bold("a"), Span::text(" b")],
                    }],
                },
            ],
        };
        let mut t = Transcript::new();
        let vm = MessageVm::new(1, Role::Assistant, &[], Delivery::Pending);
        for d in rich_text_deltas(&part) {
            let change = t.apply(&StreamEvent::delta("p", d)).unwrap();
            assert!(vm.apply(&change, t.draft().unwrap()));
        }
        assert_eq!(
            vm_text(&vm),
            vec![format!("{}evil", long.trim_end()), "• a b".to_owned()]
        );
        let PartBody::RichText { blocks } = &vm.parts.get_untracked()[0].body else {
            panic!()
        };
        let BlockVm::Paragraph { spans } = &blocks.get_untracked()[0] else {
            panic!()
        };
        let spans = spans.get_untracked();
        let segments = spans[0].segments.get_untracked();
        assert!(segments.len() > 1);
        assert!(
            segments
                .iter()
                .all(|s| s.get_untracked().len() < SEGMENT_BYTES + 8)
        );
        assert_eq!(
            spans[1].href, None,
            "javascript: links are not kept as links"
        );
    }

    #[test]
    fn a_huge_span_is_shown_capped_once() {
        let vm = SpanVm::new(&Span::text("é".repeat(MAX_SPAN_BYTES)));
        vm.append(" more");
        let text = vm.text();
        assert!(
            text.ends_with('…') && text.len() <= MAX_SPAN_BYTES + '…'.len_utf8(),
            "{}",
            text.len()
        );
        assert_eq!(text.matches('…').count(), 1);
        let small = SpanVm::new(&Span::text("fine"));
        small.append(" and more");
        assert_eq!(small.text(), "fine and more");
    }
}

#[cfg(test)]
mod part_tests {
    use super::*;
    use dgbot_protocol::message::{ProductsPart, TablePart};
    use dgbot_protocol::stream::part_deltas;
    use dgbot_protocol::{StreamEvent, Transcript};

    #[test]
    fn tables_and_products_grow_in_place() {
        let table = Part::Table(TablePart {
            part_id: "t".into(),
            caption: None,
            columns: vec![TableCell::text("A")],
            rows: vec![vec![TableCell::text("1")], vec![TableCell::text("2")]],
        });
        let products = Part::Products(ProductsPart {
            part_id: "p".into(),
            products: vec![Product::default(), Product::default()],
        });
        let mut t = Transcript::new();
        let vm = MessageVm::new(1, Role::Assistant, &[], Delivery::Pending);
        for part in [&table, &products] {
            for d in part_deltas(part).unwrap() {
                let change = t
                    .apply(&StreamEvent::delta(part.part_id().unwrap(), d))
                    .unwrap();
                assert!(vm.apply(&change, t.draft().unwrap()), "{change:?}");
            }
        }
        let parts = vm.parts.get_untracked();
        let PartBody::Table { rows, .. } = &parts[0].body else {
            panic!()
        };
        assert_eq!(rows.get_untracked().len(), 2);
        let PartBody::Products { products } = &parts[1].body else {
            panic!()
        };
        assert_eq!(products.get_untracked().len(), 2);
    }
}
