//! Trust over real HTTP (docs/security.md): visitor tokens (HS256 JWTs that name their chatbot
//! and expire), CORS for the seed's browser client on the chatbot's allowed origins and for no
//! one else, `/auth/public` limited per IP address, and the chat page's security headers.

mod common;

use dgbot_testkit::TestServer;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dgbot_server::{Chatbot, ServerConfig};
use serde_json::{Value, json};

/// The server as `main` runs it (`serve`: with each connection's peer address), with the demo
/// chatbot allowed on `http://localhost:*` only, plus `bots`.
fn trust_server(
    configure: impl Fn(&mut ServerConfig) + Send + Sync + 'static,
    bots: Vec<Chatbot>,
) -> TestServer {
    let mut builder = TestServer::builder()
        .configure(configure)
        .chatbot(|demo| demo.allowed_origins = vec!["http://localhost:*".into()]);
    for bot in bots {
        builder = builder.also(bot);
    }
    builder.start()
}

/// A visitor's calls, as a browser on some origin makes them.
trait Browser {
    /// A new visitor's widget token.
    async fn token(&self) -> String;
    /// `GET /config` from `origin` (none: not a browser): the status, the body and
    /// `Access-Control-Allow-Origin`.
    async fn config_with(&self, token: &str, origin: Option<&str>) -> (u16, Value, Option<String>);
    /// A browser's CORS preflight for a `POST` to `path` from `origin`.
    async fn preflight(&self, path: &str, origin: &str) -> reqwest::Response;
}

impl Browser for TestServer {
    async fn token(&self) -> String {
        dgbot_testkit::Api::new(&self.base).visitor().await.token
    }

    async fn config_with(&self, token: &str, origin: Option<&str>) -> (u16, Value, Option<String>) {
        let mut req = self
            .api
            .http
            .get(format!("{}/api/v1/chat/config", self.base))
            .bearer_auth(token);
        if let Some(origin) = origin {
            req = req.header("Origin", origin);
        }
        let res = req.send().await.unwrap();
        let acao = res
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned());
        (res.status().as_u16(), res.json().await.unwrap(), acao)
    }

    async fn preflight(&self, path: &str, origin: &str) -> reqwest::Response {
        self.api
            .http
            .request(reqwest::Method::OPTIONS, format!("{}{path}", self.base))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
            .await
            .unwrap()
    }
}

fn claims_of(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut decode = || {
        serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap())
            .unwrap()
    };
    (decode(), decode())
}

#[tokio::test]
async fn visitor_tokens_name_their_chatbot_and_expire() {
    let mut other = dgbot_server::config::demo_chatbot();
    other.id = "other-shop".into();
    other.api_keys = vec!["other-key".into()];
    other.test_api_keys = vec![];
    other.config.name = "Other shop".into();
    let s = trust_server(|c| c.token_ttl = Duration::from_secs(2), vec![other]);

    let token = s.token().await;
    let (header, claims) = claims_of(&token);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(claims["cid"], "demo-shop");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        2
    );

    // A token opens its own chatbot only: the other chatbot's token (from its API key) reads
    // the other configuration, and neither can be re-pointed without the server's key.
    let res = s
        .api
        .http
        .post(format!("{}/api/v1/chat/auth", s.base))
        .basic_auth("other-key", Some(""))
        .json(&json!({ "chatbot_id": "other-shop" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let other_token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.config_with(&other_token, None).await.1["name"],
        "Other shop"
    );
    assert_ne!(s.config_with(&token, None).await.1["name"], "Other shop");
    let (header_b64, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let mut forged = claims;
    forged["cid"] = json!("other-shop");
    let forged = format!(
        "{header_b64}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(forged.to_string())
    );
    let (status, body, _) = s.config_with(&forged, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    // `alg: none` is no way around the signature.
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        rest.split_once('.').unwrap().0
    );
    assert_eq!(s.config_with(&unsigned, None).await.0, 401);

    // Past `exp`, the token is refused with the reason, and `/auth` again is the way back.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (status, body, _) = s.config_with(&token, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "Visitor token expired");
}

#[tokio::test]
async fn cors_lets_the_chatbots_sites_call_the_visitor_endpoints_and_no_one_else() {
    let s = trust_server(|_| {}, vec![]);
    let token = s.token().await;

    // A preflight from an allowed site, for every visitor endpoint the seed's client calls.
    for path in [
        "/api/v1/chat/messages",
        "/api/v1/chat/config",
        "/api/v1/chat/actions",
        "/api/v1/chat/rate",
        "/api/v1/chat/livechat/handover",
        "/api/v1/chat/livechat/messages",
    ] {
        let res = s.preflight(path, "http://localhost:3000").await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
        let h = res.headers();
        assert_eq!(
            h["access-control-allow-origin"], "http://localhost:3000",
            "{path}"
        );
        let allowed = h["access-control-allow-headers"].to_str().unwrap();
        assert!(allowed.contains("authorization") && allowed.contains("content-type"));
        assert!(
            h.get("access-control-allow-credentials").is_none(),
            "no cookies"
        );
    }
    // Another site gets no CORS answer, so its browser sends nothing.
    let res = s
        .preflight("/api/v1/chat/messages", "https://evil.example")
        .await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // `/auth` (the API key) and the agent and setup endpoints are for servers: no CORS at all.
    for path in [
        "/api/v1/chat/auth",
        "/api/v1/chat/livechat/agent/messages",
        "/api/v1/chat/webhooks",
    ] {
        let res = s.preflight(path, "http://localhost:3000").await;
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{path} must not answer browsers"
        );
    }

    // The request itself: readable by the allowed site; refused with 403 on another site's
    // page (a token copied elsewhere); servers (no Origin) and the chat page itself pass.
    let (status, _, acao) = s.config_with(&token, Some("http://localhost:3000")).await;
    assert_eq!(
        (status, acao.as_deref()),
        (200, Some("http://localhost:3000"))
    );
    let (status, body, acao) = s.config_with(&token, Some("https://evil.example")).await;
    assert_eq!((status, acao), (403, None));
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("evil.example")
    );
    assert_eq!(s.config_with(&token, None).await.0, 200);
    assert_eq!(s.config_with(&token, Some(&s.base)).await.0, 200);
}

