//! Conversation keys, ids and timestamps.

/// Whose conversation: the chatbot and the visitor. Every store call and hub topic takes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationKey {
    pub chatbot_id: String,
    pub visitor_id: String,
}

impl ConversationKey {
    pub fn new(chatbot_id: impl Into<String>, visitor_id: impl Into<String>) -> Self {
        ConversationKey {
            chatbot_id: chatbot_id.into(),
            visitor_id: visitor_id.into(),
        }
    }
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the OS has a random source");
    hex(&bytes)
}

/// Bytes as lowercase hex (digests, signatures, random ids).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new id, unique across restarts: `msg_3f9c0a1b2d4e5f60`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_hex(8))
}

/// A fresh random visitor id (`v_` + 32 hex digits).
pub fn new_visitor_id() -> String {
    format!("v_{}", random_hex(16))
}

/// A visitor id a widget may propose to keep its conversation: 8–64 of `[A-Za-z0-9_-]`.
pub fn is_valid_visitor_id(id: &str) -> bool {
    (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Seconds since 1970 as RFC 3339 UTC (`2026-11-22T01:02:03Z`).
pub fn rfc3339(unix_secs: u64) -> String {
    jiff::Timestamp::from_second(unix_secs as i64)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// The current time as RFC 3339 UTC, from the system clock.
pub fn now_rfc3339() -> String {
    super::clock::Clock::system().rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_750_000_210), "2025-06-15T15:10:10Z");
    }

    #[test]
    fn ids() {
        assert!(new_id("msg").starts_with("msg_") && new_id("msg").len() == 20);
        assert!(is_valid_visitor_id(&new_visitor_id()));
        assert!(!is_valid_visitor_id("short"));
        assert!(!is_valid_visitor_id("has space in it"));
    }
}
