//! `GET /launcher/{chatbot_id}`: what `widget.js` needs to draw the launcher on the host page
//! (issue 17), as a one-line JavaScript module it `import()`s as it starts (script-src already
//! allows this origin, so a strict host CSP needs no new line):
//!
//! ```js
//! export default {"css":"…","label":"Chat with us","open":"Open chat","close":"Close chat","title":"Chat","popup":true}
//! ```
//!
//! - `css`: `loader/src/launcher.css` with the chatbot's colours, side and offset.
//! - `label`: `theme.launcher_label`, a pill instead of the round bubble (or absent).
//! - `open`, `close`, `title`: the launcher's names and the frame's title, in the visitor's
//!   language (`Accept-Language` with `language = "auto"`).
//! - `popup`: the chatbot has popup messages, so a first-time visitor's page makes the chat
//!   frame at idle time (docs/host-page.md, Decisions).
//! - `voice`: present (`true`) only for a chatbot with `voice = true`: the loader's frame then
//!   says `allow="microphone"` (the chat page's `Permissions-Policy` allows it too).
//!
//! Public (anyone sees the launcher), the same for every visitor of a chatbot who asks in the
//! same languages, and cached for 5 minutes like `widget.js`. An unknown chatbot gets the
//! default look and no popups.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::SharedState;
use dgbot_core::model::Chatbot;

/// The launcher's style sheet, before the chatbot's look.
const LAUNCHER_CSS: &str = include_str!("../../../loader/src/launcher.css");

/// [`LAUNCHER_CSS`] without its comments and line breaks, made once (every page load of every
/// site that embeds the widget asks for the launcher's look).
fn base_css() -> &'static str {
    static CSS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSS.get_or_init(|| {
        let mut out = String::new();
        let mut rest = LAUNCHER_CSS;
        while let Some(start) = rest.find("/*") {
            out.push_str(&rest[..start]);
            rest = rest[start..]
                .find("*/")
                .map_or("", |end| &rest[start + end + 2..]);
        }
        out.push_str(rest);
        out.lines().map(str::trim).collect()
    })
}

#[derive(Serialize)]
struct Look {
    css: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    open: String,
    close: String,
    title: String,
    popup: bool,
    /// The chatbot has voice on: the loader's frame then says `allow="microphone"`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    voice: bool,
}

pub async fn launcher(
    State(state): State<SharedState>,
    Path(chatbot_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let bot = state.core.chatbot(&chatbot_id);
    let look = look(bot, &headers);
    let body = format!(
        "export default {}",
        serde_json::to_string(&look).unwrap_or_else(|_| "{}".into())
    );
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::VARY, "Accept-Language"),
        ],
        body,
    )
        .into_response()
}

fn look(bot: Option<&Chatbot>, headers: &HeaderMap) -> Look {
    let strings = bot
        .map(|b| {
            b.strings
                .strings(&super::language::visitor_language(b, headers))
        })
        .unwrap_or_default();
    let tr = |english: &str| {
        strings
            .get(english)
            .cloned()
            .unwrap_or_else(|| english.into())
    };
    let mut css = base_css().to_owned();
    if let Some(bot) = bot {
        // Colours are checked (`#rgb`…) and the offsets are numbers when the file is read.
        let theme = &bot.config.theme;
        let l = &bot.launcher;
        css.push_str(&format!(
            ":host{{--c:{};--f:{};--x:{}px;--y:{}px}}",
            theme.primary_color, theme.on_primary_color, l.offset[0], l.offset[1]
        ));
        if theme.launcher_side == "left" {
            css.push_str(".l,.p{right:auto;left:var(--x)}");
        }
        // The frame's colour scheme is the chat page's (widget.css): Chromium paints a frame
        // whose scheme differs from its page's opaque, and the popup window must stay clear.
        match theme.mode.as_str() {
            "dark" => css.push_str(".p{color-scheme:dark}"),
            "auto" => css.push_str(".p{color-scheme:light dark}"),
            _ => {}
        }
    }
    Look {
        css,
        label: bot.and_then(|b| b.launcher.label.clone()),
        open: tr("Open chat"),
        close: tr("Close chat"),
        title: tr("Chat"),
        popup: bot.is_some_and(|b| !b.config.popup_messages.is_empty()),
        voice: bot.is_some_and(|b| b.config.voice),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_style_sheet_goes_out_without_comments_or_line_breaks() {
        let css = base_css();
        assert!(
            !css.contains("/*") && !css.contains("*/") && !css.contains('\n'),
            "{css}"
        );
        assert!(css.starts_with(":host{all:initial;"), "{css}");
        assert!(css.contains(".l,.p{position:fixed;right:var(--x)"), "{css}");
        assert!(css.ends_with(".o~.l{display:none}}"), "{css}");
    }
}
