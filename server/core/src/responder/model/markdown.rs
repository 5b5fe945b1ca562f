//! A language model writes Markdown; the widget gets structured parts (`rich_text` blocks and
//! spans, `table`, `products`), never Markdown to parse. [`PartWriter`] turns the model's text,
//! as it streams in, into seed 002's `part_delta` events, with a real Markdown parser
//! (pulldown-cmark, tables and strikethrough on).
//!
//! How it stays O(delta) on the wire and right in the end:
//!
//! - The answer is parsed again as it grows, but only from the start of the last top-level
//!   block (a paragraph, a list, a table): blocks before it are closed, and Markdown never
//!   reopens a closed block, so they are *frozen* and never parsed or compared again.
//! - The fresh parse is compared with what the client already has; when it only adds (more text
//!   in the last span, a span, an item, a block, a row, a part), the additions go out as
//!   `text` / `span` / `item` / `block` / `row` / `start` ops. When it changes something already
//!   sent (a line turned out to be a table header, `**` closed into bold), the part goes out
//!   whole as a `part` event that replaces it: rare, because text that may still change its
//!   meaning (an unclosed `**`, `[`, a line that may become a list, a heading or a table row)
//!   is held back until the rest of its line arrives.
//! - At the end the whole text is parsed once more, and any difference is sent: the final parts
//!   depend only on the text, never on how it was chunked (a property test checks that the
//!   streamed events rebuild them exactly for any chunking).
//!
//! Mapping: paragraphs, headings (bold), code blocks and HTML become paragraphs; bullet and
//! numbered lists (nested ones flattened) become `bullet_list`; `**bold**`, `~~strike~~` and
//! links become spans (link > strike > bold > text; italics and code are plain text); a link or
//! image whose URL is not allow-listed (`is_safe_link`) is plain text; tables become `table`
//! parts, which split the `rich_text` around them.

use dgbot_protocol::message::{
    Block, ListItem, Part, Product, ProductsPart, RichText, Span, SpanKind, TableCell, TablePart,
    is_safe_link,
};
use dgbot_protocol::stream::{Delta, PartEvent, StreamEvent};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Converted Markdown: a block of a `rich_text` part, or a table (a part of its own).
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Block(Block),
    Table(TablePart),
}

