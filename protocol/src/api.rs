//! Request and response bodies of the visitor-facing chat API (seed 002, "Chatbot API Flow"),
//! and the `ApiError` envelope every non-2xx response carries (seed 002, "Chatbot API Errors").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::message::Part;

/// `POST /api/v1/chat/auth` body (HTTP Basic with the API key), and of our public
/// `POST /api/v1/chat/auth/public` (no key; the host page's origin must be allowed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub chatbot_id: String,
    /// Public auth only: the origin of the page the widget is embedded in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_origin: Option<String>,
    /// Public auth only: a visitor id the widget keeps, so a new token continues the same
    /// visitor's conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthResponse {
    pub token: String,
}

/// `GET /api/v1/chat/config`: the public UI configuration of a chatbot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatConfig {
    pub chatbot_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    pub welcome_message: String,
    /// Sent, and not decoded: the widget puts the look on its page from the configuration's
    /// JSON in plain JS (index.html, `__dgLook`), and decoding it too would cost the opened
    /// widget a kilobyte. A client that wants it reads it from the JSON.
    #[serde(default, skip_deserializing)]
    pub theme: Theme,
    #[serde(default)]
    pub popup_messages: Vec<String>,
    /// Questions offered as chips before the visitor's first message, in `language`
    /// (`[chatbot.starter_prompts]`); a click sends one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub starter_prompts: Vec<String>,
    /// Voice input (the browser's speech recognition) and "read aloud" (its speech synthesis):
    /// off unless the chatbot sets `voice = true`; the chat page then allows the microphone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub voice: bool,
    /// The language of this visitor's chat, a BCP 47 tag (`da`, `en`, `ar`): the chatbot's
    /// `language`, or with `"auto"` the first of the visitor's languages (`Accept-Language`,
    /// which browsers fill from `navigator.languages`) that has a catalogue, else English.
    /// Right to left for Arabic, Hebrew, Persian, Urdu and the other languages of their scripts.
    pub language: String,
    /// The widget's words in `language`, keyed by their English text (as gettext does), with the
    /// chatbot's `[chatbot.strings]` overrides applied; empty for English without overrides.
    /// A string not here shows in English. Not decoded by the widget (it looks them up in the
    /// JSON, `src/logic/i18n.rs`).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        skip_deserializing
    )]
    pub strings: BTreeMap<String, String>,
    /// The `chat_type` every analytics event carries (seed 002: `"shopping_assistant"`).
    pub chat_type: String,
    /// Hand-over to human agents (seed 002, "Setup before handover").
    pub livechat: LivechatConfig,
}

/// The `livechat` block of `GET /api/v1/chat/config`, with the seed's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivechatConfig {
    /// Show the hand-over UI only when true.
    pub enabled: bool,
    pub configured: bool,
    /// `live`: a visitor can request a hand-over now; `offline`: do not start one.
    pub availability_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_reason: Option<String>,
    pub attachments_enabled: bool,
    pub max_attachment_size_bytes: u64,
}

