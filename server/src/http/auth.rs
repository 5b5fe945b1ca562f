//! The three kinds of caller of seed 002's API, as extractors: a visitor (Bearer visitor token,
//! an HS256 JWT with an expiry and no refresh: call `/auth` again), the site owner's backend
//! (HTTP Basic with a chatbot API key) and an external agent app (Bearer livechat session
//! token, scoped to one session). Also the allowed-origin check of the public widget auth.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, ORIGIN};
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dgbot_protocol::api::ApiErrorCode;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::SharedState;
use crate::http::error::Failure;
use crate::http::origin::{origin_allowed, same_origin};
use dgbot_core::ConversationKey;
use dgbot_core::model::Session;
pub use dgbot_core::model::ids::{is_valid_visitor_id, new_visitor_id};

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

    /// A visitor token: an HS256 JWT naming the visitor (`sub`) and the chatbot (`cid`), valid
    /// for the configured lifetime (`exp`; one hour unless configured otherwise).
    pub fn issue(&self, chatbot_id: &str, visitor_id: &str) -> String {
        let iat = now();
        let claims = Claims {
            sub: visitor_id.to_owned(),
            cid: chatbot_id.to_owned(),
            iat,
            exp: iat + self.ttl.as_secs(),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret),
        )
        .expect("HS256 signs any claims")
    }

    /// The claims of a token this server signed, still valid: only HS256 (no `none`, no
    /// algorithm confusion), `exp` checked with no leeway.
    pub fn verify(&self, token: &str) -> Result<Claims, Failure> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.secret), &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => Failure::unauthorized("Visitor token expired"),
                _ => Failure::unauthorized("Invalid visitor token"),
            })
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
        let Some(bot) = state.core.chatbot(&claims.cid) else {
            return Err(Failure::unauthorized(
                "The chatbot of this token no longer exists",
            ));
        };
        // A browser names the page that calls: the chat page itself, or (the seed's own
        // browser client) a page on one of the chatbot's allowed origins. A token copied
        // into another site's page is refused there. Servers send no `Origin`.
        if let Some(origin) = parts.headers.get(ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !same_origin(parts, origin, &state.config.public_base)
                && !origin_allowed(&bot.allowed_origins, origin)
            {
                return Err(Failure::new(
                    ApiErrorCode::Forbidden,
                    format!("This chatbot does not accept requests from pages on {origin:?}"),
                ));
            }
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
            .core
            .chatbots()
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
        Ok(AgentSession(state.core.session_for_token(bearer(parts)?)?))
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
        let past = Claims {
            sub: "v".into(),
            cid: "d".into(),
            iat: now() - 61,
            exp: now() - 1,
        };
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &past,
            &EncodingKey::from_secret(b"k"),
        )
        .unwrap();
        assert_eq!(
            t.verify(&expired).unwrap_err().error.error.message,
            "Visitor token expired"
        );
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
