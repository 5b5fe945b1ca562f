//! Verified identities over real HTTP (seed 000, "Visitor identity verification"):
//! `POST /api/v1/chat/identify` with a `user_hash` (HMAC-SHA256 of `user_id`) or a `token`
//! (HS256 JWT), what agents and webhooks then see, a change of person, and `identity_required`.

mod common;

use dgbot_server::core::ConversationKey;
use dgbot_server::core::identity::user_hash;
use dgbot_server::core::store::ConversationStore as _;
use dgbot_testkit::TestServer;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const SECRET: &str = "the shop's identity secret";

/// The demo chatbot with the shop's identity secret, identities `required` or not.
fn identity_server(required: bool) -> TestServer {
    TestServer::builder()
        .chatbot(|bot| {
            bot.identity_secret = Some(SECRET.into());
            bot.identity_required = required;
        })
        .start()
}

/// A visitor's identity, told and as the server keys it.
trait Identify {
    /// A new visitor's widget token.
    async fn visitor(&self) -> String;
    /// `POST /identify` as the visitor of `token`.
    async fn identify(&self, token: &str, user: Value) -> (u16, Value);
    /// The visitor of a token (its `sub`), as the server keys the conversation.
    fn key_of(&self, token: &str) -> ConversationKey;
}

impl Identify for TestServer {
    async fn visitor(&self) -> String {
        dgbot_testkit::Api::new(&self.base).visitor().await.token
    }

    async fn identify(&self, token: &str, user: Value) -> (u16, Value) {
        let res = self
            .api
            .http
            .post(format!("{}/api/v1/chat/identify", self.base))
            .bearer_auth(token)
            .json(&user)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    fn key_of(&self, token: &str) -> ConversationKey {
        let claims = self.state.tokens.verify(token).unwrap();
        ConversationKey::new(claims.cid, claims.sub)
    }
}

fn jwt(secret: &str, sub: &str, exp: u64) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({ "sub": sub, "exp": exp, "name": "Ada Jensen", "email": "ada@example.com" }),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn in_an_hour() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600
}

#[tokio::test]
async fn a_user_hash_verifies_and_agents_and_webhooks_see_it() {
    let s = identity_server(false);
    let token = s.visitor().await;
    let (status, body) = s
        .identify(
            &token,
            json!({ "user_id": "42", "name": "Ada", "user_hash": user_hash(SECRET, "42") }),
        )
        .await;
    assert_eq!((status, &body["verified"]), (200, &json!(true)), "{body}");
    assert!(body.get("visitor_token").is_none(), "the same conversation");
    let key = s.key_of(&token);
    assert_eq!(s.state.core.visitor_json(&key)["verified"], true);

    // A wrong hash, no hash, or a hash made with another secret: kept, but unverified.
    for hash in [
        Some(user_hash(SECRET, "43")),
        None,
        Some(user_hash("another secret!!", "42")),
    ] {
        let other = s.visitor().await;
        let mut user = json!({ "user_id": "42" });
        if let Some(h) = hash {
            user["user_hash"] = h.into();
        }
        let (status, body) = s.identify(&other, user).await;
        assert_eq!((status, &body["verified"]), (200, &json!(false)), "{body}");
        assert_eq!(
            s.state.core.visitor_json(&s.key_of(&other))["verified"],
            false,
            "labelled unverified"
        );
    }
}

#[tokio::test]
async fn a_signed_token_verifies_and_bad_tokens_are_refused_with_a_reason() {
    let s = identity_server(false);
    let token = s.visitor().await;
    let (status, body) = s
        .identify(&token, json!({ "token": jwt(SECRET, "42", in_an_hour()) }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["user_id"], &body["verified"]),
        (&json!("42"), &json!(true))
    );
    let who = s.state.core.visitor_json(&s.key_of(&token));
    assert_eq!(
        (&who["name"], &who["email"]),
        (&json!("Ada Jensen"), &json!("ada@example.com"))
    );

    for (bad, words) in [
        (jwt(SECRET, "42", 1_000), "expired"),
        (
            jwt("somebody else's secret", "42", in_an_hour()),
            "signature",
        ),
        ("not.a.jwt".to_owned(), "not a valid JWT"),
    ] {
        let (status, body) = s.identify(&token, json!({ "token": bad })).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (422, &json!("validation")),
            "{body}"
        );
        let param = &body["error"]["params"][0];
        assert_eq!(param["field"], "token");
        assert!(
            param["message"].as_str().unwrap().contains(words),
            "{param}"
        );
    }
}

#[tokio::test]
async fn another_verified_person_gets_a_new_conversation() {
    let s = identity_server(false);
    let token = s.visitor().await;
    s.identify(
        &token,
        json!({ "user_id": "42", "user_hash": user_hash(SECRET, "42") }),
    )
    .await;
    // The same person again: the same conversation.
    let (_, same) = s
        .identify(
            &token,
            json!({ "user_id": "42", "user_hash": user_hash(SECRET, "42") }),
        )
        .await;
    assert!(same.get("visitor_token").is_none());
    // Someone else signs in on the same browser: their data is not merged into 42's.
    let (status, body) = s
        .identify(
            &token,
            json!({ "user_id": "77", "user_hash": user_hash(SECRET, "77") }),
        )
        .await;
    assert_eq!(status, 200);
    let moved = body["visitor_token"]
        .as_str()
        .expect("a token for a new conversation");
    let (old, new) = (s.key_of(&token), s.key_of(moved));
    assert_ne!(old.visitor_id, new.visitor_id);
    assert_eq!(
        s.state.store.identity_of(&old).unwrap().unwrap().0.user_id,
        "42"
    );
    assert_eq!(
        s.state.store.identity_of(&new).unwrap().unwrap().0.user_id,
        "77"
    );
}

#[tokio::test]
async fn identity_required_refuses_unverified_identities() {
    let s = identity_server(true);
    let token = s.visitor().await;
    let (status, body) = s.identify(&token, json!({ "user_id": "42" })).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("forbidden")),
        "{body}"
    );
    assert!(
        s.state
            .store
            .identity_of(&s.key_of(&token))
            .unwrap()
            .is_none(),
        "nothing kept"
    );
    let (status, _) = s
        .identify(
            &token,
            json!({ "user_id": "42", "user_hash": user_hash(SECRET, "42") }),
        )
        .await;
    assert_eq!(status, 200);
}
