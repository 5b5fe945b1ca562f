//! The launch parameters: what the loader put in the iframe URL.

/// What the loader put in the iframe URL: `?chatbot_id=…&host=…`, and for the inline embed
/// (`chatbotinline.js`) `&inline=1`, with `&welcome=…` from `inlineWelcomeMessage`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaunchParams {
    pub chatbot_id: String,
    pub host: Option<String>,
    /// Rendered in the page rather than as a floating window: no close or size buttons.
    pub inline: bool,
    /// Shown above the input before the first question (inline only).
    pub inline_welcome: Option<String>,
}

impl LaunchParams {
    /// The parameters of `query` (`location.search`). `decode` undoes the percent-encoding of
    /// one value (the browser's `decodeURIComponent`, `services::launch`); a value it cannot
    /// decode is empty.
    pub fn from_query(query: &str, decode: impl Fn(&str) -> Option<String>) -> Self {
        let mut p = LaunchParams::default();
        for pair in query.trim_start_matches('?').split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode(&v.replace('+', " ")).unwrap_or_default();
            match k {
                "chatbot_id" => p.chatbot_id = v,
                "host" => p.host = Some(v),
                "inline" => p.inline = v == "1",
                "welcome" if !v.trim().is_empty() => p.inline_welcome = Some(v),
                _ => {}
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Enough of `decodeURIComponent` for the tests: `%3A` and `%2F`, and a `%` it cannot read.
    fn decode(v: &str) -> Option<String> {
        if v.contains("%ZZ") {
            return None;
        }
        Some(v.replace("%3A", ":").replace("%2F", "/"))
    }

    #[test]
    fn the_loaders_parameters() {
        let p = LaunchParams::from_query(
            "?chatbot_id=demo-shop&host=http%3A%2F%2Flocalhost%3A8080&other=1",
            decode,
        );
        assert_eq!(
            p,
            LaunchParams {
                chatbot_id: "demo-shop".into(),
                host: Some("http://localhost:8080".into()),
                inline: false,
                inline_welcome: None,
            }
        );
    }

    #[test]
    fn the_inline_embeds_parameters() {
        let p = LaunchParams::from_query("chatbot_id=x&inline=1&welcome=Ask+us+anything", decode);
        assert!(p.inline);
        assert_eq!(p.inline_welcome.as_deref(), Some("Ask us anything"));
        let blank = LaunchParams::from_query("inline=yes&welcome=+++", decode);
        assert!(!blank.inline, "only 1 means inline");
        assert_eq!(blank.inline_welcome, None, "a blank welcome is none");
        assert_eq!(blank.host, None);
    }

    #[test]
    fn a_value_that_cannot_be_decoded_is_empty() {
        let p = LaunchParams::from_query("chatbot_id=%ZZ&host", decode);
        assert_eq!(p.chatbot_id, "");
        assert_eq!(p.host.as_deref(), Some(""), "a key without a value");
    }
}