/// What one parse gives.
struct Converted {
    pieces: Vec<Piece>,
    /// Where the last top-level block starts (bytes) and how many pieces come before it: those
    /// are final.
    last_top: Option<(usize, usize)>,
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Parse `md` into pieces.
fn convert(md: &str) -> Converted {
    let mut b = Builder::default();
    let mut depth = 0usize;
    let mut last_top = None;
    for (event, range) in Parser::new_ext(md, options()).into_offset_iter() {
        match &event {
            Event::Start(_) => {
                if depth == 0 {
                    last_top = Some((range.start, b.pieces.len()));
                }
                depth += 1;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        b.event(event);
    }
    Converted {
        pieces: b.pieces,
        last_top,
    }
}

/// Builds pieces from pulldown-cmark's events.
#[derive(Default)]
struct Builder {
    pieces: Vec<Piece>,
    bold: u32,
    strike: u32,
    /// Open links and images: their target when allow-listed.
    links: Vec<Option<String>>,
    lists: u32,
    /// The paragraph being written, outside lists and tables.
    paragraph_open: bool,
    table: Option<TablePart>,
    in_head: bool,
    row: Vec<TableCell>,
    cell: Option<TableCell>,
}

impl Builder {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) | Event::Html(t) => {
                self.push_text(&t)
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => self.push_text(&t),
            Event::SoftBreak => self.push_text(" "),
            Event::HardBreak => self.push_text("\n"),
            Event::Rule | Event::FootnoteReference(_) | Event::TaskListMarker(_) => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph | Tag::Heading { .. } | Tag::CodeBlock(_) | Tag::HtmlBlock => {
                if let Some(spans) = self.item_spans()
                    && !spans.is_empty()
                {
                    // A second paragraph of a list item continues the item.
                    spans.push(Span::text(" "));
                    merge_last(spans);
                } else if self.lists == 0 && self.table.is_none() {
                    self.pieces.push(Piece::Block(Block::paragraph(vec![])));
                    self.paragraph_open = true;
                }
                if matches!(tag, Tag::Heading { .. }) {
                    self.bold += 1;
                }
            }
            Tag::List(_) => {
                if self.lists == 0 {
                    self.pieces
                        .push(Piece::Block(Block::BulletList { items: vec![] }));
                }
                self.lists += 1;
            }
            Tag::Item => {
                if let Some(Piece::Block(Block::BulletList { items })) = self.pieces.last_mut() {
                    items.push(ListItem::default());
                }
            }
            Tag::Table(_) => self.table = Some(TablePart::default()),
            Tag::TableHead => self.in_head = true,
            Tag::TableRow => self.row.clear(),
            Tag::TableCell => self.cell = Some(TableCell::default()),
            Tag::Strong => self.bold += 1,
            Tag::Strikethrough => self.strike += 1,
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => self
                .links
                .push(is_safe_link(&dest_url).then(|| dest_url.to_string())),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::HtmlBlock => {
                if matches!(tag, TagEnd::Heading(_)) {
                    self.bold = self.bold.saturating_sub(1);
                }
                if self.paragraph_open {
                    self.paragraph_open = false;
                    self.close_paragraph(matches!(tag, TagEnd::CodeBlock | TagEnd::HtmlBlock));
                }
            }
            TagEnd::List(_) => self.lists = self.lists.saturating_sub(1),
            TagEnd::TableHead => {
                self.in_head = false;
                if let Some(t) = &mut self.table {
                    t.columns = std::mem::take(&mut self.row);
                }
            }
            TagEnd::TableRow => {
                if let Some(t) = &mut self.table {
                    t.rows.push(std::mem::take(&mut self.row));
                }
            }
            TagEnd::TableCell => {
                if let Some(cell) = self.cell.take() {
                    self.row.push(cell);
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.pieces.push(Piece::Table(t));
                }
            }
            TagEnd::Strong => self.bold = self.bold.saturating_sub(1),
            TagEnd::Strikethrough => self.strike = self.strike.saturating_sub(1),
            TagEnd::Link | TagEnd::Image => {
                self.links.pop();
            }
            _ => {}
        }
    }

    /// A code block's last newline goes; an empty paragraph (`#` alone) is dropped.
    fn close_paragraph(&mut self, trim_newline: bool) {
        let Some(Piece::Block(Block::Paragraph { spans })) = self.pieces.last_mut() else {
            return;
        };
        if trim_newline && let Some(last) = spans.last_mut() {
            while last.text.ends_with('\n') {
                last.text.pop();
            }
            if last.text.is_empty() {
                spans.pop();
            }
        }
        if spans.is_empty() {
            self.pieces.pop();
        }
    }

    /// The spans of the open list item, if inside a list.
    fn item_spans(&mut self) -> Option<&mut Vec<Span>> {
        if self.lists == 0 || self.table.is_some() {
            return None;
        }
        match self.pieces.last_mut() {
            Some(Piece::Block(Block::BulletList { items })) => {
                if items.is_empty() {
                    items.push(ListItem::default());
                }
                items.last_mut().map(|i| &mut i.spans)
            }
            _ => None,
        }
    }

    /// Where text goes now: a table cell, a list item, or the open paragraph (made if none).
    fn target(&mut self) -> &mut Vec<Span> {
        if let Some(cell) = &mut self.cell {
            if !matches!(cell.blocks.last(), Some(Block::Paragraph { .. })) {
                cell.blocks.push(Block::paragraph(vec![]));
            }
            let Some(Block::Paragraph { spans }) = cell.blocks.last_mut() else {
                unreachable!("a paragraph was just made")
            };
            return spans;
        }
        let in_item = self.lists > 0
            && self.table.is_none()
            && matches!(
                self.pieces.last(),
                Some(Piece::Block(Block::BulletList { .. }))
            );
        if !in_item
            && (!self.paragraph_open
                || !matches!(
                    self.pieces.last(),
                    Some(Piece::Block(Block::Paragraph { .. }))
                ))
        {
            self.pieces.push(Piece::Block(Block::paragraph(vec![])));
            self.paragraph_open = true;
        }
        match self.pieces.last_mut() {
            Some(Piece::Block(Block::BulletList { items })) => {
                if items.is_empty() {
                    items.push(ListItem::default());
                }
                &mut items.last_mut().expect("an item was just made").spans
            }
            Some(Piece::Block(Block::Paragraph { spans })) => spans,
            _ => unreachable!("a paragraph or list is open"),
        }
    }

    fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let span = match self.links.last() {
            Some(Some(url)) => Span::link(text, url.clone()),
            _ if self.strike > 0 => Span::strike(text),
            _ if self.bold > 0 => Span::bold(text),
            _ => Span::text(text),
        };
        let spans = self.target();
        spans.push(span);
        merge_last(spans);
    }
}