#[tokio::test]
async fn auth_public_is_limited_per_ip_address() {
    let limit = |c: &mut ServerConfig| {
        c.auth_public_limit = dgbot_server::config::RateLimit {
            messages: 5,
            per_seconds: 60,
        }
    };
    let s = trust_server(limit, vec![]);
    let ask = |forwarded: Option<&'static str>| {
        let mut req = s
            .api
            .http
            .post(format!("{}/api/v1/chat/auth/public", s.base))
            .json(&json!({ "chatbot_id": "demo-shop", "host_origin": "http://localhost:5173" }));
        if let Some(f) = forwarded {
            req = req.header("X-Forwarded-For", f);
        }
        req.send()
    };
    for _ in 0..5 {
        assert_eq!(ask(None).await.unwrap().status(), 200);
    }
    let res = ask(None).await.unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "rate_limited"
    );
    // A made-up X-Forwarded-For does not buy a new budget from a server not behind a proxy.
    assert_eq!(ask(Some("203.0.113.9")).await.unwrap().status(), 429);
    // Visitors who already have a token go on chatting from that address.
    let token = s.state.tokens.issue("demo-shop", "v-1");
    assert_eq!(s.config_with(&token, None).await.0, 200);

    // Behind a trusted proxy, each client address (the proxy's last entry) has its own budget.
    let s = trust_server(
        move |c| {
            limit(c);
            c.trusted_proxies = "127.0.0.1".parse().unwrap();
        },
        vec![],
    );
    let ask = |forwarded: &'static str| {
        s.api
            .http
            .post(format!("{}/api/v1/chat/auth/public", s.base))
            .header("X-Forwarded-For", forwarded)
            .json(&json!({ "chatbot_id": "demo-shop", "host_origin": "http://localhost:5173" }))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(ask("10.0.0.1, 198.51.100.1").await.unwrap().status(), 200);
    }
    assert_eq!(ask("10.0.0.2, 198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(ask("198.51.100.2").await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_chat_page_is_sent_with_a_strict_policy() {
    let s = trust_server(|_| {}, vec![]);
    let html = std::fs::read_to_string(s.state.config.dist_dir.join("index.html"))
        .expect("dist/index.html: run `cargo xtask build` first (`cargo xtask test` does)");
    let inline_scripts =
        html.matches("<script>").count() + html.matches("<script type=\"module\">").count();
    assert!(inline_scripts >= 1);

    let res = s
        .api
        .http
        .get(format!(
            "{}/chat/?chatbot_id=demo-shop&host=http%3A%2F%2Flocalhost%3A3000",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert_eq!(csp.matches("'sha256-").count(), inline_scripts, "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors http://localhost:*;"), "{csp}");
    assert!(csp.contains("default-src 'none'") && csp.contains("object-src 'none'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    let permissions = h["permissions-policy"].to_str().unwrap();
    assert!(permissions.contains("camera=()") && permissions.contains("geolocation=()"));

    // An unknown chatbot's page may be framed by no one.
    let res = s
        .api
        .http
        .get(format!("{}/chat/index.html?chatbot_id=nope", s.base))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );

    // Violation reports are taken and kept; an oversized one is refused.
    let res = s
        .api
        .http
        .post(format!("{}/csp-report", s.base))
        .header("Content-Type", "application/csp-report")
        .body(r#"{"csp-report":{"violated-directive":"script-src-elem"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(s.state.csp_reports.lock().unwrap().len(), 1);
    let res = s
        .api
        .http
        .post(format!("{}/csp-report", s.base))
        .body(vec![b'x'; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(s.state.csp_reports.lock().unwrap().len(), 1);
}
