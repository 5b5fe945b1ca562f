//! Verified identities (seed 000, "Visitor identity verification — sign the user identity
//! with your HMAC secret"). `identify(user)` is verified when `user_hash` is the lowercase hex
//! HMAC-SHA256 of `user_id` with the chatbot's `identity_secret` (compared in constant time), or
//! when `token` is a JWT signed HS256 with that secret, carrying `sub` (the user id), `exp`, and
//! optionally `name` and `email`. Otherwise it is kept unverified, or refused when the chatbot
//! sets `identity_required`.

use dgbot_protocol::api::IdentifyRequest;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::Sha256;

use crate::CoreError;
use crate::model::Chatbot;
use crate::model::ids;

/// The lowercase hex HMAC-SHA256 of `user_id` with `secret`: the `user_hash` a site computes.
pub fn user_hash(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(user_id.as_bytes());
    ids::hex(&mac.finalize().into_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    name: Option<String>,
    email: Option<String>,
}

/// The identity to keep (a token's claims fill in `user_id`, `name`, `email`) and whether it is
/// verified. `now` is Unix seconds (the core's clock).
pub fn verify(
    bot: &Chatbot,
    mut user: IdentifyRequest,
    now: u64,
) -> Result<(IdentifyRequest, bool), CoreError> {
    let secret = bot.identity_secret.as_deref();
    let verified = match (user.token.take(), secret) {
        (Some(_), None) => {
            return Err(CoreError::invalid(
                "token",
                "This chatbot has no identity secret to check identity tokens with",
            ));
        }
        (Some(token), Some(secret)) => {
            let mut validation = Validation::new(Algorithm::HS256);
            validation.validate_exp = false; // checked below, against the core's clock
            validation.set_required_spec_claims(&["sub", "exp"]);
            let claims = jsonwebtoken::decode::<Claims>(
                &token,
                &DecodingKey::from_secret(secret.as_bytes()),
                &validation,
            )
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                CoreError::invalid(
                    "token",
                    match e.kind() {
                        ErrorKind::InvalidSignature => {
                            "The identity token's signature is wrong: sign it with the chatbot's identity secret"
                        }
                        ErrorKind::InvalidAlgorithm => "Sign identity tokens with HS256",
                        ErrorKind::MissingRequiredClaim(_) => "The identity token needs sub and exp",
                        _ => "The identity token is not a valid JWT",
                    },
                )
            })?
            .claims;
            if claims.exp <= now {
                return Err(CoreError::invalid(
                    "token",
                    "The identity token has expired",
                ));
            }
            if !user.user_id.is_empty() && user.user_id != claims.sub {
                return Err(CoreError::invalid(
                    "user_id",
                    "user_id differs from the identity token's sub",
                ));
            }
            user.user_id = claims.sub;
            user.name = claims.name.or(user.name);
            user.email = claims.email.or(user.email);
            true
        }
        (None, Some(secret)) => user.user_hash.as_deref().is_some_and(|hash| {
            constant_time_eq(
                user_hash(secret, user.user_id.trim()).as_bytes(),
                hash.trim().to_ascii_lowercase().as_bytes(),
            )
        }),
        (None, None) => false,
    };
    if bot.identity_required && !verified {
        return Err(CoreError::Forbidden(
            "This chat needs a verified identity: identify with a user_hash or a token signed with the chatbot's identity secret".into(),
        ));
    }
    Ok((user, verified))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    const SECRET: &str = "an identity secret of the shop";

    fn bot(required: bool) -> Chatbot {
        let mut b = Chatbot::for_tests();
        b.identity_secret = Some(SECRET.into());
        b.identity_required = required;
        b
    }

    fn user(id: &str, hash: Option<String>, token: Option<String>) -> IdentifyRequest {
        IdentifyRequest {
            user_id: id.into(),
            name: None,
            email: None,
            user_hash: hash,
            token,
        }
    }

    fn jwt(secret: &str, sub: &str, exp: u64) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({ "sub": sub, "exp": exp, "name": "Ada", "email": "ada@example.com" }),
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn hmac_valid_invalid_missing_and_wrong_secret() {
        let good = user_hash(SECRET, "42");
        // echo -n 42 | openssl dgst -sha256 -hmac 'an identity secret of the shop'
        assert_eq!(good.len(), 64);
        assert!(
            verify(&bot(false), user("42", Some(good.clone()), None), 0)
                .unwrap()
                .1
        );
        assert!(
            verify(&bot(false), user("42", Some(good.to_uppercase()), None), 0)
                .unwrap()
                .1
        );
        assert!(
            !verify(&bot(false), user("43", Some(good.clone()), None), 0)
                .unwrap()
                .1
        );
        assert!(!verify(&bot(false), user("42", None, None), 0).unwrap().1);
        let other = user_hash("another secret entirely", "42");
        assert!(
            !verify(&bot(false), user("42", Some(other), None), 0)
                .unwrap()
                .1
        );
        assert!(matches!(
            verify(&bot(true), user("42", None, None), 0),
            Err(CoreError::Forbidden(_))
        ));
    }

    #[test]
    fn jwt_valid_expired_and_wrong_signature() {
        let (who, ok) = verify(
            &bot(true),
            user("", None, Some(jwt(SECRET, "42", 2000))),
            1000,
        )
        .unwrap();
        assert!(ok);
        assert_eq!(
            (who.user_id.as_str(), who.name.as_deref()),
            ("42", Some("Ada"))
        );
        let expired = verify(
            &bot(false),
            user("", None, Some(jwt(SECRET, "42", 999))),
            1000,
        );
        assert!(
            matches!(expired, Err(CoreError::Validation(e)) if e[0].message.contains("expired"))
        );
        let forged = verify(
            &bot(false),
            user("", None, Some(jwt("not the secret at all", "42", 2000))),
            1000,
        );
        assert!(
            matches!(forged, Err(CoreError::Validation(e)) if e[0].message.contains("signature"))
        );
        let garbage = verify(&bot(false), user("", None, Some("a.b.c".into())), 1000);
        assert!(matches!(garbage, Err(CoreError::Validation(_))));
    }
}
