//! Answers from a language model: any server that speaks the OpenAI-compatible chat
//! completions API with streaming (OpenAI, Azure OpenAI, Mistral, Groq, Ollama, vLLM,
//! llama.cpp's server), chosen per chatbot by `[chatbot.model]`.

use serde::Deserialize;

/// `[chatbot.model]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The API's base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    pub model: String,
    /// The environment variable that holds the API key; none for local servers.
    pub api_key_env: Option<String>,
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

impl ModelConfig {
    /// What is wrong with it, naming the field.
    pub fn check(&self) -> Result<(), (String, String)> {
        if !crate::core::actions::url_allowed(&self.base_url) {
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
}
