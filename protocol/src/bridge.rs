//! The postMessage envelope between the host page (`loader/widget.js`) and the iframe app.
//!
//! Seed 002's GTM listeners read `event.data.action`, so the action name stays at the top
//! level; `source: "dgbot"` and `v` mark and version our envelope. Both sides name an explicit
//! `targetOrigin` and check `event.origin` and `event.source` (DESIGN.md convention 6). The
//! loader is plain JS, so it repeats these names; `docs/protocol.md` lists them.
//!
//! Actions from seed 002's postMessage table are camelCase, as the seed spells them. Actions
//! that are not in that table are named after the DGbot events of seed 001 (`stream_start`,
//! `stream_chunk`, `stream_end`, …): the loader hands those to `window.DGbot.on()` handlers
//! under the same name.

use serde::{Deserialize, Serialize};

use crate::api::IdentifyRequest;

pub const SOURCE: &str = "dgbot";
pub const VERSION: u32 = 1;

/// Messages the iframe posts to its parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum FrameAction {
    /// The chat has started (token and config loaded, or failed to) and takes commands.
    /// `chat_type` is the config's, for the `detail` of the `chat_*` CustomEvents.
    #[serde(rename = "ready")]
    Ready {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chat_type: Option<String>,
    },
    /// The visitor pressed the close button in the chat header, or Escape (seed 002: `closeChat`).
    CloseChat,
    /// The visitor submitted a message (seed 002: `userMessageSubmitted`). `text` is ours: the
    /// loader's `message` event carries it.
    UserMessageSubmitted { text: String },
    /// The visitor sent the first message of the conversation (seed 002: `firstMessageSent`).
    FirstMessageSent {
        #[serde(rename = "chatbotID")]
        chatbot_id: String,
    },
    /// The first token of an assistant response arrived (seed 002: `assistantFirstToken`).
    AssistantFirstToken,
    /// The visitor clicked a product card (seed 002: `productClick`); followed by `navigate`.
    ProductClick,
    /// The host page should open this product URL (seed 002: `navigate`, `url`).
    Navigate { url: String },
    /// Product cards were shown (seed 002: `productRecommendation`, optional `urls`).
    ProductRecommendation {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        urls: Option<Vec<String>>,
    },
    /// The built-in contact form was shown (seed 002: `contactFormShown`).
    ContactFormShown,
    /// The server classified the conversation after a response (seed 002:
    /// `conversationClassified`, `emne`); `null` when classification failed.
    ConversationClassified { emne: Option<String> },
    /// The host page reported a purchase (seed 002: `purchaseReported`).
    PurchaseReported {
        #[serde(rename = "chatbotID")]
        chatbot_id: String,
        #[serde(rename = "totalPrice")]
        total_price: f64,
        currency: String,
    },
    /// The visitor pressed the size button (seed 002: `toggleSize`); followed by the new size.
    ToggleSize,
    /// The chat window is now the large size (seed 002: `expandChat`).
    ExpandChat,
    /// The chat window is back to the normal size (seed 002: `collapseChat`).
    CollapseChat,
    /// A `custom` marker arrived: the host page handles `key` and `payload`.
    Custom {
        part_id: String,
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<serde_json::Value>,
    },
    /// The first content of an answer arrived (seed 001: `stream_start`).
    #[serde(rename = "stream_start")]
    StreamStart,
    /// Text of the answer as it streams (seed 001: `stream_chunk`, `content`); one per batch.
    #[serde(rename = "stream_chunk")]
    StreamChunk { content: String },
    /// The answer is complete (seed 001: `stream_end`, `message_id`).
    #[serde(rename = "stream_end")]
    StreamEnd { message_id: String },
    /// A message could not be sent or an answer failed (the ApiError or stream error code).
    #[serde(rename = "error")]
    Error {
        code: String,
        message: String,
        retryable: bool,
    },
}

/// The envelope on the wire: `{"source":"dgbot","v":1,"action":"…", …}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope<T> {
    pub source: String,
    pub v: u32,
    #[serde(flatten)]
    pub body: T,
}

impl<T> Envelope<T> {
    pub fn new(body: T) -> Self {
        Envelope {
            source: SOURCE.to_owned(),
            v: VERSION,
            body,
        }
    }
}

/// Commands the host page posts into the iframe.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum HostCommand {
    /// The chat window was opened: focus the composer.
    Opened,
    /// Send this text as the visitor's message (seed 002, "Option 4").
    SendMessage { message: String },
    /// `window.DGbot.identify(user)`: pass the signed identity to the backend.
    Identify { user: IdentifyRequest },
    /// `window.DGbot.reportPurchase(totalPrice, currency)`: answered by `purchaseReported`.
    ReportPurchase {
        #[serde(rename = "totalPrice")]
        total_price: f64,
        currency: String,
    },
    /// Only the `page` field matters: the host page's address changed or may have.
    Page,
}

/// A posted command with the host page's address (`page`, sent with every loader command, so
/// `context.page` of the next message is the page the visitor is on, after SPA route changes too).
#[derive(Debug, Clone, PartialEq)]
pub struct HostMessage {
    pub command: HostCommand,
    pub page: Option<String>,
}

/// A host command as posted: flat, so decoding it is small and tolerant.
#[derive(Debug, Deserialize)]
struct HostCommandWire {
    source: Option<String>,
    v: Option<u32>,
    action: String,
    message: Option<String>,
    user: Option<IdentifyRequest>,
    #[serde(rename = "totalPrice")]
    total_price: Option<f64>,
    currency: Option<String>,
    page: Option<String>,
}

impl HostCommand {
    /// Decode a posted command. `None` for anything that is not a command of a version and
    /// action this widget knows (other scripts post messages too). Our loader marks its
    /// messages with `source` and `v`; a host page posting seed 002's Option 4 by hand
    /// (`{"action":"sendMessage","message":"…"}`) may leave them out, but a different `source`
    /// or `v` is never ours.
    pub fn decode(json: &str) -> Option<HostMessage> {
        let w: HostCommandWire = serde_json::from_str(json).ok()?;
        if w.source.as_deref().is_some_and(|s| s != SOURCE) || w.v.is_some_and(|v| v != VERSION) {
            return None;
        }
        let command = match w.action.as_str() {
            "opened" => HostCommand::Opened,
            "sendMessage" => HostCommand::SendMessage {
                message: w.message?,
            },
            "identify" => HostCommand::Identify { user: w.user? },
            "reportPurchase" => HostCommand::ReportPurchase {
                total_price: w.total_price.filter(|p| p.is_finite() && *p >= 0.0)?,
                currency: w
                    .currency
                    .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()))?,
            },
            "page" => HostCommand::Page,
            _ => return None,
        };
        let page = w
            .page
            .filter(|p| p.starts_with("http://") || p.starts_with("https://"));
        Some(HostMessage { command, page })
    }
}
