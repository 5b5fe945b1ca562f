//! Origins: whether a host page's origin is one a chatbot allows, and whether a request comes
//! from the server's own pages. Pure functions, shared by the extractors ([`super::auth`]) and
//! the browser policies ([`super::security`]).

use axum::http::header;
use axum::http::request::Parts;

/// Whether `origin` (`scheme://host[:port]`) matches one of `patterns`. A pattern is an exact
/// origin, an origin whose port is `*` (any port, or none), or `*` (any origin).
pub fn origin_allowed(patterns: &[String], origin: &str) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    patterns.iter().any(|pattern| {
        let pattern = pattern.trim_end_matches('/').to_ascii_lowercase();
        if pattern == "*" || pattern == origin {
            return true;
        }
        match pattern.strip_suffix(":*") {
            Some(base) => {
                origin == base
                    || origin
                        .strip_prefix(base)
                        .and_then(|rest| rest.strip_prefix(':'))
                        .is_some_and(|port| {
                            !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                        })
            }
            None => false,
        }
    })
}

/// Whether a request's `Origin` is the server's own (the chat page calling its API): the
/// configured public origin, or the `Host` the request was sent to.
pub fn same_origin(parts: &Parts, origin: &str, public_base: &str) -> bool {
    let origin = origin.trim_end_matches('/');
    if origin.eq_ignore_ascii_case(public_base.trim_end_matches('/')) {
        return true;
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    !host.is_empty()
        && origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let p = vec![
            "http://localhost:*".to_owned(),
            "https://shop.example.com".to_owned(),
        ];
        assert!(origin_allowed(&p, "http://localhost:3000"));
        assert!(origin_allowed(&p, "http://localhost"));
        assert!(origin_allowed(&p, "https://shop.example.com/"));
        assert!(!origin_allowed(&p, "http://localhost.evil.com"));
        assert!(!origin_allowed(&p, "http://localhost:80x"));
        assert!(!origin_allowed(&p, "https://evil.example.com"));
        assert!(!origin_allowed(&p, "null"));
    }
}
