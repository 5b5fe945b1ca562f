//! Static files: the host-page scripts (`/widget.js`, seed 002's `/chatbotinline.js` and
//! `/searchbar.js`, each also under seed 000's `/static/`), the iframe app
//! (`/chat/`, the build's `dist/`), the demo host pages (`/demo/`) and the agent console
//! (`/agent/`, `server/agent/`, beside the demo pages). Compressed with gzip or
//! brotli (precompressed `.br`/`.gz` files beside the built app are used when present);
//! hashed file names are cached for a year, everything else is revalidated.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

use crate::{ServerConfig, SharedState};

pub fn routes(config: &ServerConfig) -> Router<SharedState> {
    let app = ServeDir::new(&config.dist_dir)
        .precompressed_br()
        .precompressed_gzip();
    let mut router = Router::new();
    for name in HOST_SCRIPTS {
        let file = config.loader_dir.join(name);
        router = router
            .route_service(&format!("/{name}"), ServeFile::new(&file))
            .route_service(&format!("/static/{name}"), ServeFile::new(&file));
    }
    router
        .route("/launcher/{chatbot_id}", get(super::launcher::launcher))
        .nest_service("/chat", app)
        .nest_service("/demo/img", ServeDir::new(config.demo_dir.join("img")))
        .route("/demo", get(|| async { Redirect::permanent("/demo/") }))
        .route(
            "/demo/",
            get(|s| demo_page(s, Path("index.html".to_owned()))),
        )
        .route("/demo/{page}", get(demo_page))
        .route("/agent", get(|| async { Redirect::permanent("/agent/") }))
        .route(
            "/agent/",
            get(|s| console_file(s, Path("index.html".to_owned()))),
        )
        .route("/agent/{file}", get(console_file))
        .route("/", get(|| async { Redirect::temporary("/demo/") }))
        .layer(middleware::from_fn(cache_headers))
        .layer(CompressionLayer::new().gzip(true).br(true))
}

/// The scripts a host page loads, built into `loader/` by `cargo xtask build`.
pub const HOST_SCRIPTS: [&str; 3] = ["widget.js", "chatbotinline.js", "searchbar.js"];

/// Demo host pages and their scripts and styles, with `{{WIDGET_BASE}}` replaced by the origin
/// the widget is served from. `strict-csp.html` is sent with the strictest policy a site owner
/// could have that still allows the widget: the lines the README asks site owners to add.
async fn demo_page(State(state): State<SharedState>, Path(page): Path<String>) -> Response {
    let content_type = match page.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let valid = page
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !valid || page.contains("..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read_to_string(state.config.demo_dir.join(&page)).await {
        Ok(text) => {
            let mut res = (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                text.replace("{{WIDGET_BASE}}", &state.config.public_base),
            )
                .into_response();
            if page == "strict-csp.html" {
                let csp = strict_csp(&state.config.public_base);
                if let Ok(value) = HeaderValue::from_str(&csp) {
                    res.headers_mut()
                        .insert(header::CONTENT_SECURITY_POLICY, value);
                }
            }
            res
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The agent console's folder: `agent/` beside the demo pages (`server/agent/`).
pub fn console_dir(config: &ServerConfig) -> std::path::PathBuf {
    config
        .demo_dir
        .parent()
        .map(|p| p.join("agent"))
        .unwrap_or_else(|| "agent".into())
}

/// The agent console (`server/agent/`, served at `/agent/`): a page, its style and its modules
/// beside them (`<name>.js`, `name` in lower-case letters, digits and dashes), all sent with
/// [`console_csp`]. It talks to the public livechat API of this origin, nothing else.
async fn console_file(State(state): State<SharedState>, Path(file): Path<String>) -> Response {
    let module = file.strip_suffix(".js").is_some_and(|stem| {
        !stem.is_empty()
            && stem
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    let content_type = match file.as_str() {
        "index.html" => "text/html; charset=utf-8",
        "console.css" => "text/css; charset=utf-8",
        _ if module => "text/javascript; charset=utf-8",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match tokio::fs::read(console_dir(&state.config).join(&file)).await {
        Ok(bytes) => {
            let mut res = (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                bytes,
            )
                .into_response();
            let headers = res.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&console_csp(&state.config.public_base)) {
                headers.insert(header::CONTENT_SECURITY_POLICY, value);
            }
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            res
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The console's policy: no inline script or style, no `eval`, scripts, styles and API calls
/// from this origin only, not framed. Pictures in transcripts may come from anywhere over
/// `https` (assistant images), from the widget's origin (product pictures, attachments, which
/// may be another origin than the console's: `localhost` vs `127.0.0.1`) or from `data:`.
pub fn console_csp(widget_base: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' {widget_base} https: data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// A build output name with a content hash (`cargo xtask build`): `name-<16 hex>.ext` or `name-<16 hex>_bg.wasm`.
pub fn is_hashed_name(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A strict policy (no `unsafe-inline`, no `unsafe-eval`) plus what the widget needs: its
/// scripts (`script-src`) and its chat window (`frame-src`) from the widget's origin.
pub fn strict_csp(widget_base: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' {widget_base}; frame-src {widget_base}; \
         style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'"
    )
}

async fn cache_headers(req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    if res.status().is_success()
        && !path.starts_with("/api/")
        && !res.headers().contains_key(header::CACHE_CONTROL)
    {
        let value = if path.starts_with("/chat/") && is_hashed_name(&path) {
            "public, max-age=31536000, immutable"
        } else if HOST_SCRIPTS.iter().any(|name| path.ends_with(name)) {
            // Site owners embed this URL; keep updates reaching visitors within minutes.
            "public, max-age=300"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    if HOST_SCRIPTS.iter().any(|name| path.ends_with(name)) {
        // Let site owners (and our benchmark) see the script's real size in Resource Timing.
        res.headers_mut().insert(
            header::HeaderName::from_static("timing-allow-origin"),
            HeaderValue::from_static("*"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashed_names() {
        assert!(super::is_hashed_name(
            "/chat/dgbot-1a2b3c4d5e6f7a8b_bg.wasm"
        ));
        assert!(super::is_hashed_name("/chat/dgbot-1a2b3c4d5e6f7a8b.js"));
        assert!(super::is_hashed_name("/chat/widget-0123456789abcdef.css"));
        assert!(!super::is_hashed_name("/chat/index.html"));
        assert!(!super::is_hashed_name("/widget.js"));
    }

    #[test]
    fn the_console_policy_is_strict() {
        let csp = super::console_csp("http://127.0.0.1:8080");
        assert!(!csp.contains("unsafe"), "{csp}");
        for directive in [
            "default-src 'self'",
            "script-src 'self';",
            "style-src 'self';",
            "connect-src 'self';",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
        assert!(
            csp.contains("img-src 'self' http://127.0.0.1:8080 "),
            "{csp}"
        );
    }
}
