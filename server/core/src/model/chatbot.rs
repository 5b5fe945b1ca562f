//! A chatbot's settings as the domain sees them: what the configuration file (or, later, the
//! API) says, checked. Nothing here reads files or talks to the network.

use std::time::Duration;

use dgbot_protocol::api::ChatConfig;
use dgbot_protocol::livechat::LivechatSettings;
use dgbot_protocol::message::Author;
use dgbot_protocol::webhooks::WebhookConfig;
use serde::Deserialize;

use super::i18n::{Overrides, StarterPrompts};

#[derive(Debug, Clone)]
pub struct Chatbot {
    /// The public id, as in `data-chatbot-id`.
    pub id: String,
    /// Secret keys for the seed's `POST /api/v1/chat/auth` and the setup endpoints (HTTP Basic).
    pub api_keys: Vec<String>,
    /// Keys of the `test` environment (webhooks they set say `x-di-environment: test`).
    pub test_api_keys: Vec<String>,
    /// Public keys that name this chatbot to browser clients besides its id (seed 004's
    /// `apiKey`, `dosti_pub_…`). Not secrets: they open only what the public id opens.
    pub public_keys: Vec<String>,
    /// `[chatbot.webhooks]`: outbound webhook delivery (the API's, kept in the database, wins).
    pub webhooks: Option<WebhookConfig>,
    /// Verifies `identify()` (seed 000): HMAC of `user_id`, or an HS256 identity token. Never
    /// sent to browsers.
    pub identity_secret: Option<String>,
    /// Refuse identities that are not verified (instead of keeping them, labelled unverified).
    pub identity_required: bool,
    /// Host-page origins the public widget auth accepts (matched by the HTTP layer's `origin_allowed`).
    pub allowed_origins: Vec<String>,
    pub config: ChatConfig,
    /// `[[chatbot.sources]]` (and the `knowledge_base` folder and catalogue, as sources): what
    /// the assistant knows from the start; the API adds more.
    pub sources: Vec<super::knowledge::SourceSpec>,
    pub rate_limit: RateLimit,
    /// `[chatbot.livechat]`: livechat settings (the API's changes, kept in the database, win).
    pub livechat: Option<LivechatSettings>,
    /// `[[chatbot.agents]]`: agent profiles created on start (the API adds more).
    pub agents: Vec<Author>,
    /// `[[chatbot.actions]]`: custom API actions (seed 000), their secrets read.
    pub actions: Vec<Action>,
    /// `[chatbot.model]`: answers from a language model instead of the demo bot.
    pub model: Option<ModelConfig>,
    /// With `language = "auto"`: the language of a visitor whose browser asks for none we have.
    pub default_language: String,
    /// `[chatbot.strings]`: the chatbot's own words for the widget's strings.
    pub strings: Overrides,
    /// `[chatbot.starter_prompts]`: questions offered before the first message, per language.
    pub starter_prompts: StarterPrompts,
    /// The launcher the loader draws on the host page (`GET /launcher/{chatbot_id}`).
    pub launcher: Launcher,
}

/// `launcher_*` of `[chatbot.theme]`: where the loader puts the launcher, and what it shows
/// (the side, which the chat needs too, is the config's `theme.launcher_side`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Launcher {
    /// Pixels from the page's side and bottom edges.
    pub offset: [u16; 2],
    /// A pill with this text instead of the round bubble ("Chat with us").
    pub label: Option<String>,
}

/// Per visitor: at most `messages` messages in any window of `per_seconds` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub messages: u32,
    pub per_seconds: u64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            messages: 20,
            per_seconds: 60,
        }
    }
}

/// What can be sent, by name.
pub const SENDABLE: [&str; 5] = ["question", "page", "identity", "order_number", "email"];