/// Join the last span into the one before it when they are of one kind (and link target).
fn merge_last(spans: &mut Vec<Span>) {
    if spans.len() < 2 {
        return;
    }
    let n = spans.len();
    if spans[n - 2].kind == spans[n - 1].kind && spans[n - 2].url == spans[n - 1].url {
        let last = spans.pop().expect("two spans");
        spans[n - 2].text.push_str(&last.text);
    }
}

/// The parts `md` makes, the first named part number `first` (`{reply_id}_part_{first}`).
pub fn markdown_parts(md: &str, reply_id: &str, first: usize) -> Vec<Part> {
    let mut parts = Vec::new();
    for piece in convert(md).pieces {
        match piece {
            Piece::Block(block) => match parts.last_mut() {
                Some(Part::RichText(rt)) => rt.blocks.push(block),
                _ => parts.push(Part::RichText(RichText {
                    part_id: part_id(reply_id, first + parts.len()),
                    blocks: vec![block],
                })),
            },
            Piece::Table(mut t) => {
                t.part_id = part_id(reply_id, first + parts.len());
                parts.push(Part::Table(t));
            }
        }
    }
    parts
}

/// `msg_…_part_3`: parts are numbered from 1 in the order they appear.
pub fn part_id(reply_id: &str, number: usize) -> String {
    format!("{reply_id}_part_{number}")
}

/// The streamed answer: Markdown text and product cards in, stream events out.
pub struct PartWriter {
    reply_id: String,
    /// Parts that are finished: earlier text (before a product card) and product cards.
    done: Vec<Part>,
    segment: Segment,
}

/// The Markdown since the last product card, and what the client has of it.
#[derive(Default)]
struct Segment {
    text: String,
    /// `text[..frozen_len]` is made of closed blocks.
    frozen_len: usize,
    /// What the client has of this segment's parts.
    shown: Vec<Part>,
    /// Parts of `shown` before this one never change again…
    frozen_parts: usize,
    /// …nor do the first blocks of `shown[frozen_parts]` (a `rich_text`).
    frozen_blocks: usize,
}

/// The live end of the segment, as just parsed: blocks of a `rich_text` part (only those after
/// its frozen ones) or a table.
enum Live {
    Rich(Vec<Block>),
    Table(TablePart),
}

impl PartWriter {
    pub fn new(reply_id: &str) -> Self {
        PartWriter {
            reply_id: reply_id.to_owned(),
            done: Vec::new(),
            segment: Segment::default(),
        }
    }

