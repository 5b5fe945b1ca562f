//! Chatbots the server knows. The walking skeleton ships one built-in demo chatbot; loading
//! chatbots from a TOML file comes with the reference-server work (issue 5).

use dgbot_protocol::api::{ChatConfig, LivechatConfig, Theme};

#[derive(Debug, Clone)]
pub struct Chatbot {
    /// The public id, as in `data-chatbot-id`.
    pub id: String,
    /// Secret keys for the seed's `POST /api/v1/chat/auth` (HTTP Basic).
    pub api_keys: Vec<String>,
    /// Host-page origins the public widget auth accepts (see `auth::origin_allowed`).
    pub allowed_origins: Vec<String>,
    pub config: ChatConfig,
}

pub const DEMO_CHATBOT_ID: &str = "demo-shop";
pub const DEMO_API_KEY: &str = "demo-secret-key";

impl Chatbot {
    /// The demo shop's assistant: accepts host pages on any loopback origin, any port.
    pub fn demo() -> Self {
        Chatbot {
            id: DEMO_CHATBOT_ID.to_owned(),
            api_keys: vec![DEMO_API_KEY.to_owned()],
            allowed_origins: ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
                .map(String::from)
                .to_vec(),
            config: ChatConfig {
                chatbot_id: DEMO_CHATBOT_ID.to_owned(),
                name: "Nordlys Assistant".to_owned(),
                avatar: None,
                welcome_message: "Hi! I'm the Nordlys Home assistant. Ask me about shipping, returns, payment or opening hours."
                    .to_owned(),
                theme: Theme { primary_color: "#1f5f5b".to_owned(), on_primary_color: "#ffffff".to_owned() },
                popup_messages: vec![],
                language: "en".to_owned(),
                chat_type: "shopping_assistant".to_owned(),
                // Hand-over to people comes with the livechat work; until then the demo says so.
                livechat: LivechatConfig {
                    enabled: false,
                    configured: false,
                    availability_status: "offline".to_owned(),
                    availability_reason: Some("not_configured".to_owned()),
                    attachments_enabled: false,
                    max_attachment_size_bytes: 0,
                },
            },
        }
    }
}
