//! Seed 002's webhook events and the rules of a webhook configuration: which events exist,
//! which are always sent, where they may go, how the configuration is shown back.

use dgbot_protocol::api::FieldError;
use dgbot_protocol::webhooks::{WebhookConfig, WebhookView};

/// An event the chatbot's endpoint can be told of (seed 002's event table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    HandoverRequested,
    WaitingCustomerMessage,
    WaitingAssistantMessage,
    CustomerMessage,
    CustomerTypingStarted,
    CustomerTypingStopped,
    SessionClosed,
    FeedbackSubmitted,
    VisitorDataDeleted,
    /// A visitor's vote on one assistant answer (issue 27; ours, beside the seed's table).
    AnswerFeedbackSubmitted,
}

impl WebhookEvent {
    /// Every event, in the seed's order, then ours.
    pub const ALL: [WebhookEvent; 10] = [
        WebhookEvent::HandoverRequested,
        WebhookEvent::WaitingCustomerMessage,
        WebhookEvent::WaitingAssistantMessage,
        WebhookEvent::CustomerMessage,
        WebhookEvent::CustomerTypingStarted,
        WebhookEvent::CustomerTypingStopped,
        WebhookEvent::SessionClosed,
        WebhookEvent::FeedbackSubmitted,
        WebhookEvent::VisitorDataDeleted,
        WebhookEvent::AnswerFeedbackSubmitted,
    ];

    /// Always in the subscription while delivery is on, whatever the caller sends (seed:
    /// "Required livechat events are always kept … so the downstream system can maintain a
    /// coherent session state"): a session starts, the visitor writes (waiting or active), a
    /// session ends.
    pub const REQUIRED: [WebhookEvent; 4] = [
        WebhookEvent::HandoverRequested,
        WebhookEvent::WaitingCustomerMessage,
        WebhookEvent::CustomerMessage,
        WebhookEvent::SessionClosed,
    ];

    /// The event's `type` on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::HandoverRequested => "livechat.handover.requested",
            WebhookEvent::WaitingCustomerMessage => "livechat.waiting.customer.message.created",
            WebhookEvent::WaitingAssistantMessage => "livechat.waiting.assistant.message.created",
            WebhookEvent::CustomerMessage => "livechat.customer.message.created",
            WebhookEvent::CustomerTypingStarted => "livechat.customer.typing.started",
            WebhookEvent::CustomerTypingStopped => "livechat.customer.typing.stopped",
            WebhookEvent::SessionClosed => "livechat.session.closed",
            WebhookEvent::FeedbackSubmitted => "livechat.feedback.submitted",
            WebhookEvent::VisitorDataDeleted => "visitor.data.deleted",
            WebhookEvent::AnswerFeedbackSubmitted => "answer.feedback.submitted",
        }
    }

    pub fn parse(name: &str) -> Option<WebhookEvent> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }

    pub fn is_required(self) -> bool {
        Self::REQUIRED.contains(&self)
    }
}

impl std::fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Events are kept (listable, fetchable, replayable) this long after creation.
pub const RETENTION_SECS: u64 = 30 * 86_400;

/// Whether `url` may receive webhooks: https, or http to a loopback host.
pub fn acceptable_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let name = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or("").to_owned()
    };
    match scheme {
        "https" => !name.is_empty(),
        "http" => matches!(name.as_str(), "localhost" | "[::1]") || name.starts_with("127."),
        _ => false,
    }
}

/// Checks and completes a configuration.
pub trait Normalize: Sized {
    /// Checked, with the required events added and the list in the seed's order; or every
    /// field at fault.
    fn normalized(self) -> Result<Self, Vec<FieldError>>;
    fn wants(&self, event: WebhookEvent) -> bool;
}

impl Normalize for WebhookConfig {
    fn normalized(mut self) -> Result<WebhookConfig, Vec<FieldError>> {
        let mut errors = vec![];
        if !acceptable_url(&self.url) {
            errors.push(FieldError {
                field: "url".into(),
                message: "Use an https:// URL (http:// only for localhost or 127.0.0.1)".into(),
            });
        }
        if self.secret.len() < 16 {
            errors.push(FieldError {
                field: "secret".into(),
                message: "Use a signing secret of at least 16 characters".into(),
            });
        }
        for (i, e) in self.events.iter().enumerate() {
            if WebhookEvent::parse(e).is_none() {
                let all: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.as_str()).collect();
                errors.push(FieldError {
                    field: format!("events.{i}"),
                    message: format!("Unknown event type; use one of {}", all.join(", ")),
                });
            }
        }
        if !matches!(self.environment.as_str(), "live" | "test") {
            errors.push(FieldError {
                field: "environment".into(),
                message: "Use live or test".into(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let all = self.events.is_empty();
        self.events = WebhookEvent::ALL
            .iter()
            .filter(|t| all || t.is_required() || self.events.iter().any(|e| e == t.as_str()))
            .map(|t| t.as_str().to_owned())
            .collect();
        Ok(self)
    }

    fn wants(&self, event: WebhookEvent) -> bool {
        self.events.iter().any(|e| e == event.as_str())
    }
}

/// The configuration as `GET /api/v1/chat/webhooks` shows it: the secret masked.
pub fn view(c: &WebhookConfig) -> WebhookView {
    let tail: String = c
        .secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    WebhookView {
        url: c.url.clone(),
        secret: format!("••••{tail}"),
        events: c.events.clone(),
        environment: c.environment.clone(),
        required_events: WebhookEvent::REQUIRED
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_loopback() {
        assert!(acceptable_url("https://hooks.example.com/dgbot"));
        assert!(acceptable_url("http://127.0.0.1:9000/hook"));
        assert!(acceptable_url("http://localhost/hook"));
        assert!(acceptable_url("http://[::1]:8080/"));
        assert!(!acceptable_url("http://hooks.example.com/"));
        assert!(!acceptable_url("http://localhost.evil.com/"));
        assert!(!acceptable_url("http://127.0.0.1@evil.com/"));
        assert!(!acceptable_url("ftp://x"));
    }

    #[test]
    fn event_names_read_back() {
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.as_str()), Some(e));
        }
        assert_eq!(WebhookEvent::parse("livechat.nope"), None);
    }

    #[test]
    fn required_events_are_always_kept() {
        use WebhookEvent::*;
        let c = WebhookConfig {
            url: "https://x.example".into(),
            secret: "0123456789abcdef".into(),
            events: vec![FeedbackSubmitted.as_str().into()],
            environment: "live".into(),
        }
        .normalized()
        .unwrap();
        assert_eq!(
            c.events,
            [
                HandoverRequested,
                WaitingCustomerMessage,
                CustomerMessage,
                SessionClosed,
                FeedbackSubmitted
            ]
            .map(|e| e.as_str())
        );
        let all = WebhookConfig {
            events: vec![],
            ..c.clone()
        }
        .normalized()
        .unwrap();
        assert_eq!(all.events.len(), WebhookEvent::ALL.len());
        let errors = WebhookConfig {
            events: vec!["livechat.nope".into()],
            url: "http://x.example".into(),
            ..c
        }
        .normalized()
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events.0"]);
    }
}
