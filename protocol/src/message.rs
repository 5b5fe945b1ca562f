//! The message model of seed 002: a message holds ordered `parts`; a `rich_text` part holds
//! `blocks` (paragraph, bullet_list); blocks hold `spans` (text, bold, strike, link).
//!
//! Unknown part, block and span types from a newer server never break an older widget:
//! parts and blocks decode to an `Unknown` variant the renderer shows quietly, and a span of an
//! unknown type keeps its `text`, which is rendered as plain text.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
    System,
    Agent,
}

/// One user, assistant, system or agent entry in the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub message_id: String,
    pub role: Role,
    pub parts: Vec<Part>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `role: "agent"` messages: the human agent who wrote it, with the display name and avatar
    /// of their profile (seed 002: "include the configured display name and avatar").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    /// An assistant answer's per-answer feedback, as the visitor last gave it
    /// (`POST /api/v1/chat/messages/{message_id}/feedback`); in history and the agent's context.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "AnswerFeedback::from_json"
    )]
    pub feedback: Option<AnswerFeedback>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackValue {
    /// Helpful.
    Up,
    /// Not helpful.
    Down,
}

impl FeedbackValue {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackValue::Up => "up",
            FeedbackValue::Down => "down",
        }
    }
}

/// An answer's feedback as stored: the response of `POST …/feedback`, and `feedback` on the
/// answer in history and in the agent's context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerFeedback {
    pub value: FeedbackValue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When the visitor last voted, RFC 3339.
    pub updated_at: String,
}

impl AnswerFeedback {
    /// `feedback` on a message, read by hand from its JSON (an unknown `value` is none): a
    /// derived decoder in `Message`'s would cost the widget's first download for a field that
    /// only the answer's controls, in a lazily loaded chunk, show.
    pub fn from_json<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<AnswerFeedback>, D::Error> {
        let json = serde_json::Value::deserialize(deserializer)?;
        let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let value = match json.get("value").and_then(|v| v.as_str()) {
            Some("up") => FeedbackValue::Up,
            Some("down") => FeedbackValue::Down,
            _ => return Ok(None),
        };
        Ok(Some(AnswerFeedback {
            value,
            reason: text("reason"),
            comment: text("comment"),
            updated_at: text("updated_at").unwrap_or_default(),
        }))
    }
}

/// Who wrote an agent message (`PUT /api/v1/chat/livechat/agents/{agent_id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Author {
    pub agent_id: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

impl Message {
    /// The visible text of the message, spans joined, blocks separated by newlines.
    pub fn plain_text(&self) -> String {
        parts_text(&self.parts)
    }
}

/// The visible text of `parts` (see [`Message::plain_text`]): also of an answer still streaming.
pub fn parts_text(parts: &[Part]) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(t) => push_line(&mut out, &t.text),
            Part::RichText(rt) => {
                if !rt.blocks.is_empty() {
                    push_line(&mut out, &blocks_text(&rt.blocks));
                }
            }
            Part::Table(t) => {
                for row in std::iter::once(&t.columns).chain(&t.rows) {
                    let cells: Vec<String> = row.iter().map(|c| blocks_text(&c.blocks)).collect();
                    push_line(&mut out, &cells.join(" | "));
                }
            }
            Part::Products(p) => {
                for product in &p.products {
                    push_line(&mut out, &product.title);
                }
            }
            Part::Image(i) => push_line(&mut out, i.alt.as_deref().unwrap_or("")),
            Part::File(f) => push_line(&mut out, f.filename.as_deref().unwrap_or("")),
            Part::ShowContactForm(_)
            | Part::ShowSupportTicket(_)
            | Part::RequestImageUpload(_)
            | Part::RequestHumanAgent(_)
            | Part::Custom(_)
            // An answer's words, not where they come from: channels with a place for sources
            // (seed 003's `sources`, the widget's links) read the part itself.
            | Part::Sources(_)
            // What the visitor may ask next is not part of the answer's words.
            | Part::Suggestions(_)
            | Part::Unknown => {}
        }
    }
    out
}

