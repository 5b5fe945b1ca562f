//! The chatbots the server serves, from one TOML file (`server/dgbot.toml` ships the demo shop;
//! `DGBOT_CONFIG` names another). A bad file stops the server at start with a message that
//! names the field (`chatbot[0].theme.primary_color: …`); TOML syntax errors and unknown or
//! missing fields come with the line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dgbot_protocol::api::{ChatConfig, LivechatConfig, Theme};
use dgbot_protocol::livechat::LivechatSettings;
use dgbot_protocol::message::Author;
use dgbot_protocol::webhooks::WebhookConfig;
use serde::Deserialize;

use dgbot_core::model::chatbot::{SENDABLE, action_url_allowed};
use dgbot_core::model::i18n::{self, Overrides, StarterPrompts};
use dgbot_core::model::knowledge::{SourceSpec, knowledge_base_sources};
use dgbot_core::model::webhook::Normalize;
pub use dgbot_core::model::{Action, Chatbot, Database, Launcher, ModelConfig, RateLimit};

/// `[chatbot.theme]` as written: the widget's part ([`Theme`]) and the launcher's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    primary_color: String,
    on_primary_color: String,
    #[serde(default = "light")]
    mode: String,
    font_family: Option<String>,
    font_url: Option<String>,
    radius: Option<u8>,
    #[serde(default = "right")]
    launcher_side: String,
    #[serde(default = "launcher_offset")]
    launcher_offset: [u16; 2],
    launcher_label: Option<String>,
}

fn light() -> String {
    "light".into()
}

fn right() -> String {
    "right".into()
}

fn launcher_offset() -> [u16; 2] {
    [20, 20]
}

/// The whole configuration file.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The database (created and migrated on start): a SQLite file, or `postgres://…`.
    pub database: Database,
    pub chatbots: Vec<Chatbot>,
}

pub const DEMO_CHATBOT_ID: &str = "demo-shop";
pub const DEMO_API_KEY: &str = "demo-secret-key";

/// The configuration shipped in the repository.
pub fn repo_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dgbot.toml")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    database: String,
    #[serde(rename = "chatbot", default)]
    chatbots: Vec<ChatbotFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatbotFile {
    id: String,
    name: String,
    api_keys: Vec<String>,
    #[serde(default)]
    test_api_keys: Vec<String>,
    #[serde(default)]
    public_keys: Vec<String>,
    allowed_origins: Vec<String>,
    welcome_message: String,
    #[serde(default)]
    popup_messages: Vec<String>,
    #[serde(default = "default_language")]
    language: String,
    #[serde(default = "default_language")]
    default_language: String,
    #[serde(default)]
    strings: Overrides,
    /// A list for every language, or `[chatbot.starter_prompts]`: a list per language.
    #[serde(default)]
    starter_prompts: StarterPrompts,
    /// The microphone (dictation) and "read aloud" in the widget; off by default.
    #[serde(default)]
    voice: bool,
    #[serde(default = "default_chat_type")]
    chat_type: String,
    #[serde(default)]
    avatar: Option<String>,
    theme: ThemeFile,
    /// The older form of sources: a folder of Markdown FAQ files and a catalogue JSON file.
    knowledge_base: Option<KnowledgeBaseFile>,
    /// `[[chatbot.sources]]`: websites, files, curated answers, product feeds (issue 26).
    #[serde(default)]
    sources: Vec<SourceSpec>,
    #[serde(default)]
    rate_limit: RateLimit,
    livechat: Option<LivechatSettings>,
    #[serde(default)]
    agents: Vec<AgentFile>,
    webhooks: Option<WebhookConfig>,
    identity_secret: Option<String>,
    #[serde(default)]
    identity_required: bool,
    #[serde(default)]
    actions: Vec<ActionFile>,
    model: Option<ModelConfig>,
}

