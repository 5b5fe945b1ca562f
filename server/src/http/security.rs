//! What the browser is told to enforce, and who may call from where (docs/security.md):
//!
//! - the chat page's headers ([`chat_page_policy`]): a strict Content-Security-Policy (no
//!   `unsafe-inline`, no `unsafe-eval`; the page's two inline scripts allowed by their hashes,
//!   WebAssembly by `wasm-unsafe-eval`), `frame-ancestors` from the chatbot's allowed origins,
//!   `Referrer-Policy`, `Permissions-Policy`; `X-Content-Type-Options: nosniff` on everything;
//! - CSP violation reports ([`csp_report`], `POST /csp-report`), kept for the tests and logged;
//! - CORS for the visitor-token endpoints ([`visitor_cors`]): the seed's browser client
//!   (`fetchEventSource` from the site's own page) works from the chatbot's allowed origins;
//! - the caller's address ([`ClientIp`], believing only [`TrustedProxies`]), for the per-IP
//!   limit of `/auth/public`.

use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::http::origin::origin_allowed;
use crate::{AppState, SharedState};

/// The chat page (`/chat/`, `/chat/index.html`) gets [`chat_page_csp`] with `frame-ancestors`
/// from its chatbot's `allowed_origins` (the same `scheme://host:*` patterns), so the browser
/// itself refuses other embedders, in every browser (the app's own `ancestorOrigins` check
/// stays). An unknown chatbot's page may be framed by no one.
pub async fn chat_page_policy(
    State(state): State<SharedState>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let is_page = matches!(req.uri().path(), "/chat/" | "/chat/index.html");
    let chatbot_id = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        // Chatbot ids are letters, digits, `-` and `_`: never escaped by the loader.
        .find_map(|kv| kv.strip_prefix("chatbot_id="))
        .map(str::to_owned);
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !is_page {
        return res;
    }
    let bot = chatbot_id.as_deref().and_then(|id| state.core.chatbot(id));
    let ancestors = bot
        .map(|bot| frame_ancestors(&bot.allowed_origins))
        .unwrap_or_else(|| "'none'".to_owned());
    let voice = bot.is_some_and(|bot| bot.config.voice);
    // The page's inline scripts, hashed as built (a rebuild changes them).
    let html = tokio::fs::read_to_string(state.config.dist_dir.join("index.html"))
        .await
        .unwrap_or_default();
    let csp = chat_page_csp(&inline_script_hashes(&html), &ancestors);
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(permissions_policy(voice)),
    );
    res
}

/// The chat page's `Permissions-Policy`: [`PERMISSIONS_POLICY`], or for a chatbot with
/// `voice = true` the same with the microphone allowed to the page itself (dictation with
/// the browser's speech recognition; the loader's frame says `allow="microphone"`).
pub fn permissions_policy(voice: bool) -> &'static str {
    if voice {
        PERMISSIONS_POLICY_VOICE
    } else {
        PERMISSIONS_POLICY
    }
}

/// Uploads need no powerful feature (a file input, with the camera through the system's
/// picker), so the chat page asks for none and refuses them to anything it loads.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
     geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), \
     serial=(), hid=(), bluetooth=(), screen-wake-lock=(), xr-spatial-tracking=()";

/// [`PERMISSIONS_POLICY`] for a chatbot with voice on: the microphone for the page only.
pub const PERMISSIONS_POLICY_VOICE: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
     geolocation=(), gyroscope=(), magnetometer=(), microphone=(self), midi=(), payment=(), usb=(), \
     serial=(), hid=(), bluetooth=(), screen-wake-lock=(), xr-spatial-tracking=()";

/// The chat page's policy. Scripts: this origin, the page's inline scripts by hash (the
/// bootstrap and the early message queue), WebAssembly compilation (`wasm-unsafe-eval`), and
/// nothing else: no `unsafe-inline`, no `unsafe-eval`. Styles: the app's stylesheet only (the
/// app sets its theme colours through the CSSOM, which CSP allows). Pictures: anywhere
/// (assistant images and product photos live on the shop's own hosts), `data:` and `blob:`
/// (previews of uploads). Requests: this origin only. Violations are reported to
/// `/csp-report`.
pub fn chat_page_csp(script_hashes: &[String], ancestors: &str) -> String {
    let hashes: String = script_hashes
        .iter()
        .map(|h| format!(" 'sha256-{h}'"))
        .collect();
    format!(
        "default-src 'none'; script-src 'self'{hashes} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src * data: blob:; font-src 'self' data: https:; connect-src 'self'; form-action 'none'; \
         base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}; report-uri /csp-report"
    )
}

