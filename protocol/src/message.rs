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
}

impl Message {
    /// The visible text of the message, spans joined, blocks separated by newlines.
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => push_line(&mut out, &t.text),
                Part::RichText(rt) => {
                    for block in &rt.blocks {
                        match block {
                            Block::Paragraph { spans } => push_line(&mut out, &spans_text(spans)),
                            Block::BulletList { items } => {
                                for item in items {
                                    push_line(&mut out, &spans_text(&item.spans));
                                }
                            }
                            Block::Unknown => {}
                        }
                    }
                }
                Part::Unknown => {}
            }
        }
        out
    }
}

fn push_line(out: &mut String, line: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(line);
}

fn spans_text(spans: &[Span]) -> String {
    spans.iter().map(|s| s.text.as_str()).collect()
}

/// A top-level renderable unit inside a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Formatted assistant text.
    RichText(RichText),
    /// Plain text input, as the visitor sends it (`{"type":"text","text":"…"}`).
    Text(TextPart),
    /// A part type this widget does not know yet; rendered as a quiet placeholder.
    #[serde(other)]
    Unknown,
}

impl Part {
    pub fn part_id(&self) -> Option<&str> {
        match self {
            Part::RichText(p) => Some(&p.part_id),
            Part::Text(_) | Part::Unknown => None,
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

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RichText {
    pub part_id: String,
    #[serde(default)]
    pub blocks: Vec<Block>,
}

/// A section inside a `rich_text` part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Paragraph {
        #[serde(default)]
        spans: Vec<Span>,
    },
    BulletList {
        #[serde(default)]
        items: Vec<ListItem>,
    },
    #[serde(other)]
    Unknown,
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
        Span { kind: SpanKind::Text, text: text.into(), url: None }
    }
    pub fn bold(text: impl Into<String>) -> Self {
        Span { kind: SpanKind::Bold, text: text.into(), url: None }
    }
    pub fn strike(text: impl Into<String>) -> Self {
        Span { kind: SpanKind::Strike, text: text.into(), url: None }
    }
    pub fn link(text: impl Into<String>, url: impl Into<String>) -> Self {
        Span { kind: SpanKind::Link, text: text.into(), url: Some(url.into()) }
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
    let Some((scheme, rest)) = url.split_once(':') else { return false };
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "http" | "https" => rest.starts_with("//") && rest.len() > 2,
        "mailto" | "tel" => !rest.is_empty(),
        _ => false,
    }
}