impl LivechatConfig {
    pub fn is_live(&self) -> bool {
        self.enabled && self.availability_status == "live"
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Theme {
    /// Launcher, header and visitor bubbles.
    pub primary_color: String,
    /// Text on `primary_color`.
    pub on_primary_color: String,
    /// `light`, `dark`, or `auto` (the visitor's `prefers-color-scheme`).
    #[serde(default = "light")]
    pub mode: String,
    /// A CSS font stack for the chat (the host page's fonts cannot cross into the iframe),
    /// e.g. `"Inter", system-ui, sans-serif`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_family: Option<String>,
    /// An https font file (woff2, woff, ttf) that the first family of `font_family` names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_url: Option<String>,
    /// The corner radius of the window's bubbles, in CSS pixels (0–24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius: Option<u8>,
    /// `right` or `left`: the side of the page the launcher (and so the popup messages) is on.
    #[serde(default = "right")]
    pub launcher_side: String,
}

fn right() -> String {
    "right".into()
}

fn light() -> String {
    "light".into()
}

/// `POST /api/v1/chat/messages` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendMessageRequest {
    pub message: InputMessage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<MessageContext>,
    /// "Ask again" and "edit and resend": the id of the conversation's last answer, which this
    /// message replaces together with the question it answered (history then shows only the new
    /// pair). Sent with a new `Idempotency-Key`; a retry of the same key is stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// What the visitor sends: text, an image for a `request_image_upload`, a file for a livechat
/// agent. Serialized by hand through the three part types a visitor sends, so a client that
/// encodes it (the widget) carries no encoder for the assistant's part types (tables, products,
/// markers): 2 KB of the opened widget. Any other part is written as its `type` alone (the
/// widget never sends one; the server reads only text and images from a visitor, and a part of
/// another type without its fields does not decode: 400). Decoded as usual.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InputMessage {
    pub parts: Vec<Part>,
}

impl Serialize for InputMessage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use crate::message::{FilePart, ImagePart, TextPart};
        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Input<'a> {
            Text(&'a TextPart),
            Image(&'a ImagePart),
            File(&'a FilePart),
        }
        #[derive(Serialize)]
        struct Other {
            #[serde(rename = "type")]
            kind: &'static str,
        }
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Wire<'a> {
            Input(Input<'a>),
            Other(Other),
        }
        #[derive(Serialize)]
        struct Body<'a> {
            parts: Vec<Wire<'a>>,
        }
        let parts = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => Wire::Input(Input::Text(t)),
                Part::Image(i) => Wire::Input(Input::Image(i)),
                Part::File(f) => Wire::Input(Input::File(f)),
                other => Wire::Other(Other {
                    kind: other.type_name(),
                }),
            })
            .collect();
        Body { parts }.serialize(serializer)
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessageContext {
    /// The URL of the host page the visitor is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

/// The `ApiError` envelope: `{"error": {"code", "message", "params"?}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

impl ApiError {
    /// The envelope read by hand from its JSON (`None`: not an envelope; an unknown code is
    /// [`ApiErrorCode::Unknown`], a field error without both strings is dropped). The widget
    /// reads every error through this: the derived decoders of the envelope, its code and its
    /// field list cost the opened widget 1.5 KB.
    pub fn from_json(json: &serde_json::Value) -> Option<ApiError> {
        let body = json.get("error")?;
        let text = |v: &serde_json::Value, key: &str| v.get(key)?.as_str().map(str::to_owned);
        let code = body.get("code")?.as_str()?;
        let code = [
            ApiErrorCode::Unauthorized,
            ApiErrorCode::Forbidden,
            ApiErrorCode::NotFound,
            ApiErrorCode::RateLimited,
            ApiErrorCode::Validation,
            ApiErrorCode::Conflict,
            ApiErrorCode::Internal,
        ]
        .into_iter()
        .find(|c| c.as_str() == code)
        .unwrap_or(ApiErrorCode::Unknown);
        let params = body.get("params").and_then(|p| p.as_array()).map(|params| {
            params
                .iter()
                .filter_map(|p| {
                    Some(FieldError {
                        field: text(p, "field")?,
                        message: text(p, "message")?,
                    })
                })
                .collect()
        });
        Some(ApiError {
            error: ApiErrorBody {
                code,
                message: text(body, "message")?,
                params,
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub code: ApiErrorCode,
    pub message: String,
    /// Present only when specific fields are invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Vec<FieldError>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    Unauthorized,
    Forbidden,
    NotFound,
    RateLimited,
    Validation,
    /// The request clashes with the state of the resource: another agent is assigned to the
    /// livechat session, the session is closed, or livechat is active and visitor input
    /// belongs on the livechat endpoint. Our addition to the seed's table (`409`).
    Conflict,
    Internal,
    /// A code from a newer server: handled as a generic error.
    #[serde(other)]
    Unknown,
}

impl ApiErrorCode {
    /// The code as on the wire (`"rate_limited"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ApiErrorCode::Unauthorized => "unauthorized",
            ApiErrorCode::Forbidden => "forbidden",
            ApiErrorCode::NotFound => "not_found",
            ApiErrorCode::RateLimited => "rate_limited",
            ApiErrorCode::Validation => "validation",
            ApiErrorCode::Conflict => "conflict",
            ApiErrorCode::Internal => "internal",
            ApiErrorCode::Unknown => "unknown",
        }
    }

    /// The typical HTTP status of the code (seed 002 table).
    pub fn status(self) -> u16 {
        match self {
            ApiErrorCode::Unauthorized => 401,
            ApiErrorCode::Forbidden => 403,
            ApiErrorCode::NotFound => 404,
            ApiErrorCode::RateLimited => 429,
            ApiErrorCode::Validation => 422,
            ApiErrorCode::Conflict => 409,
            ApiErrorCode::Internal | ApiErrorCode::Unknown => 500,
        }
    }
}

impl ApiError {
    pub fn new(code: ApiErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            error: ApiErrorBody {
                code,
                message: message.into(),
                params: None,
            },
        }
    }

    pub fn with_params(mut self, params: Vec<FieldError>) -> Self {
        self.error.params = Some(params);
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.error.code, self.error.message)
    }
}

impl std::error::Error for ApiError {}

/// `POST /api/v1/chat/actions`: the visitor completed a marker. `part_id` is the marker's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    pub part_id: String,
    pub action: Action,
}