fn push_line(out: &mut String, line: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(line);
}

fn blocks_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Paragraph { spans } => push_line(&mut out, &spans_text(spans)),
            Block::BulletList { items } => items
                .iter()
                .for_each(|i| push_line(&mut out, &spans_text(&i.spans))),
            Block::Unknown => {}
        }
    }
    out
}

fn spans_text(spans: &[Span]) -> String {
    spans.iter().map(|s| s.text.as_str()).collect()
}

/// A top-level renderable unit inside a message. Parts are siblings: one message may hold
/// text, then a marker, then more text.
///
/// Serialized as a tagged enum (`"type"`). Decoded by [`decode_tagged`]: the `type` is read
/// first and the variant decoded straight from the same JSON, which is equivalent to serde's
/// internally-tagged decoding but a fraction of its code size in the wasm widget.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Formatted assistant text.
    RichText(RichText),
    /// Plain text input, as the visitor sends it (`{"type":"text","text":"…"}`).
    Text(TextPart),
    /// An image: from the assistant by `url`, from the visitor as base64 `data` with `mime`.
    Image(ImagePart),
    /// A livechat attachment: sent as base64 `data` with `mime` and `filename`, returned
    /// stored with a signed, expiring `url` (seed 002, "Attachments").
    File(FilePart),
    Table(TablePart),
    Products(ProductsPart),
    /// Marker: render these fields; submit `contact_form` to `/actions` with this `part_id`.
    ShowContactForm(ContactFormMarker),
    /// Marker: render a ticket form with attachment rules; submit `support_ticket` to `/actions`.
    ShowSupportTicket(SupportTicketMarker),
    /// Marker: ask for an image meeting `constraints`; it goes out in the next `/messages`.
    RequestImageUpload(ImageUploadMarker),
    /// Marker: offer a hand-over to a human agent (livechat).
    RequestHumanAgent(HumanAgentMarker),
    /// Marker: client-defined; forwarded to the host page with `key` and `payload`.
    Custom(CustomMarker),
    /// Where a grounded answer comes from: the pages (with the section's `#anchor`) and
    /// products it used, most relevant first. Ends the answer; the widget shows compact links.
    Sources(SourcesPart),
    /// Up to three follow-up questions the visitor may ask next, drawn as chips after the
    /// answer; a click sends one. Gone once the visitor writes.
    Suggestions(SuggestionsPart),
    /// A part type this widget does not know yet; rendered as a quiet placeholder.
    Unknown,
}

/// Decode a value whose JSON object names its variant in `"type"`: read the tag, then let
/// `variant` decode the same JSON value as that variant's struct. Equivalent to serde's
/// internally-tagged decoding but a fraction of its code size in the wasm widget.
pub fn decode_tagged<'de, D, T>(
    deserializer: D,
    variant: impl FnOnce(&str, serde_json::Value) -> serde_json::Result<T>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let value = serde_json::Value::deserialize(deserializer)?;
    let kind = match value.get("type") {
        Some(serde_json::Value::String(kind)) => kind.clone(),
        Some(_) => return Err(D::Error::custom("`type` is not a string")),
        None => return Err(D::Error::missing_field("type")),
    };
    variant(&kind, value).map_err(D::Error::custom)
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde_json::from_value;
        decode_tagged(deserializer, |kind, json| {
            Ok(match kind {
                "rich_text" => Part::RichText(from_value(json)?),
                "text" => Part::Text(from_value(json)?),
                "image" => Part::Image(from_value(json)?),
                "file" => Part::File(from_value(json)?),
                "table" => Part::Table(from_value(json)?),
                "products" => Part::Products(from_value(json)?),
                "show_contact_form" => Part::ShowContactForm(from_value(json)?),
                "show_support_ticket" => Part::ShowSupportTicket(from_value(json)?),
                "request_image_upload" => Part::RequestImageUpload(from_value(json)?),
                "request_human_agent" => Part::RequestHumanAgent(from_value(json)?),
                "custom" => Part::Custom(from_value(json)?),
                "sources" => Part::Sources(SourcesPart::from_json(&json)),
                "suggestions" => Part::Suggestions(SuggestionsPart::from_json(&json)),
                _ => Part::Unknown,
            })
        })
    }
}

