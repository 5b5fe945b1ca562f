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
    /// The chat window opened (the loader said `opened`): seed 002's `chat_open` CustomEvent,
    /// decided here like every `chat_*` payload, with the config's `chat_type`.
    ChatOpened,
    /// The visitor pressed the close button in the chat header, or Escape (seed 002: `closeChat`).
    CloseChat,
    /// The visitor submitted a message (seed 002: `userMessageSubmitted`).
    UserMessageSubmitted,
    /// The same moment for `window.DGbot.on("message")`, with what the visitor wrote.
    #[serde(rename = "message")]
    Message { text: String },
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
    /// The chat window is back to the normal size (seed 002: `collapseChat`); also ends `peekChat`.
    CollapseChat,
    /// Ours: show the closed chat's popup messages above the launcher (config `popup_messages`);
    /// the loader makes the window small and see-through while the chat draws them.
    PeekChat,
    /// Ours: the visitor clicked a popup message: the loader opens the chat.
    OpenChat,
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
    /// Ours: the visitor's id changed (a new visitor, or `null` after "Delete my data"). The
    /// loader keeps it in the host page's own storage, for browsers that deny this frame its
    /// storage, and hands it back in [`HostCommand::Visitor`] when the chat next loads.
    #[serde(rename = "visitor")]
    Visitor { visitor_id: Option<String> },
    /// An answer offered a hand-over to a person (seed 001: `handoff_offered`); `message` is
    /// the answer's text.
    #[serde(rename = "handoff_offered")]
    HandoffOffered { message: String },
    /// The livechat session changed status (`waiting`, `active`, `closed`).
    #[serde(rename = "livechat_state")]
    LivechatState {
        status: crate::livechat::LivechatStatus,
    },
    /// A person took the chat (seed 001: `agent_joined`).
    #[serde(rename = "agent_joined")]
    AgentJoined { agent_name: String },
    /// The person wrote (seed 001: `agent_message`); `content` is the message's text.
    #[serde(rename = "agent_message")]
    AgentMessage { content: String, agent_name: String },
    /// The person's chat ended (seed 001: `agent_left`).
    #[serde(rename = "agent_left")]
    AgentLeft {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_name: Option<String>,
    },
    /// The assistant is using a tool (seed 001: `tool_action`, `status: "calling"`): a custom
    /// API action, `label` saying what it looks up.
    #[serde(rename = "tool_action")]
    ToolAction {
        tool: String,
        status: String,
        label: String,
    },
    /// The visitor voted on an answer (`value` `up` or `down`, with the reason they picked):
    /// `window.DGbot.on("answer_feedback")` and the `chat_answer_feedback` CustomEvent, whose
    /// `detail` carries these fields and `chat_type` (for GTM).
    #[serde(rename = "answer_feedback")]
    AnswerFeedback {
        message_id: String,
        value: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A message could not be sent or an answer failed (the ApiError or stream error code).
    #[serde(rename = "error")]
    Error {
        code: String,
        message: String,
        retryable: bool,
    },
}