/// Base64 SHA-256 of each inline `<script>` (one without `src`) of `html`, as CSP names it.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        rest = &rest[start..];
        let Some(tag_end) = rest.find('>') else { break };
        let tag = &rest[..tag_end];
        let body = &rest[tag_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            hashes.push(STANDARD.encode(Sha256::digest(&body.as_bytes()[..close])));
        }
        rest = &body[close..];
    }
    hashes
}

/// CSP `frame-ancestors` sources for allowed-origin patterns (`*`, exact origins,
/// `scheme://host:*`); IPv6 literals, which CSP sources cannot name, are left out.
pub fn frame_ancestors(patterns: &[String]) -> String {
    let sources: Vec<&str> = patterns
        .iter()
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| !p.contains('[') && !p.contains(char::is_whitespace) && !p.contains(';'))
        .collect();
    if sources.is_empty() {
        "'none'".to_owned()
    } else {
        sources.join(" ")
    }
}

/// Violation reports kept in memory (the newest last), for the tests and an operator's eye.
const KEPT_REPORTS: usize = 100;

/// `POST /csp-report`: a browser's report of something the chat page's policy blocked
/// (`report-uri`, `application/csp-report`). Logged and kept (the newest
/// `KEPT_REPORTS`); a violation on our own page is a bug or an attack either way.
pub async fn csp_report(State(state): State<SharedState>, body: Bytes) -> StatusCode {
    let report = String::from_utf8_lossy(&body[..body.len().min(4096)]).into_owned();
    tracing::warn!("CSP violation on the chat page: {report}");
    let mut reports = state.csp_reports.lock().unwrap_or_else(|e| e.into_inner());
    if reports.len() >= KEPT_REPORTS {
        reports.remove(0);
    }
    reports.push(report);
    StatusCode::NO_CONTENT
}

/// CORS for the endpoints a visitor token opens (config, messages, actions, history, rating,
/// identify, deletion, the visitor's livechat): the seed's own browser client calls them from
/// the site's page. A preflight (which carries no token) is answered for an origin some
/// chatbot allows; the request itself only for an origin the token's chatbot allows (and
/// the handler refuses any other origin with `403`, see `auth::Visitor`). `Authorization`
/// and `Content-Type` (and the widget's `Idempotency-Key`) may be sent; no cookies.
/// `/auth` (API key) and the agent and setup endpoints are for servers and get no CORS.
pub fn visitor_cors(state: SharedState) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, parts: &Parts| {
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            let token_bot = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.strip_prefix("Bearer "))
                .and_then(|t| state.tokens.verify(t.trim()).ok())
                .and_then(|claims| state.core.chatbot(&claims.cid));
            match token_bot {
                Some(bot) => origin_allowed(&bot.allowed_origins, origin),
                None => some_chatbot_allows(&state, origin),
            }
        }))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600))
}

/// Whether any chatbot allows pages on `origin`: what a CORS preflight, which names no
/// chatbot, is answered for (each protocol then checks the request's own chatbot).
pub fn some_chatbot_allows(state: &AppState, origin: &str) -> bool {
    state
        .core
        .chatbots()
        .iter()
        .any(|bot| origin_allowed(&bot.allowed_origins, origin))
}

/// The reverse proxies this server believes about the client's address
/// (`DGBOT_TRUSTED_PROXIES`: addresses and CIDR blocks, comma-separated, e.g.
/// `127.0.0.1,10.0.0.0/8,::1`). Empty (the default): no forwarding header is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Whether `ip` is one of the trusted proxies (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|&(net, bits)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client's address for a request from `peer` with these `headers`: the peer itself
    /// unless it is a trusted proxy; then the forwarding chain (RFC 7239 `Forwarded: for=`
    /// when present, else `X-Forwarded-For`) walked right to left past trusted hops, so the
    /// first untrusted address is the client. A chain of trusted hops only gives its first
    /// entry; an entry that is not an address (`unknown`, an obfuscated name) stops the walk
    /// at the hop that reported it.
    pub fn client_of(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let chain = forwarded_for(headers).unwrap_or_else(|| x_forwarded_for(headers));
        let mut client = peer;
        for hop in chain.iter().rev() {
            let Some(ip) = hop else { break };
            client = canonical(*ip);
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

impl std::str::FromStr for TrustedProxies {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("{item:?} is not an IP address or CIDR block"))?;
            let ip = canonical(ip);
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{item:?}: the prefix length must be 0 to {max}"))?,
                None => max,
            };
            nets.push((ip, bits));
        }
        Ok(TrustedProxies(nets))
    }
}

/// `::ffff:10.0.0.1` is `10.0.0.1` (a dual-stack listener reports IPv4 peers so).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Every `X-Forwarded-For` entry, in order (`None`: not an address).
fn x_forwarded_for(headers: &axum::http::HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("unknown").split(','))
        .map(|a| a.trim().parse().ok())
        .collect()
}