impl Part {
    pub fn part_id(&self) -> Option<&str> {
        match self {
            Part::RichText(p) => Some(&p.part_id),
            Part::Image(p) => p.part_id.as_deref(),
            Part::Table(p) => Some(&p.part_id),
            Part::Products(p) => Some(&p.part_id),
            Part::ShowContactForm(p) => Some(&p.part_id),
            Part::ShowSupportTicket(p) => Some(&p.part_id),
            Part::RequestImageUpload(p) => Some(&p.part_id),
            Part::RequestHumanAgent(p) => Some(&p.part_id),
            Part::Custom(p) => Some(&p.part_id),
            Part::Sources(p) => Some(&p.part_id),
            Part::Suggestions(p) => Some(&p.part_id),
            Part::Text(_) | Part::File(_) | Part::Unknown => None,
        }
    }

    /// The seed's part type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Part::RichText(_) => "rich_text",
            Part::Text(_) => "text",
            Part::Image(_) => "image",
            Part::File(_) => "file",
            Part::Table(_) => "table",
            Part::Products(_) => "products",
            Part::ShowContactForm(_) => "show_contact_form",
            Part::ShowSupportTicket(_) => "show_support_ticket",
            Part::RequestImageUpload(_) => "request_image_upload",
            Part::RequestHumanAgent(_) => "request_human_agent",
            Part::Custom(_) => "custom",
            Part::Sources(_) => "sources",
            Part::Suggestions(_) => "suggestions",
            Part::Unknown => "unknown",
        }
    }

    pub fn text(text: impl Into<String>) -> Self {
        Part::Text(TextPart { text: text.into() })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextPart {
    pub text: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// An image. Assistant images carry `url` (and `alt`); a visitor's upload carries base64
/// `data` with its `mime` and optional `filename`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImagePart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Stored livechat attachments (seed 002, "Attachments"): `url` is then a signed link that
    /// expires at `url_expires_at`. Keep the `attachment_id`, not the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_expires_at: Option<String>,
}

/// A livechat `file` part: base64 `data` + `mime` + `filename` going in; stored attachment
/// fields with a signed `url` coming out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FilePart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_expires_at: Option<String>,
}

impl FilePart {
    /// The download link, when it is an `http(s)` URL.
    pub fn safe_url(&self) -> Option<&str> {
        let url = self.url.as_deref()?;
        let lower = url.to_ascii_lowercase();
        ((lower.starts_with("https://") || lower.starts_with("http://")) && is_safe_link(url))
            .then_some(url)
    }
}

/// Image types a widget shows from `data:` and accepts for upload.
pub const IMAGE_MIME_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/webp", "image/gif"];

impl ImagePart {
    /// Where the `<img>` may load from: an allow-listed `http(s)` URL, or the part's own base64
    /// data as a `data:` URL of an image type. Anything else shows no image.
    pub fn safe_src(&self) -> Option<String> {
        if let Some(url) = &self.url {
            let lower = url.to_ascii_lowercase();
            return ((lower.starts_with("https://") || lower.starts_with("http://"))
                && is_safe_link(url))
            .then(|| url.clone());
        }
        let (data, mime) = (self.data.as_ref()?, self.mime.as_deref()?);
        let base64_ok = data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        (IMAGE_MIME_TYPES.contains(&mime) && base64_ok)
            .then(|| format!("data:{mime};base64,{data}"))
    }
}