    /// The model wrote `text`: the events that show it (often none, while a line is held back).
    pub fn push(&mut self, text: &str) -> Vec<StreamEvent> {
        self.segment.text.push_str(text);
        let end = safe_end(&self.segment.text, self.segment.frozen_len);
        let converted = convert(&self.segment.text[self.segment.frozen_len..end]);
        let first = self.done.len() + 1;
        let mut events = Vec::new();
        self.segment
            .sync(&converted.pieces, &self.reply_id, first, &mut events);
        self.segment.freeze(&converted);
        events
    }

    /// Product cards after the text so far (which is finished first).
    pub fn products(&mut self, products: Vec<Product>) -> Vec<StreamEvent> {
        let mut events = self.finish();
        if products.is_empty() {
            return events;
        }
        let id = part_id(&self.reply_id, self.done.len() + 1);
        events.push(StreamEvent::delta(
            &id,
            Delta::Start {
                part: Part::Products(ProductsPart {
                    part_id: id.clone(),
                    products: vec![],
                }),
            },
        ));
        events.extend(
            products
                .iter()
                .map(|p| StreamEvent::delta(&id, Delta::Product { product: p.clone() })),
        );
        self.done.push(Part::Products(ProductsPart {
            part_id: id,
            products,
        }));
        events
    }

    /// The text is complete (or the answer ends): parse it whole and send what differs.
    pub fn finish(&mut self) -> Vec<StreamEvent> {
        let segment = std::mem::take(&mut self.segment);
        let first = self.done.len() + 1;
        let finals = markdown_parts(&segment.text, &self.reply_id, first);
        let mut events = Vec::new();
        let mut shown = segment.shown.into_iter();
        for part in &finals {
            match shown.next() {
                Some(old) if old == *part => {}
                Some(old) => events.extend(
                    append_events(&old, part).unwrap_or_else(|| vec![replace(part.clone())]),
                ),
                None => events.extend(new_part_events(part)),
            }
        }
        self.done.extend(finals);
        events
    }

    /// The answer's parts (call [`finish`](Self::finish) first).
    pub fn parts(&self) -> &[Part] {
        &self.done
    }

    /// Nothing written yet.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty() && self.segment.text.trim().is_empty()
    }
}

impl Segment {
    /// Bring the client's parts in line with the live pieces.
    fn sync(&mut self, pieces: &[Piece], reply_id: &str, first: usize, out: &mut Vec<StreamEvent>) {
        for (j, live) in self.live(pieces).into_iter().enumerate() {
            let i = self.frozen_parts + j;
            let id = part_id(reply_id, first + i);
            let skip = if j == 0 { self.frozen_blocks } else { 0 };
            match (self.shown.get_mut(i), live) {
                (Some(Part::RichText(rt)), Live::Rich(blocks)) => {
                    if rt.blocks[skip..] == blocks[..] {
                        continue;
                    }
                    let ops = block_ops(&rt.blocks[skip..], &blocks);
                    rt.blocks.truncate(skip);
                    rt.blocks.extend(blocks);
                    match ops {
                        Some(ops) => {
                            out.extend(ops.into_iter().map(|d| StreamEvent::delta(&id, d)))
                        }
                        None => out.push(replace(Part::RichText(rt.clone()))),
                    }
                }
                (Some(Part::Table(old)), Live::Table(mut t)) => {
                    t.part_id = id;
                    if *old != t {
                        let new = Part::Table(t);
                        out.extend(
                            append_events(&Part::Table(old.clone()), &new)
                                .unwrap_or_else(|| vec![replace(new.clone())]),
                        );
                        *old = match new {
                            Part::Table(t) => t,
                            _ => unreachable!(),
                        };
                    }
                }
                (slot, live) => {
                    let part = live.into_part(id);
                    match slot {
                        Some(old) => {
                            out.push(replace(part.clone()));
                            *old = part;
                        }
                        None => {
                            out.extend(new_part_events(&part));
                            self.shown.push(part);
                        }
                    }
                }
            }
        }
    }