/// `[[chatbot.actions]]` as written in the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionFile {
    /// The tool's name (`order_status`): letters, digits and `_`.
    pub name: String,
    /// When the bot should use it (a language model reads this).
    pub description: String,
    /// What the visitor sees while it runs: "Looking up {label}…" (default: the name in words).
    pub label: Option<String>,
    /// `https://…`, or `http://` on a loopback host for development.
    pub url: String,
    /// `POST` (the default) or `PUT`: the visitor data goes in the JSON body, never the URL.
    #[serde(default = "default_method")]
    pub method: String,
    /// Extra request headers. A value `env:NAME` is read from the environment at start (put
    /// secrets there, never in the file).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// What the bot may send: `question`, `page`, `identity` (the verified identity only), and
    /// values it extracts from the question (`order_number`, `email`).
    #[serde(default)]
    pub send: Vec<String>,
    /// For the demo bot: words in a question that call for this action.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The answer, from the JSON response: `{{field}}` or `{{a.b}}` is replaced by that value.
    pub answer: String,
    /// The answer when the endpoint fails or times out.
    #[serde(default = "default_failure")]
    pub failure_answer: String,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// `env:NAME`: the secret that signs requests (`x-dgbot-signature`), as webhooks are signed.
    pub signing_secret: Option<String>,
}

fn default_method() -> String {
    "POST".into()
}

fn default_failure() -> String {
    "Sorry, I couldn't look that up right now. Please try again in a moment, or ask for a person."
        .into()
}

fn default_timeout_ms() -> u64 {
    5000
}

