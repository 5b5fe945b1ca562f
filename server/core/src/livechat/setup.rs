//! Livechat for the site owner's backend (seed 002's setup actor, with the chatbot's API key):
//! settings, agent profiles, the session list and the session tokens that let an agent system
//! into one chat.

use dgbot_protocol::api::LivechatConfig;
use dgbot_protocol::livechat::{LivechatSettings, LivechatStatus, SessionSummary, SessionToken};
use dgbot_protocol::message::Author;

use super::*;
use crate::model::Session;
use crate::model::ids;
use crate::{Core, CoreError};

impl Core {
    /// The chatbot's livechat settings: those set through the API, else the configuration file's.
    pub fn livechat_settings(&self, chatbot_id: &str) -> Result<LivechatSettings, CoreError> {
        if let Some(s) = self.store.livechat_settings(chatbot_id)? {
            return Ok(s);
        }
        Ok(self
            .chatbot(chatbot_id)
            .and_then(|c| c.livechat.clone())
            .unwrap_or_default())
    }

    pub fn put_livechat_settings(
        &self,
        chatbot_id: &str,
        settings: LivechatSettings,
    ) -> Result<LivechatSettings, CoreError> {
        crate::model::livechat::check(&settings).map_err(CoreError::Validation)?;
        self.store.put_livechat_settings(chatbot_id, &settings)?;
        Ok(settings)
    }

    /// The `livechat` block of `GET /api/v1/chat/config`, computed now.
    pub fn livechat_config(&self, chatbot_id: &str) -> Result<LivechatConfig, CoreError> {
        let configured = self
            .chatbot(chatbot_id)
            .is_some_and(|c| c.livechat.is_some())
            || self.store.livechat_settings(chatbot_id)?.is_some();
        let s = self.livechat_settings(chatbot_id)?;
        let (live, reason) = crate::model::livechat::availability(&s, self.clock.now());
        Ok(LivechatConfig {
            enabled: s.enabled,
            configured,
            availability_status: if live { "live" } else { "offline" }.into(),
            availability_reason: Some(reason.into()),
            attachments_enabled: s.attachments_enabled,
            max_attachment_size_bytes: s.max_attachment_size_bytes,
        })
    }

    // ----- the agent system (a session token) -----

    /// A new agent token for session `id`, valid for `livechat_token_ttl`.
    pub fn issue_session_token(&self, id: &str) -> Result<SessionToken, CoreError> {
        let token = format!("lcs_{}", ids::random_hex(24));
        let expires = self.clock.unix() + self.settings.livechat_token_ttl.as_secs();
        self.store
            .add_session_token(&token_hash(&token), id, expires)?;
        Ok(SessionToken {
            token,
            expires_at: ids::rfc3339(expires),
        })
    }

    // ----- the setup backend (API key) -----

    /// `PUT /livechat/agents/{agent_id}`.
    pub fn put_agent(
        &self,
        chatbot_id: &str,
        agent_id: &str,
        display_name: &str,
        avatar_url: Option<String>,
    ) -> Result<Author, CoreError> {
        label("agent_id", agent_id)?;
        // An id is a name tools and people write (a path segment, a log line, a webhook field):
        // no path tricks, control characters, markup or spaces.
        if agent_id.starts_with('.')
            || !agent_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
        {
            return Err(CoreError::invalid(
                "agent_id",
                "Use letters, digits, '-', '_', '.' and '@', not starting with '.'",
            ));
        }
        label("display_name", display_name)?;
        if let Some(url) = &avatar_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(CoreError::invalid("avatar_url", "Use an http(s) URL"));
        }
        let agent = Author {
            agent_id: agent_id.to_owned(),
            display_name: display_name.trim().to_owned(),
            avatar_url,
        };
        self.store.put_agent(chatbot_id, &agent)?;
        Ok(agent)
    }

    /// `GET /livechat/sessions?status=&turn=`.
    pub fn list_sessions(
        &self,
        chatbot_id: &str,
        status: Option<&str>,
        turn_filter: Option<&str>,
    ) -> Result<Vec<SessionSummary>, CoreError> {
        let status = match status {
            None | Some("") => None,
            Some(s) => Some(
                LivechatStatus::parse(s)
                    .filter(|s| *s != LivechatStatus::Inactive)
                    .ok_or_else(|| CoreError::invalid("status", "Use waiting, active or closed"))?,
            ),
        };
        if let Some(t) = turn_filter
            && !matches!(t, "agent" | "visitor")
        {
            return Err(CoreError::invalid("turn", "Use agent or visitor"));
        }
        let sessions = self.store.sessions(chatbot_id, status)?;
        Ok(sessions
            .iter()
            .filter(|s| turn_filter.is_none_or(|t| turn(s) == Some(t)))
            .map(|s| SessionSummary {
                session: wire(s),
                visitor_id: s.key.visitor_id.clone(),
                agent_id: s.agent_id.clone(),
                turn: turn(s).map(str::to_owned),
                state_version: s.state_version,
                updated_at: s.updated_at.clone(),
            })
            .collect())
    }

    /// The session `id` of this chatbot, for the setup backend (`404` otherwise).
    pub fn session_of_chatbot(&self, chatbot_id: &str, id: &str) -> Result<Session, CoreError> {
        self.store
            .session(id)?
            .filter(|s| s.key.chatbot_id == chatbot_id)
            .ok_or_else(|| CoreError::NotFound("No such livechat session".into()))
    }
}