/// A table; cells hold blocks, like a `rich_text` part.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TablePart {
    pub part_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// The header row (may be empty).
    #[serde(default)]
    pub columns: Vec<TableCell>,
    #[serde(default)]
    pub rows: Vec<Vec<TableCell>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TableCell {
    #[serde(default)]
    pub blocks: Vec<Block>,
}

impl TableCell {
    pub fn text(text: impl Into<String>) -> Self {
        TableCell {
            blocks: vec![Block::paragraph(vec![Span::text(text)])],
        }
    }
}

/// `{"type": "sources", "part_id", "sources": [{"type", "title", "url"}]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SourcesPart {
    pub part_id: String,
    pub sources: Vec<Source>,
}

impl SourcesPart {
    /// Read from its JSON by hand, leniently (an item without a title is dropped, an unknown
    /// `type` is a document): a derived decoder would cost the widget's first download some
    /// hundred bytes for a part that is drawn by a lazily loaded chunk.
    pub fn from_json(json: &serde_json::Value) -> SourcesPart {
        let text = |v: &serde_json::Value, key: &str| {
            v.get(key).and_then(|s| s.as_str()).map(str::to_owned)
        };
        SourcesPart {
            part_id: text(json, "part_id").unwrap_or_default(),
            sources: json
                .get("sources")
                .and_then(|s| s.as_array())
                .into_iter()
                .flatten()
                .filter_map(|item| {
                    Some(Source {
                        kind: match item.get("type").and_then(|t| t.as_str()) {
                            Some("product") => SourceKind::Product,
                            _ => SourceKind::Document,
                        },
                        title: text(item, "title")?,
                        url: text(item, "url").unwrap_or_default(),
                    })
                })
                .collect(),
        }
    }
}

/// `{"type": "suggestions", "part_id", "suggestions": ["…"]}`: follow-up questions, at most
/// [`SuggestionsPart::MAX`].
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SuggestionsPart {
    pub part_id: String,
    pub suggestions: Vec<String>,
}

impl SuggestionsPart {
    /// The most follow-ups shown after one answer.
    pub const MAX: usize = 3;

    /// Read from its JSON by hand and leniently, like [`SourcesPart::from_json`]: blank and
    /// non-string items are dropped, and only the first [`Self::MAX`] kept.
    pub fn from_json(json: &serde_json::Value) -> SuggestionsPart {
        SuggestionsPart {
            part_id: json
                .get("part_id")
                .and_then(|s| s.as_str())
                .unwrap_or_default()
                .to_owned(),
            suggestions: json
                .get("suggestions")
                .and_then(|s| s.as_array())
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::trim).filter(|s| !s.is_empty()))
                .take(Self::MAX)
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// A page or product an answer used (seed 003's `sources` items, and a `sources` part's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    #[serde(rename = "type")]
    pub kind: SourceKind,
    pub title: String,
    /// The page, with the cited section's `#anchor`; or the product's page.
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A page, file or curated answer of the chatbot's knowledge.
    Document,
    /// A product of the catalogue or a product feed.
    Product,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProductsPart {
    pub part_id: String,
    #[serde(default)]
    pub products: Vec<Product>,
}

/// A product card.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Product {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    pub title: String,
    /// The product page; opened on the host page (postMessage `navigate`).
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// In major units (`1299.0` = 1.299 kr.), shown with `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// ISO 4217 code (`"DKK"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A form field of a contact form or support ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    pub key: String,
    pub label: String,
    /// `text` when absent (and omitted when `text`).
    #[serde(rename = "type", default, skip_serializing_if = "FieldKind::is_text")]
    pub kind: FieldKind,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    #[default]
    Text,
    Email,
    Tel,
    Textarea,
    /// A field type from a newer server: collected as text.
    #[serde(other)]
    Unknown,
}

