//! Static files: the loader (`/widget.js`, and seed 000's `/static/widget.js`), the iframe app
//! (`/chat/`, trunk's `dist/`), and the demo host pages (`/demo/`). Compressed with gzip or
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
    let loader = config.loader_dir.join("widget.js");
    let app = ServeDir::new(&config.dist_dir)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .route_service("/widget.js", ServeFile::new(&loader))
        .route_service("/static/widget.js", ServeFile::new(&loader))
        .nest_service("/chat", app)
        .nest_service("/demo/img", ServeDir::new(config.demo_dir.join("img")))
        .route("/demo", get(|| async { Redirect::permanent("/demo/") }))
        .route(
            "/demo/",
            get(|s| demo_page(s, Path("index.html".to_owned()))),
        )
        .route("/demo/{page}", get(demo_page))
        .route("/", get(|| async { Redirect::temporary("/demo/") }))
        .layer(middleware::from_fn(cache_headers))
        .layer(CompressionLayer::new().gzip(true).br(true))
}

/// Demo host pages, with `{{WIDGET_BASE}}` replaced by the origin the widget is served from.
async fn demo_page(State(state): State<SharedState>, Path(page): Path<String>) -> Response {
    let valid = page.ends_with(".html")
        && page
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !valid || page.contains("..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read_to_string(state.config.demo_dir.join(&page)).await {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            html.replace("{{WIDGET_BASE}}", &state.config.public_base),
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A trunk output name with a content hash: `name-<16 hex>.ext` or `name-<16 hex>_bg.wasm`.
pub fn is_hashed_name(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
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
        } else if path.ends_with("widget.js") {
            // Site owners embed this URL; keep updates reaching visitors within minutes.
            "public, max-age=300"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
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
}
