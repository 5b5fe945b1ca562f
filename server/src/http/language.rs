//! The visitor's language, from the request: the chatbot's fixed language, or with `"auto"` the
//! first of their `Accept-Language` that has a catalogue, else the chatbot's `default_language`.

use axum::http::{HeaderMap, header};

use dgbot_core::model::{Chatbot, i18n};

pub fn visitor_language(bot: &Chatbot, headers: &HeaderMap) -> String {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    i18n::resolve(&bot.config.language, &bot.default_language, accept)
}