impl FieldKind {
    fn is_text(&self) -> bool {
        *self == FieldKind::Text
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactFormMarker {
    pub part_id: String,
    #[serde(default)]
    pub fields: Vec<FormField>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportTicketMarker {
    pub part_id: String,
    #[serde(default)]
    pub fields: Vec<FormField>,
    #[serde(default)]
    pub attachments: AttachmentRules,
}

/// What a support ticket may carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AttachmentRules {
    /// 0: no attachments.
    pub max_files: u32,
    pub max_size_bytes: u64,
    /// MIME types, e.g. `image/png`, `application/pdf`.
    #[serde(default)]
    pub accepted_types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUploadMarker {
    pub part_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    pub constraints: ImageConstraints,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageConstraints {
    pub max_size_bytes: u64,
    /// A subset of [`IMAGE_MIME_TYPES`].
    #[serde(default)]
    pub accepted_types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HumanAgentMarker {
    pub part_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomMarker {
    pub part_id: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RichText {
    pub part_id: String,
    #[serde(default)]
    pub blocks: Vec<Block>,
}

/// A section inside a `rich_text` part or a table cell. Decoded like [`Part`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Paragraph { spans: Vec<Span> },
    BulletList { items: Vec<ListItem> },
    Unknown,
}

impl<'de> Deserialize<'de> for Block {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Paragraph {
            #[serde(default)]
            spans: Vec<Span>,
        }
        #[derive(Deserialize)]
        struct BulletList {
            #[serde(default)]
            items: Vec<ListItem>,
        }
        decode_tagged(deserializer, |kind, json| {
            Ok(match kind {
                "paragraph" => Block::Paragraph {
                    spans: serde_json::from_value::<Paragraph>(json)?.spans,
                },
                "bullet_list" => Block::BulletList {
                    items: serde_json::from_value::<BulletList>(json)?.items,
                },
                _ => Block::Unknown,
            })
        })
    }
}

impl Block {
    pub fn paragraph(spans: Vec<Span>) -> Self {
        Block::Paragraph { spans }
    }
}

/// One bullet of a `bullet_list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ListItem {
    #[serde(default)]
    pub spans: Vec<Span>,
}

/// Inline formatted text inside a paragraph or bullet item.
///
/// Every span type carries `text`; a `link` also carries `url`. Keeping spans one struct (rather
/// than an enum per type) lets an unknown future span type still show its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    #[serde(rename = "type")]
    pub kind: SpanKind,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    Text,
    Bold,
    Strike,
    Link,
    #[serde(other)]
    Unknown,
}

impl Span {
    pub fn text(text: impl Into<String>) -> Self {
        Span {
            kind: SpanKind::Text,
            text: text.into(),
            url: None,
        }
    }
    pub fn bold(text: impl Into<String>) -> Self {
        Span {
            kind: SpanKind::Bold,
            text: text.into(),
            url: None,
        }
    }
    pub fn strike(text: impl Into<String>) -> Self {
        Span {
            kind: SpanKind::Strike,
            text: text.into(),
            url: None,
        }
    }
    pub fn link(text: impl Into<String>, url: impl Into<String>) -> Self {
        Span {
            kind: SpanKind::Link,
            text: text.into(),
            url: Some(url.into()),
        }
    }

    /// The link target if it is safe to put in an `href`: only `http`, `https`, `mailto` and
    /// `tel` URLs (DESIGN.md convention 9). Anything else renders as plain text.
    pub fn safe_url(&self) -> Option<&str> {
        self.url.as_deref().filter(|u| is_safe_link(u))
    }
}

/// Allow-list for link targets: `http:`, `https:`, `mailto:` and `tel:` (case-insensitive,
/// leading/trailing whitespace and control characters rejected).
pub fn is_safe_link(url: &str) -> bool {
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    let Some((scheme, rest)) = url.split_once(':') else {
        return false;
    };
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "http" | "https" => rest.starts_with("//") && rest.len() > 2,
        "mailto" | "tel" => !rest.is_empty(),
        _ => false,
    }
}