    /// The pieces grouped as parts, the first continuing the partly frozen `rich_text`.
    fn live(&self, pieces: &[Piece]) -> Vec<Live> {
        let mut live = Vec::new();
        if self.frozen_blocks > 0 {
            live.push(Live::Rich(vec![]));
        }
        for piece in pieces {
            match (piece, live.last_mut()) {
                (Piece::Block(b), Some(Live::Rich(blocks))) => blocks.push(b.clone()),
                (Piece::Block(b), _) => live.push(Live::Rich(vec![b.clone()])),
                (Piece::Table(t), _) => live.push(Live::Table(t.clone())),
            }
        }
        live
    }

    /// Freeze the blocks before the last top-level one: they are closed.
    fn freeze(&mut self, converted: &Converted) {
        let Some((offset, before)) = converted.last_top else {
            return;
        };
        if before == 0 {
            return;
        }
        // Walk the final pieces as `live` groups them, to find where they end.
        let mut rich = self.frozen_blocks > 0;
        let mut part = 0usize;
        let mut blocks = self.frozen_blocks;
        let mut started = rich;
        for piece in &converted.pieces[..before] {
            match piece {
                Piece::Block(_) if rich => blocks += 1,
                Piece::Block(_) => {
                    part += usize::from(started);
                    started = true;
                    rich = true;
                    blocks = 1;
                }
                Piece::Table(_) => {
                    part += usize::from(started);
                    started = true;
                    rich = false;
                    blocks = 0;
                }
            }
        }
        if rich {
            self.frozen_parts += part;
            self.frozen_blocks = blocks;
        } else {
            self.frozen_parts += part + 1;
            self.frozen_blocks = 0;
        }
        self.frozen_len += offset;
    }
}

impl Live {
    fn into_part(self, id: String) -> Part {
        match self {
            Live::Rich(blocks) => Part::RichText(RichText {
                part_id: id,
                blocks,
            }),
            Live::Table(t) => Part::Table(TablePart { part_id: id, ..t }),
        }
    }
}

fn replace(part: Part) -> StreamEvent {
    StreamEvent::Part(PartEvent { part })
}

/// The events that start `part` from nothing: an empty `start`, then its content as appends
/// (so that text arrives as `span`/`text` ops the host's `stream_chunk` counts).
fn new_part_events(part: &Part) -> Vec<StreamEvent> {
    let id = part.part_id().unwrap_or_default().to_owned();
    let empty = match part {
        Part::RichText(rt) => Part::RichText(RichText {
            part_id: rt.part_id.clone(),
            blocks: vec![],
        }),
        Part::Table(t) => Part::Table(TablePart {
            rows: vec![],
            ..t.clone()
        }),
        other => return vec![replace(other.clone())],
    };
    let mut events = vec![StreamEvent::delta(
        &id,
        Delta::Start {
            part: empty.clone(),
        },
    )];
    events.extend(append_events(&empty, part).unwrap_or_else(|| vec![replace(part.clone())]));
    events
}

/// The append-only events that turn `old` into `new`, or `None` when `new` changes something
/// `old` already has.
fn append_events(old: &Part, new: &Part) -> Option<Vec<StreamEvent>> {
    let id = new.part_id().unwrap_or_default();
    let deltas = match (old, new) {
        (Part::RichText(a), Part::RichText(b)) => block_ops(&a.blocks, &b.blocks)?,
        (Part::Table(a), Part::Table(b)) => {
            let same_head = a.columns == b.columns && a.caption == b.caption;
            if !same_head || !b.rows.starts_with(&a.rows) {
                return None;
            }
            b.rows[a.rows.len()..]
                .iter()
                .map(|row| Delta::Row { row: row.clone() })
                .collect()
        }
        _ => return None,
    };
    Some(
        deltas
            .into_iter()
            .map(|d| StreamEvent::delta(id, d))
            .collect(),
    )
}