/// Only `show_contact_form` and `show_support_ticket` are submitted here (seed 002).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// `fields`: the marker's field keys → the visitor's values.
    ContactForm {
        fields: std::collections::BTreeMap<String, String>,
    },
    SupportTicket {
        fields: std::collections::BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Attachment>,
    },
}

/// A file sent inline, base64-encoded (the seed's livechat `file` input shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub mime: String,
    /// Base64 of the file's bytes.
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionResponse {
    pub action_id: String,
    /// What to tell the visitor.
    pub message: String,
}

/// `GET /api/v1/chat/messages?limit=&before=`: a page of the visitor's history, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub messages: Vec<crate::Message>,
    /// More, older messages exist: ask again with `before` = the first message's id.
    pub has_more: bool,
}

/// `POST /api/v1/chat/identify`: who the visitor is on the host site, from
/// `window.DGbot.identify(user)` (seed 000). Verified by either `user_hash`, the lowercase hex
/// HMAC-SHA256 of `user_id` with the chatbot's identity secret, or `token`, a JWT (HS256 with
/// that secret) carrying `sub`, `name`, `email`, `exp` (then `user_id` may be left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentifyRequest {
    #[serde(default)]
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
    /// A signed identity token (JWT, HS256 with the chatbot's identity secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentifyResponse {
    pub user_id: String,
    /// Whether `user_hash` or `token` was checked against the chatbot's identity secret.
    pub verified: bool,
    /// A visitor token for a new conversation: another verified person than the one this
    /// conversation belongs to was identified, so their data is not merged. Use it from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_token: Option<String>,
}

/// `GET /api/v1/chat/classification?message_id=…`: the topic the server gave the conversation
/// after that answer (seed 002's `conversationClassified`); `null` when classification failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationResponse {
    pub message_id: String,
    pub classification: Option<String>,
}

/// `POST /api/v1/chat/messages/{message_id}/feedback`: the visitor's vote on one assistant
/// answer. One vote per answer; a second one replaces the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerFeedbackRequest {
    pub value: FeedbackValue,
    /// With `down` only: one of [`FEEDBACK_REASONS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With `down` only: the visitor's own words, up to 1,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Why an answer did not help, as the widget offers it.
pub const FEEDBACK_REASONS: [&str; 4] = ["incorrect", "not_what_i_asked", "incomplete", "other"];

pub use crate::message::{AnswerFeedback, FeedbackValue};

/// `POST /api/v1/chat/messages/{message_id}/feedback`'s response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerFeedbackResponse {
    pub message_id: String,
    pub feedback: AnswerFeedback,
    /// On a "not helpful" vote, the next step the chatbot has, as a new assistant message
    /// stored after the answer: a `request_human_agent` marker while livechat is live, else a
    /// `show_contact_form` (the same markers as an answer's). Absent on an up vote and when
    /// the answer already had a "not helpful" vote (changing the reason offers nothing new).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<crate::Message>,
}

/// `POST /api/v1/chat/rate`: a 1–5 rating of the conversation, with optional feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateRequest {
    pub rating: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateResponse {
    /// What to tell the visitor.
    pub message: String,
}

/// `DELETE /api/v1/chat`: what was removed (the counts the seed's `visitor.data.deleted` carries).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeleteResponse {
    pub messages: usize,
    pub submissions: usize,
    pub ratings: usize,
    #[serde(default)]
    pub livechat_sessions: usize,
    #[serde(default)]
    pub attachments: usize,
}
