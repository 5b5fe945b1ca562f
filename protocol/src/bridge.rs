//! The postMessage envelope between the host page (`loader/widget.js`) and the iframe app.
//!
//! Seed 002's GTM listeners read `event.data.action`, so the action name stays at the top
//! level; `source: "dgbot"` and `v` mark and version our envelope. Both sides name an explicit
//! `targetOrigin` and check `event.origin` and `event.source` (DESIGN.md convention 6). The
//! loader is plain JS, so it repeats these names; `docs/protocol.md` lists them.

use serde::{Deserialize, Serialize};

pub const SOURCE: &str = "dgbot";
pub const VERSION: u32 = 1;

/// Messages the iframe posts to its parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum FrameAction {
    /// The app has mounted and listens for host commands.
    Ready,
    /// The visitor pressed the close button in the chat header (seed 002: `closeChat`).
    CloseChat,
    /// The visitor submitted a message (seed 002: `userMessageSubmitted`).
    UserMessageSubmitted,
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
    /// A `custom` marker arrived: the host page handles `key` and `payload`.
    Custom {
        part_id: String,
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<serde_json::Value>,
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
        Envelope { source: SOURCE.to_owned(), v: VERSION, body }
    }
}

/// Commands the host page posts into the iframe.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum HostCommand {
    /// The chat window was opened: focus the composer.
    Opened,
    /// Send this text as the visitor's message.
    SendMessage { message: String },
}

/// A host command as posted: flat, so decoding it is small and tolerant.
#[derive(Debug, Deserialize)]
struct HostCommandWire {
    source: String,
    v: u32,
    action: String,
    message: Option<String>,
}

impl HostCommand {
    /// Decode a posted command. `None` for anything that is not a dgbot envelope of a version
    /// and action this widget knows (other scripts post messages too).
    pub fn decode(json: &str) -> Option<HostCommand> {
        let w: HostCommandWire = serde_json::from_str(json).ok()?;
        if w.source != SOURCE || w.v != VERSION {
            return None;
        }
        match (w.action.as_str(), w.message) {
            ("opened", _) => Some(HostCommand::Opened),
            ("sendMessage", Some(message)) => Some(HostCommand::SendMessage { message }),
            _ => None,
        }
    }
}