/// The `for=` of every RFC 7239 `Forwarded` element, in order; `None` when the header is
/// absent. `for=192.0.2.60`, `for="192.0.2.60:8080"`, `for="[2001:db8::1]:4711"`.
fn forwarded_for(headers: &axum::http::HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let values: Vec<&str> = headers
        .get_all(header::FORWARDED)
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .collect();
    if values.is_empty() {
        return None;
    }
    let mut chain = Vec::new();
    for element in values.iter().flat_map(|v| v.split(',')) {
        let node = element.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("for")
                .then(|| v.trim().trim_matches('"'))
        });
        let Some(node) = node else { continue };
        let ip = if let Some(v6) = node.strip_prefix('[') {
            v6.split(']').next().and_then(|a| a.parse().ok())
        } else {
            node.parse()
                .ok()
                .or_else(|| node.rsplit_once(':').and_then(|(a, _)| a.parse().ok()))
        };
        chain.push(ip);
    }
    Some(chain)
}

/// The caller's IP address: the peer of the connection, or, when that peer is one of the
/// configured trusted proxies (`DGBOT_TRUSTED_PROXIES`), the client it forwarded for
/// ([`TrustedProxies::client_of`]). `None` when the server was started without connection
/// info (tests that call `axum::serve` on the bare router): those requests share one budget.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<SharedState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| {
                    state
                        .config
                        .trusted_proxies
                        .client_of(addr.ip(), &parts.headers)
                }),
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn frame_ancestors_follow_the_allowed_origins() {
        let p = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            super::frame_ancestors(&p(&[
                "http://localhost:*",
                "https://shop.example.com/",
                "http://[::1]:*"
            ])),
            "http://localhost:* https://shop.example.com"
        );
        assert_eq!(super::frame_ancestors(&p(&["*"])), "*");
        assert_eq!(super::frame_ancestors(&p(&[])), "'none'");
    }

    #[test]
    fn inline_scripts_are_hashed_as_written() {
        use base64::Engine;
        use sha2::Digest;
        let html = "<head><script>a()</script><script type=\"module\">\nimport x;\n</script>\
                    <script src=\"/x.js\"></script></head>";
        let h = |s: &str| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s));
        assert_eq!(
            super::inline_script_hashes(html),
            vec![h("a()"), h("\nimport x;\n")]
        );
        let csp = super::chat_page_csp(&[h("a()")], "'none'");
        assert!(csp.contains(&format!(
            "script-src 'self' 'sha256-{}' 'wasm-unsafe-eval';",
            h("a()")
        )));
        assert!(!csp.contains("unsafe-inline") && !csp.contains(" 'unsafe-eval'"));
    }

    #[test]
    fn only_trusted_proxies_are_believed() {
        use axum::http::HeaderMap;
        let trusted: super::TrustedProxies = "127.0.0.1, 10.0.0.0/8, ::1".parse().unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(*k, v.parse().unwrap());
            }
            h
        };
        let xff = headers(&[("x-forwarded-for", "198.51.100.7, 10.1.2.3")]);
        // An untrusted peer's header is ignored.
        assert_eq!(
            trusted.client_of(ip("203.0.113.9"), &xff),
            ip("203.0.113.9")
        );
        // From a trusted peer, right to left past trusted hops.
        assert_eq!(trusted.client_of(ip("127.0.0.1"), &xff), ip("198.51.100.7"));
        assert_eq!(
            trusted.client_of(ip("::ffff:10.0.0.5"), &xff),
            ip("198.51.100.7")
        );
        // A forged left entry does not win over the first untrusted one.
        let forged = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7")]);
        assert_eq!(trusted.client_of(ip("::1"), &forged), ip("198.51.100.7"));
        // RFC 7239 wins over X-Forwarded-For; ports and IPv6 brackets are understood.
        let fwd = headers(&[
            (
                "forwarded",
                "for=192.0.2.60;proto=http, for=\"[2001:db8::17]:4711\"",
            ),
            ("forwarded", "For=\"10.0.0.2:80\";by=10.0.0.1"),
            ("x-forwarded-for", "1.2.3.4"),
        ]);
        assert_eq!(trusted.client_of(ip("127.0.0.1"), &fwd), ip("2001:db8::17"));
        // `unknown` stops the walk at the hop that reported it.
        let unknown = headers(&[("forwarded", "for=unknown, for=10.9.9.9")]);
        assert_eq!(trusted.client_of(ip("127.0.0.1"), &unknown), ip("10.9.9.9"));
        assert!("10.0.0.0/33".parse::<super::TrustedProxies>().is_err());
        assert!("proxy.local".parse::<super::TrustedProxies>().is_err());
        assert!("".parse::<super::TrustedProxies>().unwrap().is_empty());
        assert!(
            "0.0.0.0/0"
                .parse::<super::TrustedProxies>()
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
    }
}
