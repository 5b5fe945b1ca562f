//! Seed 000's custom API actions: "Configure your chatbot to call any HTTPS endpoint in
//! response to visitor actions. The bot can send visitor data to your backend and use the
//! response to inform its answer."
//!
//! A chatbot's `[[chatbot.actions]]` name an endpoint, what the bot may send it and how the
//! response informs the answer. Only the configured URL is ever called (nothing from the
//! visitor or a model becomes a URL); the request is a signed JSON `POST` carrying only the
//! fields the action lists; the response is limited in time and size, and a failing endpoint
//! gives the visitor a polite answer and the tool event `status: "error"`, never a broken
//! stream. docs/protocol.md, "Custom API actions".

use serde_json::{Map, Value};

use crate::model::Action;
use crate::{ConversationKey, Core};

/// The largest response an action may return.
pub const MAX_RESPONSE: usize = 64 * 1024;

/// What the bot knows when it calls an action.
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub question: String,
    pub page: Option<String>,
    /// Values the bot extracted (the demo bot) or a model gave as the tool's arguments.
    pub values: Map<String, Value>,
}

/// Why an action gave no usable answer (logged; the visitor sees the failure answer).
#[derive(Debug, Clone, PartialEq)]
pub enum ActionError {
    /// A value the action needs is not known (say, no order number in the question).
    Missing(String),
    Timeout,
    Failed(String),
}

impl std::fmt::Display for ActionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActionError::Missing(what) => write!(f, "no {what} to send"),
            ActionError::Timeout => write!(f, "timed out"),
            ActionError::Failed(why) => write!(f, "{why}"),
        }
    }
}

/// An order number in `text`: 3–12 digits written `#1042`, or following "order", "number",
/// "package" and the like within three words ("where is my order 1042", "order no. 1042"),
/// so that "2 lamps under 1000 kr" holds none.
pub fn extract_order_number(text: &str) -> Option<String> {
    const CUES: [&str; 10] = [
        "order", "orders", "ordre", "number", "no", "nr", "package", "parcel", "delivery",
        "tracking",
    ];
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '#')
                .to_lowercase()
        })
        .collect();
    let digits = |w: &str| (3..=12).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit());
    if let Some(n) = words
        .iter()
        .find_map(|w| w.strip_prefix('#').filter(|n| digits(n)))
    {
        return Some(n.to_owned());
    }
    words.iter().enumerate().find_map(|(i, w)| {
        (digits(w)
            && words[i.saturating_sub(3)..i]
                .iter()
                .any(|p| CUES.contains(&p.as_str())))
        .then(|| w.clone())
    })
}

/// The first word of `text` that looks like an email address.
pub fn extract_email(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '.')
                .trim_end_matches('.')
        })
        .find(|w| {
            w.split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
        })
        .map(str::to_owned)
}

/// `template` with `{{field}}` / `{{a.b}}` replaced by values of `data` (strings as they are,
/// other values as JSON); `None` when a field it names is missing or null, since an answer
/// with holes in it is worse than saying the lookup failed.
pub fn render_complete(template: &str, data: &Value) -> Option<String> {
    let mut complete = true;
    let text = render_with(template, data, &mut complete);
    complete.then_some(text)
}

/// `template` with `{{field}}` / `{{a.b}}` replaced by values of `data` (strings as they are,
/// other values as JSON; a missing one as empty).
pub fn render(template: &str, data: &Value) -> String {
    render_with(template, data, &mut true)
}