impl FrameAction {
    /// Seed 002's "Mapping to CustomEvents": the `window` CustomEvent the loader dispatches for
    /// this action (`chat_custom` is ours, for `custom` markers).
    pub fn custom_event(&self) -> Option<&'static str> {
        Some(match self {
            FrameAction::ChatOpened => "chat_open",
            FrameAction::ProductClick => "chat_product_click",
            FrameAction::AssistantFirstToken => "chat_response",
            FrameAction::ProductRecommendation { .. } => "chat_recommendation",
            FrameAction::ContactFormShown => "chat_contact_form_shown",
            FrameAction::ConversationClassified { .. } => "chat_conversation_classified",
            FrameAction::Custom { .. } => "chat_custom",
            FrameAction::AnswerFeedback { .. } => "chat_answer_feedback",
            _ => return None,
        })
    }

    /// The message as posted to the host page. Besides the envelope and the action's own fields:
    /// - actions that map to a seed CustomEvent carry `event` (its name) and `detail` (its exact
    ///   payload: `chat_type` on all, `response_latency_ms` on `chat_response`, `classification`
    ///   on `chat_conversation_classified`);
    /// - our own (snake_case) actions carry their fields again as `detail`, which the loader
    ///   hands to `window.DGbot.on()` handlers.
    ///
    /// The loader stays a small dispatcher and the seed's payloads are decided (and tested) here.
    pub fn to_host(&self, chat_type: &str, response_latency_ms: Option<u64>) -> serde_json::Value {
        // The action (tagged by `action`), then the envelope's fields: what `Envelope` writes,
        // without serde's `flatten` machinery in the widget.
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let Some(fields) = v.as_object_mut() else {
            return v;
        };
        let mut own = fields.clone();
        own.remove("action");
        fields.insert("source".into(), SOURCE.into());
        fields.insert("v".into(), VERSION.into());
        if let Some(event) = self.custom_event() {
            let mut detail = match self {
                FrameAction::Custom { .. } | FrameAction::AnswerFeedback { .. } => own,
                _ => serde_json::Map::new(),
            };
            if !matches!(self, FrameAction::Custom { .. }) {
                detail.insert("chat_type".into(), chat_type.into());
            }
            match self {
                FrameAction::AssistantFirstToken => {
                    detail.insert(
                        "response_latency_ms".into(),
                        response_latency_ms.unwrap_or(0).into(),
                    );
                }
                FrameAction::ConversationClassified { emne } => {
                    detail.insert("classification".into(), emne.clone().into());
                }
                _ => {}
            }
            fields.insert("event".into(), event.into());
            fields.insert("detail".into(), detail.into());
        } else if fields
            .get("action")
            .and_then(|a| a.as_str())
            .is_some_and(|a| a.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        {
            fields.insert("detail".into(), own.into());
        }
        v
    }
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
    /// The loader's copy of the visitor id (`null`: it has none), sent when the frame loads.
    Visitor {
        #[serde(skip_serializing_if = "Option::is_none")]
        visitor_id: Option<String>,
    },
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
    visitor_id: Option<String>,
}

impl HostCommand {
    /// Decode a posted command. `None` for anything that is not a command of a version and
    /// action this widget knows (other scripts post messages too). Our loader marks its
    /// messages with `source` and `v`; a host page posting seed 002's Option 4 by hand
    /// (`{"action":"sendMessage","message":"…"}`) may leave them out, but a different `source`
    /// or `v` is never ours.
    pub fn decode(json: &str) -> Option<HostMessage> {
        Self::decode_value(serde_json::from_str(json).ok()?)
    }

    /// [`HostCommand::decode`] of an already parsed value (the widget's `MessageEvent.data`).
    pub fn decode_value(json: serde_json::Value) -> Option<HostMessage> {
        let w: HostCommandWire = crate::from_value(json).ok()?;
        if w.source.as_deref().is_some_and(|s| s != SOURCE) || w.v.is_some_and(|v| v != VERSION) {
            return None;
        }
        let command = match w.action.as_str() {
            "opened" => HostCommand::Opened,
            "sendMessage" => HostCommand::SendMessage {
                message: w.message?,
            },
            // A user id to keep, or a signed token that names one.
            "identify" => HostCommand::Identify {
                user: w
                    .user
                    .filter(|u| !u.user_id.trim().is_empty() || u.token.is_some())?,
            },
            "reportPurchase" => HostCommand::ReportPurchase {
                total_price: w.total_price.filter(|p| p.is_finite() && *p >= 0.0)?,
                currency: w
                    .currency
                    .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()))?
                    .to_ascii_uppercase(),
            },
            "page" => HostCommand::Page,
            // A malformed id is no id: the chat then starts as a new visitor.
            "visitor" => HostCommand::Visitor {
                visitor_id: w.visitor_id.filter(|id| {
                    (8..=64).contains(&id.len())
                        && id
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                }),
            },
            _ => return None,
        };
        let page = w
            .page
            .filter(|p| p.starts_with("http://") || p.starts_with("https://"));
        Some(HostMessage { command, page })
    }
}
