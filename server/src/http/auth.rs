//! The three kinds of caller of seed 002's API, as extractors: a visitor (Bearer visitor token,
//! an HS256 JWT with an expiry and no refresh: call `/auth` again), the site owner's backend
//! (HTTP Basic with a chatbot API key) and an external agent app (Bearer livechat session
//! token, scoped to one session). Also the allowed-origin check of the public widget auth.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::SharedState;
use crate::core::ConversationKey;
pub use crate::core::ids::{is_valid_visitor_id, new_visitor_id};
use crate::http::error::Failure;
use crate::store::livechat::Session;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The visitor id.
    pub sub: String,
    /// The chatbot id.
    pub cid: String,
    pub iat: u64,
    pub exp: u64,
}

pub struct Tokens {
    secret: Vec<u8>,
    ttl: Duration,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Tokens {
    pub fn new(secret: Vec<u8>, ttl: Duration) -> Self {
        Tokens { secret, ttl }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length")
    }

    pub fn issue(&self, chatbot_id: &str, visitor_id: &str) -> String {
        let iat = now();
        let claims = Claims {
            sub: visitor_id.to_owned(),
            cid: chatbot_id.to_owned(),
            iat,
            exp: iat + self.ttl.as_secs(),
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let signing_input = format!("{header}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{sig}")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, Failure> {
        let bad = || Failure::unauthorized("Invalid visitor token");
        let (signing_input, sig) = token.rsplit_once('.').ok_or_else(bad)?;
        let (header, payload) = signing_input.split_once('.').ok_or_else(bad)?;
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| bad())?;
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&sig).map_err(|_| bad())?;
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).map_err(|_| bad())?)
                .map_err(|_| bad())?;
        if header["alg"] != "HS256" {
            return Err(bad());
        }
        let claims: Claims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad())?)
                .map_err(|_| bad())?;
        if claims.exp <= now() {
            return Err(Failure::unauthorized("Visitor token expired"));
        }
        Ok(claims)
    }
}

/// An authenticated visitor, from `Authorization: Bearer <visitor token>`.
#[derive(Debug, Clone)]
pub struct Visitor(pub ConversationKey);

fn bearer(parts: &Parts) -> Result<&str, Failure> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| Failure::unauthorized("Missing Authorization: Bearer token"))?;
    Ok(header
        .strip_prefix("Bearer ")
        .ok_or_else(|| Failure::unauthorized("Expected Authorization: Bearer token"))?
        .trim())
}

impl FromRequestParts<SharedState> for Visitor {
    type Rejection = Failure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let claims = state.tokens.verify(bearer(parts)?)?;
        if state.chatbot(&claims.cid).is_none() {
            return Err(Failure::unauthorized(
                "The chatbot of this token no longer exists",
            ));
        }
        Ok(Visitor(ConversationKey::new(claims.cid, claims.sub)))
    }
}

/// The site owner's backend: `Authorization: Basic base64(API key:)`; the key names the
/// chatbot (keys are unique across chatbots).
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub chatbot_id: String,
    /// `live`, or `test` for the chatbot's `test_api_keys`.
    pub environment: &'static str,
}

impl FromRequestParts<SharedState> for ApiKey {
    type Rejection = Failure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let key = basic_api_key(
            parts
                .headers
                .get(AUTHORIZATION)
                .and_then(|h| h.to_str().ok()),
        )
        .ok_or_else(|| {
            Failure::unauthorized("Expected HTTP Basic auth with the API key as user name")
        })?;
        let (bot, environment) = state
            .chatbots
            .iter()
            .find_map(|bot| {
                if key_in(&bot.api_keys, &key) {
                    Some((bot, "live"))
                } else if key_in(&bot.test_api_keys, &key) {
                    Some((bot, "test"))
                } else {
                    None
                }
            })
            .ok_or_else(|| Failure::unauthorized("Unknown API key"))?;
        Ok(ApiKey {
            chatbot_id: bot.id.clone(),
            environment,
        })
    }
}

/// An external agent app: `Authorization: Bearer <livechat session token>` (from the hand-over
/// webhook or `POST /livechat/sessions/{id}/token`). Neither a visitor token nor the API key.
#[derive(Debug, Clone)]
pub struct AgentSession(pub Session);

impl FromRequestParts<SharedState> for AgentSession {
    type Rejection = Failure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        Ok(AgentSession(state.session_for_token(bearer(parts)?)?))
    }
}

/// Whether `key` is one of `keys`, compared in constant time (no timing hints about a key).
pub fn key_in(keys: &[String], key: &str) -> bool {
    use hmac::digest::Digest;
    // Compare digests, so the time depends on neither the keys' lengths nor where they differ.
    let wanted = Sha256::digest(key.as_bytes());
    keys.iter().fold(false, |found, k| {
        let d = Sha256::digest(k.as_bytes());
        found
            | (d.iter()
                .zip(wanted.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0)
    })
}

/// The API key of `Authorization: Basic base64(key:)`, the seed's `/auth` scheme.
pub fn basic_api_key(header: Option<&str>) -> Option<String> {
    let encoded = header?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, _password) = decoded.split_once(':')?;
    (!user.is_empty()).then(|| user.to_owned())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let t = Tokens::new(b"k".to_vec(), Duration::from_secs(60));
        let tok = t.issue("demo", "v_123456789");
        let c = t.verify(&tok).unwrap();
        assert_eq!((c.cid.as_str(), c.sub.as_str()), ("demo", "v_123456789"));
        let mut forged = tok.clone();
        forged.push('x');
        assert!(t.verify(&forged).is_err());
        assert!(
            Tokens::new(b"other".to_vec(), Duration::from_secs(60))
                .verify(&tok)
                .is_err()
        );
        assert!(
            Tokens::new(b"k".to_vec(), Duration::ZERO)
                .verify(&Tokens::new(b"k".to_vec(), Duration::ZERO).issue("d", "v"))
                .is_err(),
            "expired"
        );
    }

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

    #[test]
    fn basic_auth() {
        assert_eq!(
            basic_api_key(Some("Basic ZGVtby1rZXk6")),
            Some("demo-key".into())
        );
        assert_eq!(basic_api_key(Some("Bearer x")), None);
        assert_eq!(basic_api_key(Some("Basic Og==")), None, "empty user");
    }
}