fn render_with(template: &str, data: &Value, complete: &mut bool) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let path = rest[start + 2..start + end].trim();
        let value = path
            .split('.')
            .try_fold(data, |v, key| v.get(key))
            .unwrap_or(&Value::Null);
        match value {
            Value::String(s) => out.push_str(s),
            Value::Null => *complete = false,
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

impl Core {
    /// The body an action sends: only the fields it lists, from what the bot knows.
    pub fn action_body(
        &self,
        key: &ConversationKey,
        action: &Action,
        input: &ActionInput,
    ) -> Result<Map<String, Value>, ActionError> {
        let mut body = Map::new();
        body.insert("action".into(), action.name.clone().into());
        body.insert("chatbot_id".into(), key.chatbot_id.clone().into());
        body.insert("visitor_id".into(), key.visitor_id.clone().into());
        for field in &action.send {
            let value = match field.as_str() {
                "question" => Value::from(input.question.clone()),
                "page" => input.page.clone().map(Value::from).unwrap_or(Value::Null),
                "identity" => match self.store.identity_of(key) {
                    // Only what the site vouched for (seed 000's user_hash or token).
                    Ok(Some((user, true))) => serde_json::json!({
                        "user_id": user.user_id,
                        "name": user.name,
                        "email": user.email,
                        "verified": true,
                    }),
                    _ => Value::Null,
                },
                other => {
                    let found = input.values.get(other).cloned().or_else(|| {
                        match other {
                            "order_number" => extract_order_number(&input.question),
                            "email" => extract_email(&input.question),
                            _ => None,
                        }
                        .map(Value::from)
                    });
                    match found {
                        Some(v) if !v.is_null() => v,
                        _ => return Err(ActionError::Missing(other.replace('_', " "))),
                    }
                }
            };
            body.insert(field.clone(), value);
        }
        Ok(body)
    }

    /// Call `action` for `key`: a signed JSON request with only the listed fields; the JSON
    /// response, within the action's time and [`MAX_RESPONSE`].
    pub async fn run_action(
        &self,
        key: &ConversationKey,
        action: &Action,
        input: &ActionInput,
    ) -> Result<Value, ActionError> {
        let body = Value::Object(self.action_body(key, action, input)?).to_string();
        let url = if action.url.starts_with('/') {
            format!(
                "{}{}",
                self.settings.public_base.trim_end_matches('/'),
                action.url
            )
        } else {
            action.url.clone()
        };
        let mut req = self
            .http
            .request(action.method.clone(), url)
            .timeout(action.timeout)
            .header("content-type", "application/json")
            .header("x-dgbot-action", &action.name);
        for (name, value) in &action.headers {
            req = req.header(name, value);
        }
        if let Some(secret) = &action.signing_secret {
            let timestamp = self.clock.unix().to_string();
            req = req.header("x-dgbot-timestamp", &timestamp).header(
                "x-dgbot-signature",
                crate::outbox::signing::sign(secret, &timestamp, &body),
            );
        }
        let res = req.body(body).send().await.map_err(|e| {
            if e.is_timeout() {
                ActionError::Timeout
            } else {
                ActionError::Failed(format!("request failed: {e}"))
            }
        })?;
        if !res.status().is_success() {
            return Err(ActionError::Failed(format!("answered {}", res.status())));
        }
        let mut res = res;
        let mut bytes = Vec::new();
        loop {
            match tokio::time::timeout(action.timeout, res.chunk()).await {
                Err(_) => return Err(ActionError::Timeout),
                Ok(Err(e)) => return Err(ActionError::Failed(format!("response broke off: {e}"))),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_RESPONSE {
                        return Err(ActionError::Failed(format!(
                            "response larger than {MAX_RESPONSE} bytes"
                        )));
                    }
                }
            }
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| ActionError::Failed(format!("response is not JSON: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_and_extraction() {
        let data = json!({ "status": "shipped", "eta": { "date": "25 Nov" }, "n": 3 });
        assert_eq!(
            render(
                "It is {{ status }}, due {{eta.date}} ({{n}} parcels){{nope}}.",
                &data
            ),
            "It is shipped, due 25 Nov (3 parcels)."
        );
        assert_eq!(render("no {{end", &data), "no {{end");
        assert_eq!(
            render_complete("{{status}} {{eta.date}}", &data).as_deref(),
            Some("shipped 25 Nov")
        );
        assert_eq!(render_complete("{{status}} {{eta.time}}", &data), None);
        assert_eq!(
            extract_order_number("Where is my order 1042?").as_deref(),
            Some("1042")
        );
        assert_eq!(extract_order_number("order 12"), None);
        assert_eq!(
            extract_order_number("Status of order no. 1077, please").as_deref(),
            Some("1077")
        );
        assert_eq!(
            extract_order_number("Any news on #1500?").as_deref(),
            Some("1500")
        );
        assert_eq!(
            extract_order_number("I want to order 2 lamps under 1000 kr"),
            None
        );
        assert_eq!(
            extract_email("mail me: ada@example.com.").as_deref(),
            Some("ada@example.com")
        );
        use crate::model::chatbot::url_allowed;
        assert!(url_allowed("https://shop.example.com/api"));
        assert!(url_allowed("http://127.0.0.1:8080/demo/api/order-status"));
        assert!(!url_allowed("http://shop.example.com/api"));
        assert!(!url_allowed("file:///etc/passwd"));
    }
}
