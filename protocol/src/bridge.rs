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
}

/// The envelope on the wire: `{"source":"dgbot","v":1,"action":"…", …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum HostCommand {
    /// The chat window was opened: focus the composer.
    Opened,
    /// Send this text as the visitor's message.
    SendMessage { message: String },
}