/// The ops that turn blocks `old` into `new` by appending, or `None`.
fn block_ops(old: &[Block], new: &[Block]) -> Option<Vec<Delta>> {
    let mut ops = Vec::new();
    if let Some((last, before)) = old.split_last() {
        if new.len() < old.len() || new[..before.len()] != *before {
            return None;
        }
        match (last, &new[before.len()]) {
            (Block::Paragraph { spans: a }, Block::Paragraph { spans: b }) => {
                span_ops(a, b, &mut ops)?
            }
            (Block::BulletList { items: a }, Block::BulletList { items: b }) => {
                item_ops(a, b, &mut ops)?
            }
            _ => return None,
        }
    }
    for block in &new[old.len()..] {
        match block {
            Block::Paragraph { spans } => {
                ops.push(Delta::Block {
                    block: Block::paragraph(vec![]),
                });
                span_ops(&[], spans, &mut ops)?;
            }
            Block::BulletList { items } => {
                ops.push(Delta::Block {
                    block: Block::BulletList { items: vec![] },
                });
                item_ops(&[], items, &mut ops)?;
            }
            Block::Unknown => return None,
        }
    }
    Some(ops)
}

fn item_ops(old: &[ListItem], new: &[ListItem], ops: &mut Vec<Delta>) -> Option<()> {
    if let Some((last, before)) = old.split_last() {
        if new.len() < old.len() || new[..before.len()] != *before {
            return None;
        }
        span_ops(&last.spans, &new[before.len()].spans, ops)?;
    }
    for item in &new[old.len()..] {
        ops.push(Delta::Item {
            item: ListItem::default(),
        });
        span_ops(&[], &item.spans, ops)?;
    }
    Some(())
}

fn span_ops(old: &[Span], new: &[Span], ops: &mut Vec<Delta>) -> Option<()> {
    if let Some((last, before)) = old.split_last() {
        if new.len() < old.len() || new[..before.len()] != *before {
            return None;
        }
        let grown = &new[before.len()];
        let rest = grown.text.strip_prefix(last.text.as_str())?;
        if grown.kind != last.kind || grown.url != last.url {
            return None;
        }
        if !rest.is_empty() {
            ops.push(Delta::Text {
                text: rest.to_owned(),
            });
        }
    }
    for span in &new[old.len()..] {
        if span.kind == SpanKind::Unknown {
            return None;
        }
        ops.push(Delta::Span { span: span.clone() });
    }
    Some(())
}

/// How much of `text[from..]` is safe to show: everything but what may still change its
/// meaning when more arrives (see the module docs).
fn safe_end(text: &str, from: usize) -> usize {
    let line_start = text[from..].rfind('\n').map_or(from, |i| from + i + 1);
    if let Some(header) = pending_table_header(&text[from..line_start]) {
        return from + header;
    }
    let line = &text[line_start..];
    if may_open_block(line) {
        return line_start;
    }
    line_start + inline_safe_len(line)
}

/// The start of the last complete line when it may be a table's header row (it starts with
/// `|` and the line before it does not): the next line decides.
fn pending_table_header(lines: &str) -> Option<usize> {
    let body = lines.strip_suffix('\n')?;
    let start = body.rfind('\n').map_or(0, |i| i + 1);
    if !body[start..].trim_start().starts_with('|') {
        return None;
    }
    let before = &body[..start.saturating_sub(1)];
    let prev = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    (start == 0 || !prev.trim_start().starts_with('|')).then_some(start)
}

/// An unfinished line that may yet become a list item, heading, rule, quote, code fence or
/// table row: shown once its line is complete or its first word has arrived.
fn may_open_block(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty()
        || t.starts_with('|')
        || t.starts_with("```")
        || t.starts_with("~~~")
        || (t.len() <= 12 && t.chars().all(|c| "-*+#=_>0123456789.) `~:".contains(c)))
}