impl ActionFile {
    /// Checked and with its secrets read from `env`, or what is wrong (naming the field).
    pub fn resolve(self, env: impl Fn(&str) -> Option<String>) -> Result<Action, (String, String)> {
        let bad = |field: &str, why: String| Err((field.to_owned(), why));
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return bad("name", "letters, digits and _ only".into());
        }
        if !action_url_allowed(&self.url) {
            return bad(
                "url",
                format!(
                    "{:?}: https, http on a loopback host (127.0.0.1, localhost), or a path on this server",
                    self.url
                ),
            );
        }
        let method = match self.method.to_ascii_uppercase().as_str() {
            "POST" => reqwest::Method::POST,
            "PUT" => reqwest::Method::PUT,
            other => return bad("method", format!("{other:?}: POST or PUT")),
        };
        if let Some(s) = self.send.iter().find(|s| !SENDABLE.contains(&s.as_str())) {
            return bad("send", format!("{s:?}: one of {}", SENDABLE.join(", ")));
        }
        let secret = |field: &str, v: String| -> Result<String, (String, String)> {
            match v.strip_prefix("env:") {
                Some(name) => env(name)
                    .ok_or_else(|| (field.to_owned(), format!("the environment has no {name}"))),
                None => Ok(v),
            }
        };
        let mut headers = Vec::new();
        for (name, value) in self.headers {
            let value = secret(&format!("headers.{name}"), value)?;
            headers.push((name, value));
        }
        let signing_secret = match self.signing_secret {
            Some(s) if s.starts_with("env:") => Some(secret("signing_secret", s)?),
            Some(_) => {
                return bad(
                    "signing_secret",
                    "write env:NAME and put the secret in that environment variable".into(),
                );
            }
            None => None,
        };
        Ok(Action {
            label: self.label.unwrap_or_else(|| self.name.replace('_', " ")),
            name: self.name,
            description: self.description,
            url: self.url,
            method,
            headers,
            send: self.send,
            keywords: self
                .keywords
                .into_iter()
                .map(|k| k.to_lowercase())
                .collect(),
            answer: self.answer,
            failure_answer: self.failure_answer,
            timeout: Duration::from_millis(self.timeout_ms.clamp(100, 30_000)),
            signing_secret,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentFile {
    id: String,
    display_name: String,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeBaseFile {
    faq: PathBuf,
    catalogue: PathBuf,
}

/// What a configuration source must have: a URL or a path where it reads one, words in a
/// curated answer. (The URL's address is checked when it is fetched.)
fn check_config_source(spec: &SourceSpec) -> Result<(), String> {
    let web = |u: &str| u.starts_with("https://") || u.starts_with("http://");
    match spec {
        SourceSpec::Website { url, .. } if !web(url) => Err(format!("{url:?}: an http(s) URL")),
        SourceSpec::ProductFeed {
            url, path: None, ..
        } if !web(url) => Err(format!("{url:?}: an http(s) URL, or a path")),
        SourceSpec::File {
            path: None, data, ..
        } if data.is_empty() => Err("a file source in the configuration names its path".into()),
        SourceSpec::Qa { question, answer }
            if question.trim().is_empty() || answer.trim().is_empty() =>
        {
            Err("question and answer: both required".into())
        }
        _ => Ok(()),
    }
}

fn default_language() -> String {
    "en".into()
}

fn default_chat_type() -> String {
    "shopping_assistant".into()
}

fn is_color(c: &str) -> bool {
    c.strip_prefix('#').is_some_and(|h| {
        matches!(h.len(), 3 | 4 | 6 | 8) && h.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// `*`, `https://host`, `http://host:8080` or `http://host:*`.
fn is_origin_pattern(o: &str) -> bool {
    if o == "*" {
        return true;
    }
    let Some((scheme, rest)) = o.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains('/')
        && !rest.ends_with(':')
}

impl Settings {
    /// Read and check the file at `path`.
    pub fn load(path: &Path) -> Result<Settings, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text, path.parent().unwrap_or(Path::new(".")))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parse a configuration; relative paths in it are relative to `dir`.
    pub fn parse(text: &str, dir: &Path) -> Result<Settings, String> {
        let file: SettingsFile =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        if file.chatbots.is_empty() {
            return Err("no chatbots: add a [[chatbot]] table".into());
        }
        let mut chatbots: Vec<Chatbot> = vec![];
        for (i, c) in file.chatbots.into_iter().enumerate() {
            let field = |name: &str| format!("chatbot[{i}].{name}");
            let bad = |name: &str, why: &str| Err(format!("{}: {why}", field(name)));
            if c.id.is_empty()
                || !c
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return bad("id", "use letters, digits, '-' and '_'");
            }
            if chatbots.iter().any(|other| other.id == c.id) {
                return bad("id", &format!("{:?} is used by another chatbot", c.id));
            }
            if c.name.trim().is_empty() {
                return bad("name", "must not be empty");
            }
            let webhooks = match c.webhooks.map(Normalize::normalized) {
                Some(Err(errors)) => {
                    let e = &errors[0];
                    return bad(&format!("webhooks.{}", e.field), &e.message);
                }
                Some(Ok(webhooks)) => Some(webhooks),
                None => None,
            };
            if c.api_keys
                .iter()
                .chain(&c.test_api_keys)
                .any(|k| k.len() < 8)
            {
                return bad("api_keys", "every key needs at least 8 characters");
            }
            if c.identity_secret.as_ref().is_some_and(|s| s.len() < 16) {
                return bad("identity_secret", "use at least 16 characters");
            }
            if c.identity_required && c.identity_secret.is_none() {
                return bad(
                    "identity_required",
                    "needs an identity_secret to verify identities with",
                );
            }
            // The key names the chatbot on the setup endpoints, so no two chatbots share one.
            if let Some(k) = c.api_keys.iter().chain(&c.test_api_keys).find(|k| {
                chatbots
                    .iter()
                    .any(|o| o.api_keys.contains(k) || o.test_api_keys.contains(k))
            }) {
                return bad(
                    "api_keys",
                    &format!("{:?}… is used by another chatbot", &k[..4]),
                );
            }
            if let Some(o) = c.allowed_origins.iter().find(|o| !is_origin_pattern(o)) {
                return bad(
                    "allowed_origins",
                    &format!(
                        "{o:?} is not an origin (https://shop.example.com, http://localhost:*, or *)"
                    ),
                );
            }
            for (name, value) in [
                ("theme.primary_color", &c.theme.primary_color),
                ("theme.on_primary_color", &c.theme.on_primary_color),
            ] {
                if !is_color(value) {
                    return bad(name, &format!("{value:?} is not a colour like \"#1f5f5b\""));
                }
            }
            let t = &c.theme;
            if !matches!(t.mode.as_str(), "light" | "dark" | "auto") {
                return bad("theme.mode", "use \"light\", \"dark\" or \"auto\"");
            }
            if let Some(f) = &t.font_family
                && (f.trim().is_empty() || f.len() > 200 || f.contains([';', '{', '}', '\\', '<']))
            {
                return bad(
                    "theme.font_family",
                    "a CSS font stack like \"Inter\", system-ui, sans-serif",
                );
            }
            if let Some(u) = &t.font_url
                && (!u.starts_with("https://") || u.contains(['"', '\'', '(', ')', '\\', ' ']))
            {
                return bad(
                    "theme.font_url",
                    "an https:// URL of a font file (woff2, woff, ttf)",
                );
            }
            if t.font_url.is_some() && t.font_family.is_none() {
                return bad(
                    "theme.font_url",
                    "needs a font_family whose first font it names",
                );
            }
            if t.radius.is_some_and(|r| r > 24) {
                return bad("theme.radius", "at most 24 (pixels)");
            }
            if !matches!(t.launcher_side.as_str(), "left" | "right") {
                return bad("theme.launcher_side", "use \"right\" or \"left\"");
            }
            if t.launcher_offset.iter().any(|o| *o > 400) {
                return bad("theme.launcher_offset", "at most 400 pixels from each edge");
            }
            if let Some(l) = &t.launcher_label
                && (l.trim().is_empty() || l.chars().count() > 40)
            {
                return bad("theme.launcher_label", "1 to 40 characters");
            }
            for (name, tag) in [
                ("language", &c.language),
                ("default_language", &c.default_language),
            ] {
                if !i18n::is_language(tag) || (name == "default_language" && tag == "auto") {
                    return bad(
                        name,
                        &format!("{tag:?} is not a language tag like \"da\" or \"auto\""),
                    );
                }
            }
            if let Err((key, why)) = c.strings.check() {
                return bad(&format!("strings.{key:?}"), &why);
            }
            if let Err((at, why)) = c.starter_prompts.check() {
                let name = match at.as_str() {
                    "" => "starter_prompts".to_owned(),
                    at if at.starts_with('[') => format!("starter_prompts{at}"),
                    at => format!("starter_prompts.{at}"),
                };
                return bad(&name, &why);
            }
            if c.rate_limit.messages == 0 || c.rate_limit.per_seconds == 0 {
                return bad("rate_limit", "messages and per_seconds must be at least 1");
            }
            if let Some(l) = &c.livechat
                && let Err(errors) = dgbot_core::model::livechat::check(l)
            {
                let e = &errors[0];
                return bad(&format!("livechat.{}", e.field), &e.message);
            }
            for (j, a) in c.agents.iter().enumerate() {
                if a.id.trim().is_empty() || a.display_name.trim().is_empty() {
                    return bad(&format!("agents[{j}]"), "id and display_name are required");
                }
            }
            let mut actions = Vec::new();
            for (j, a) in c.actions.into_iter().enumerate() {
                match a.resolve(|name| std::env::var(name).ok()) {
                    Ok(a) => actions.push(a),
                    Err((f, why)) => return bad(&format!("actions[{j}].{f}"), &why),
                }
            }
            if let Some(m) = &c.model
                && let Err((f, why)) = m.check()
            {
                return bad(&format!("model.{f}"), &why);
            }
            let mut sources = match &c.knowledge_base {
                Some(kb) => {
                    match knowledge_base_sources(&dir.join(&kb.faq), &dir.join(&kb.catalogue)) {
                        Ok(sources) => sources,
                        Err(why) => return bad("knowledge_base", &why),
                    }
                }
                None => vec![],
            };
            for (j, mut spec) in c.sources.into_iter().enumerate() {
                // Files on disk are named relative to the configuration file.
                if let SourceSpec::File {
                    path: Some(path), ..
                }
                | SourceSpec::ProductFeed {
                    path: Some(path), ..
                } = &mut spec
                {
                    let full = dir.join(&*path);
                    if !full.is_file() {
                        return bad(
                            &format!("sources[{j}].path"),
                            &format!("{}: not a file", full.display()),
                        );
                    }
                    *path = full.display().to_string();
                }
                if let Err(why) = check_config_source(&spec) {
                    return bad(&format!("sources[{j}]"), &why);
                }
                sources.push(spec);
            }
            chatbots.push(Chatbot {
                api_keys: c.api_keys,
                test_api_keys: c.test_api_keys,
                public_keys: c.public_keys,
                webhooks,
                identity_secret: c.identity_secret,
                identity_required: c.identity_required,
                allowed_origins: c.allowed_origins,
                config: ChatConfig {
                    chatbot_id: c.id.clone(),
                    name: c.name,
                    avatar: c.avatar,
                    welcome_message: c.welcome_message,
                    theme: Theme {
                        primary_color: c.theme.primary_color.clone(),
                        on_primary_color: c.theme.on_primary_color.clone(),
                        mode: c.theme.mode,
                        font_family: c.theme.font_family,
                        font_url: c.theme.font_url,
                        radius: c.theme.radius,
                        launcher_side: c.theme.launcher_side.clone(),
                    },
                    popup_messages: c.popup_messages,
                    // Picked per request in the visitor's language (`GET /config`).
                    starter_prompts: vec![],
                    voice: c.voice,
                    language: c.language,
                    chat_type: c.chat_type,
                    strings: Default::default(),
                    // Computed per request from the settings (`Core::livechat_config`).
                    livechat: LivechatConfig {
                        enabled: false,
                        configured: false,
                        availability_status: "offline".into(),
                        availability_reason: None,
                        attachments_enabled: false,
                        max_attachment_size_bytes: 0,
                    },
                },
                id: c.id,
                sources,
                rate_limit: c.rate_limit,
                livechat: c.livechat,
                agents: c
                    .agents
                    .into_iter()
                    .map(|a| Author {
                        agent_id: a.id,
                        display_name: a.display_name,
                        avatar_url: a.avatar_url,
                    })
                    .collect(),
                actions,
                model: c.model,
                default_language: c.default_language,
                strings: c.strings,
                starter_prompts: c.starter_prompts,
                launcher: Launcher {
                    offset: c.theme.launcher_offset,
                    label: c.theme.launcher_label,
                },
            });
        }
        Ok(Settings {
            database: Database::parse(&file.database, dir),
            chatbots,
        })
    }
}

/// The demo shop's assistant from the shipped `server/dgbot.toml`: accepts host pages on any
/// loopback origin and port.
pub fn demo_chatbot() -> Chatbot {
    {
        let settings = Settings::load(&repo_config())
            .unwrap_or_else(|e| panic!("the shipped configuration: {e}"));
        settings
            .chatbots
            .into_iter()
            .find(|c| c.id == DEMO_CHATBOT_ID)
            .expect("the demo chatbot")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> String {
        std::fs::read_to_string(repo_config()).unwrap()
    }

    fn error_of(text: &str) -> String {
        Settings::parse(text, repo_config().parent().unwrap()).unwrap_err()
    }

    #[test]
    fn sources_in_the_configuration() {
        let dir = repo_config().parent().unwrap().to_path_buf();
        let with = |extra: &str| {
            let text = shipped().replace(
                "[chatbot.rate_limit]",
                &format!("{extra}\n[chatbot.rate_limit]"),
            );
            Settings::parse(&text, &dir)
        };
        let settings = with(
            "[[chatbot.sources]]\ntype = \"website\"\nurl = \"https://www.example.com/help/\"\nmax_pages = 50\n\
             [[chatbot.sources]]\ntype = \"file\"\npath = \"demo/kb/payment.md\"\nfilename = \"payment.md\"\n",
        )
        .unwrap();
        let sources = &settings.chatbots[0].sources;
        // The knowledge_base's files and catalogue, the shipped curated answer, and these two.
        assert!(sources.contains(&SourceSpec::Website {
            url: "https://www.example.com/help/".into(),
            max_pages: Some(50),
            include: vec![],
            exclude: vec![],
        }));
        assert!(sources.iter().any(|s| matches!(s, SourceSpec::Qa { question, .. } if question == "Do you offer gift wrapping?")));
        // A file's path is made absolute against the configuration's folder.
        assert!(sources.iter().any(|s| matches!(s,
            SourceSpec::File { path: Some(p), .. } if p == &dir.join("demo/kb/payment.md").display().to_string())));
        for (extra, field) in [
            (
                "[[chatbot.sources]]\ntype = \"website\"\nurl = \"ftp://x\"\n",
                "sources[1]",
            ),
            (
                "[[chatbot.sources]]\ntype = \"file\"\npath = \"nowhere.md\"\nfilename = \"x.md\"\n",
                "sources[1].path",
            ),
            (
                "[[chatbot.sources]]\ntype = \"qa\"\nquestion = \"Hi?\"\nanswer = \"\"\n",
                "sources[1]",
            ),
            ("[[chatbot.sources]]\ntype = \"sitemap\"\n", "sitemap"),
        ] {
            let err = with(extra).unwrap_err();
            assert!(err.contains(field), "{extra}: {err}");
        }
    }

    #[test]
    fn the_shipped_configuration_loads() {
        let demo = demo_chatbot();
        assert_eq!(
            (demo.id.as_str(), demo.config.name.as_str()),
            ("demo-shop", "Nordlys Assistant")
        );
        assert_eq!(demo.api_keys, [DEMO_API_KEY]);
        // The knowledge_base folder's files and catalogue, as sources.
        assert!(demo.sources.iter().any(|s| matches!(s,
            SourceSpec::File { path: Some(p), .. } if p.ends_with("demo/kb/shipping.md"))));
        assert!(demo.sources.iter().any(|s| matches!(s,
            SourceSpec::ProductFeed { path: Some(p), .. } if p.ends_with("demo/catalogue.json"))));
        assert_eq!(
            demo.rate_limit,
            RateLimit {
                messages: 20,
                per_seconds: 60
            }
        );
        assert!(!demo.config.popup_messages.is_empty());
    }

    #[test]
    fn mistakes_name_the_field() {
        let cases = [
            (
                shipped().replace("primary_color = \"#1f5f5b\"", "primary_color = \"teal\""),
                "chatbot[0].theme.primary_color",
            ),
            (
                shipped().replace("mode = \"auto\"", "mode = \"dim\""),
                "chatbot[0].theme.mode",
            ),
            (
                shipped().replace("# launcher_side = \"right\"", "launcher_side = \"middle\""),
                "chatbot[0].theme.launcher_side",
            ),
            (
                shipped().replace("# radius = 16", "radius = 40"),
                "chatbot[0].theme.radius",
            ),
            (
                shipped().replace("language = \"auto\"", "language = \"Danish\""),
                "chatbot[0].language",
            ),
            (
                shipped()
                    .replace("# [chatbot.strings]\n", "[chatbot.strings]\n")
                    .replace(
                        "# \"Write a message…\" = \"Ask",
                        "\"Write a mesage…\" = \"Ask",
                    ),
                "chatbot[0].strings.\"Write a mesage…\"",
            ),
            (
                shipped().replace(
                    "name = \"Nordlys Assistant\"",
                    "nmae = \"Nordlys Assistant\"",
                ),
                "nmae",
            ),
            (
                shipped().replace("welcome_message = ", "# welcome_message = "),
                "welcome_message",
            ),
            (
                shipped().replace("\"http://localhost:*\"", "\"localhost\""),
                "chatbot[0].allowed_origins",
            ),
            (
                shipped().replace("messages = 20", "messages = 0"),
                "chatbot[0].rate_limit",
            ),
            (
                shipped().replace("faq = \"demo/kb\"", "faq = \"demo/nowhere\""),
                "chatbot[0].knowledge_base",
            ),
            (
                shipped().replace("per_seconds = 60", "per_seconds = \"a minute\""),
                "per_seconds",
            ),
            (
                shipped() + &shipped()[shipped().find("[[chatbot]]").unwrap()..],
                "chatbot[1].id",
            ),
            (
                shipped().replace("database = ", "# database = "),
                "database",
            ),
            (
                shipped().replace(
                    "timezone = \"Europe/Copenhagen\"",
                    "timezone = \"Mars/Olympus\"",
                ),
                "chatbot[0].livechat.timezone",
            ),
        ];
        for (text, field) in cases {
            let err = error_of(&text);
            assert!(err.contains(field), "{field}: {err}");
        }
    }
}