/// A configured action, its secrets read.
#[derive(Debug, Clone)]
pub struct Action {
    pub name: String,
    pub description: String,
    pub label: String,
    pub url: String,
    pub method: reqwest::Method,
    pub headers: Vec<(String, String)>,
    pub send: Vec<String>,
    pub keywords: Vec<String>,
    pub answer: String,
    pub failure_answer: String,
    pub timeout: Duration,
    pub signing_secret: Option<String>,
}

/// `https://…`, plain `http://` to a loopback host (development), or a path (`/…`) on this
/// server itself (the demo shop's own backend).
pub fn action_url_allowed(url: &str) -> bool {
    (url.starts_with('/') && !url.starts_with("//")) || url_allowed(url)
}

/// `https://…`, or plain `http://` to a loopback host (development).
pub fn url_allowed(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    match u.scheme() {
        "https" => u.host_str().is_some(),
        "http" => matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}

/// `[chatbot.model]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The API's base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    pub model: String,
    /// The environment variable that holds the API key; none for local servers.
    pub api_key_env: Option<String>,
    /// The header that carries the key: `Authorization: Bearer …` unless another is named
    /// (Azure OpenAI's `api-key`).
    pub api_key_header: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Replaces the built-in instructions (grounding in the knowledge base is always added).
    pub system_prompt: Option<String>,
    /// How long the whole answer may take.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn default_timeout_seconds() -> u64 {
    60
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            base_url: String::new(),
            model: String::new(),
            api_key_env: None,
            api_key_header: None,
            temperature: None,
            max_tokens: None,
            system_prompt: None,
            timeout_seconds: default_timeout_seconds(),
        }
    }
}

impl ModelConfig {
    /// What is wrong with it, naming the field.
    pub fn check(&self) -> Result<(), (String, String)> {
        if !url_allowed(&self.base_url) {
            return Err((
                "base_url".into(),
                format!(
                    "{:?}: https, or http on a loopback host (127.0.0.1, localhost)",
                    self.base_url
                ),
            ));
        }
        if self.model.trim().is_empty() {
            return Err(("model".into(), "the model's name is required".into()));
        }
        if let Some(name) = &self.api_key_env
            && std::env::var(name).is_err()
        {
            return Err((
                "api_key_env".into(),
                format!("the environment has no {name}"),
            ));
        }
        Ok(())
    }

    /// The API key, read from the environment when asked (so a rotated key is used at once).
    pub fn api_key(&self) -> Option<String> {
        std::env::var(self.api_key_env.as_deref()?).ok()
    }
}

#[cfg(test)]
impl Chatbot {
    /// The demo shop's chatbot as the core's own tests need it: its knowledge files
    /// (`server/demo/`), no keys, no livechat, no model.
    pub(crate) fn for_tests() -> Chatbot {
        let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo");
        Chatbot {
            id: "demo-shop".into(),
            api_keys: vec![],
            test_api_keys: vec![],
            public_keys: vec![],
            webhooks: None,
            identity_secret: None,
            identity_required: false,
            allowed_origins: vec![],
            config: ChatConfig {
                chatbot_id: "demo-shop".into(),
                name: "Nordlys Assistant".into(),
                avatar: None,
                welcome_message: "Hi!".into(),
                theme: Default::default(),
                popup_messages: vec![],
                starter_prompts: vec![],
                voice: false,
                language: "en".into(),
                strings: Default::default(),
                chat_type: "shopping_assistant".into(),
                livechat: dgbot_protocol::api::LivechatConfig {
                    enabled: false,
                    configured: false,
                    availability_status: "offline".into(),
                    availability_reason: None,
                    attachments_enabled: false,
                    max_attachment_size_bytes: 0,
                },
            },
            sources: super::knowledge::knowledge_base_sources(
                &demo.join("kb"),
                &demo.join("catalogue.json"),
            )
            .expect("the demo knowledge base"),
            rate_limit: RateLimit::default(),
            livechat: None,
            agents: vec![],
            actions: vec![],
            model: None,
            default_language: "en".into(),
            strings: Default::default(),
            starter_prompts: Default::default(),
            launcher: Launcher::default(),
        }
    }
}