/// The length of the unfinished `line` before its first opening mark that is not closed yet
/// (`**`, `~~`, `*`, `_`, `` ` ``, `[…](…)`, `<…>`, `&…;`, a trailing `\` or `!`).
fn inline_safe_len(line: &str) -> usize {
    let b = line.as_bytes();
    let mut strong: Option<usize> = None;
    let mut em: Option<usize> = None;
    let mut strike: Option<usize> = None;
    let mut code: Option<usize> = None;
    let mut link: Option<usize> = None;
    let mut dest: Option<usize> = None;
    let mut other: Option<usize> = None;
    let toggle = |slot: &mut Option<usize>, at: usize| {
        *slot = match slot {
            Some(_) => None,
            None => Some(at),
        }
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let run = b[i..].iter().take_while(|&&x| x == c).count();
        if code.is_some() {
            if c == b'`' {
                code = None;
            }
            i += run;
            continue;
        }
        match c {
            b'`' => toggle(&mut code, i),
            b'*' | b'_' => {
                let before = i.checked_sub(1).map(|k| b[k]);
                let after = b.get(i + run).copied();
                let intraword = c == b'_'
                    && before.is_some_and(|x| x.is_ascii_alphanumeric())
                    && after.is_some_and(|x| x.is_ascii_alphanumeric());
                if !intraword {
                    if run >= 2 {
                        toggle(&mut strong, i);
                    }
                    if run % 2 == 1 {
                        toggle(&mut em, i);
                    }
                }
            }
            b'~' => toggle(&mut strike, i),
            b'[' if link.is_none() => link = Some(i),
            b']' if link.is_some() && dest.is_none() => match b.get(i + 1) {
                Some(b'(') => dest = Some(0),
                None => {}
                Some(_) => link = None,
            },
            // The destination may hold balanced parentheses: `(javascript:alert(1))`.
            b'(' if dest.is_some() => dest = dest.map(|d| d + run),
            b')' if dest.is_some() => {
                let depth = dest.unwrap_or(0).saturating_sub(run);
                dest = Some(depth);
                if depth == 0 {
                    (link, dest) = (None, None);
                }
            }
            b'<' | b'&' if other.is_none() => other = Some(i),
            b'>' | b';' | b' ' if other.is_some() => other = None,
            b'\\' | b'!' if i + run == b.len() => other = other.or(Some(i)),
            _ => {}
        }
        i += run;
    }
    [strong, em, strike, code, link, other]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dgbot_protocol::transcript::Transcript;
    use proptest::prelude::*;

    /// Feed `chunks` through a writer; the parts its events rebuild, and its final parts.
    fn stream(chunks: &[&str], products_after: Option<usize>) -> (Vec<Part>, Vec<Part>, usize) {
        let mut w = PartWriter::new("m");
        let mut events = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            events.extend(w.push(c));
            if products_after == Some(i) {
                events.extend(w.products(vec![Product {
                    product_id: Some("p".into()),
                    title: "P".into(),
                    url: "https://x.example/p".into(),
                    ..Default::default()
                }]));
            }
        }
        events.extend(w.finish());
        let replaced = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::Part(_)))
            .count();
        let mut t = Transcript::new();
        t.begin_draft();
        for e in &events {
            t.apply(e)
                .unwrap_or_else(|err| panic!("{err:?} applying {e:?}"));
        }
        (
            t.draft().unwrap().parts.clone(),
            w.parts().to_vec(),
            replaced,
        )
    }

    /// With a link whose destination has parentheses.
    const LINKS: &str = "See [its page](https://shop.example/aurora), not [this](javascript:alert(1)).\n\n- [a (b) c](https://x.example/(y)) **z**\n";

    const ANSWER: &str = "Our **Aurora** lamp is ~~sold out~~ back in stock. See [the page](https://shop.example/aurora) or [this](javascript:alert(1)).\n\nWhat you get:\n\n- a *soft* light\n- **dimmable** and `quiet`\n  - nested detail\n1. first\n2. second\n\n| Lamp | Price |\n|---|---|\n| Aurora | 1 299 kr |\n| **Nova** | 899 kr |\n\n## Delivery\nShips in 2&ndash;4 days.  \nFree over 500 kr.\n";

    #[test]
    fn markdown_becomes_parts() {
        let parts = markdown_parts(ANSWER, "m", 1);
        let json = serde_json::to_value(&parts).unwrap();
        assert_eq!(parts.len(), 3, "{json:#}");
        let first = &json[0]["blocks"][0]["spans"];
        assert_eq!(
            first[1],
            serde_json::json!({"type": "bold", "text": "Aurora"})
        );
        assert_eq!(first[3]["type"], "strike");
        assert_eq!(first[5]["url"], "https://shop.example/aurora");
        assert_eq!(
            first[6],
            serde_json::json!({"type": "text", "text": " or this."}),
            "an unsafe link is plain text"
        );
        let list = &json[0]["blocks"][2]["items"];
        assert_eq!(
            list.as_array().unwrap().len(),
            3,
            "nested items flattened: {list:#}"
        );
        assert_eq!(list[2]["spans"][0]["text"], "nested detail");
        assert_eq!(
            json[0]["blocks"][3]["items"][1]["spans"][0]["text"],
            "second"
        );
        assert_eq!(json[1]["type"], "table");
        assert_eq!(
            json[1]["rows"][1][0]["blocks"][0]["spans"][0]["type"],
            "bold"
        );
        assert_eq!(json[2]["part_id"], "m_part_3");
        assert_eq!(json[2]["blocks"][0]["spans"][0]["text"], "Delivery");
        assert_eq!(
            json[2]["blocks"][1]["spans"][0]["text"],
            "Ships in 2\u{2013}4 days.\nFree over 500 kr."
        );
    }

    #[test]
    fn word_by_word_streams_as_appends() {
        let words: Vec<&str> = dgbot_protocol::stream::split_words(ANSWER);
        let (rebuilt, parts, replaced) = stream(&words, None);
        assert_eq!(rebuilt, parts);
        assert_eq!(parts, markdown_parts(ANSWER, "m", 1));
        assert_eq!(replaced, 0, "parts replaced");
    }

    #[test]
    fn links_with_parentheses_stream_as_appends() {
        for size in 1..8 {
            let chars: Vec<char> = LINKS.chars().collect();
            let chunks: Vec<String> = chars.chunks(size).map(|c| c.iter().collect()).collect();
            let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
            let (rebuilt, parts, replaced) = stream(&chunks, None);
            assert_eq!(rebuilt, parts);
            assert_eq!(replaced, 0, "chunks of {size}");
        }
    }

    #[test]
    fn products_split_the_text() {
        let (rebuilt, parts, _) = stream(&["Look:\n\n", "- a\n", "More"], Some(1));
        assert_eq!(rebuilt, parts);
        let kinds: Vec<_> = parts.iter().map(|p| p.type_name()).collect();
        assert_eq!(kinds, ["rich_text", "products", "rich_text"]);
        assert_eq!(parts[2].part_id(), Some("m_part_3"));
    }

    proptest! {
        #[test]
        fn any_chunking_gives_the_same_parts(cuts in proptest::collection::vec(0usize..400, 0..40)) {
            let mut at: Vec<usize> = cuts
                .into_iter()
                .map(|c| c % ANSWER.len())
                .filter(|&c| ANSWER.is_char_boundary(c))
                .collect();
            at.sort();
            at.dedup();
            let mut chunks = Vec::new();
            let mut prev = 0;
            for c in at.into_iter().chain([ANSWER.len()]) {
                chunks.push(&ANSWER[prev..c]);
                prev = c;
            }
            let (rebuilt, parts, _) = stream(&chunks, None);
            prop_assert_eq!(&rebuilt, &parts);
            prop_assert_eq!(parts, markdown_parts(ANSWER, "m", 1));
        }
    }
}
