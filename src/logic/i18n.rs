//! The widget's words in the visitor's language (issue 17).
//!
//! Every string the widget shows is written in English in the code and goes through [`t`],
//! which looks it up in the catalogue the server sent with the configuration (`strings` of
//! `GET /api/v1/chat/config`: only the one language this visitor needs, with the chatbot's
//! `[chatbot.strings]` overrides applied; `server/locales/`). The English text is the key, as
//! with gettext: English costs nothing, a missing translation shows the English, and the
//! opened widget carries no catalogue. `{}` in a string is a value put in by [`t_with`].
//!
//! The window is drawn once the configuration has arrived (see `ui::app::App`), so these lookups
//! need not be reactive. [`t`] gives a `&'static str`, as the string literal it replaces was,
//! so the views keep their types and their code. Outside a browser (the native tests of
//! `logic`) every string is its English.

use std::cell::RefCell;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::JsValue;

thread_local! {
    /// What [`t`] has looked up: English text → its translation, each kept for the page's life.
    static SEEN: RefCell<Vec<(&'static str, &'static str)>> = const { RefCell::new(Vec::new()) };
}

/// `english` in the visitor's language: from `window.__dgS`, the configuration's `strings`
/// (index.html's `__dgLook` keeps them there; the widget does not decode them into a map, which
/// would cost the opened widget a kilobyte), looked up once per string.
pub fn t(english: &'static str) -> &'static str {
    SEEN.with(|seen| {
        if let Some((_, said)) = seen.borrow().iter().find(|(k, _)| *k == english) {
            return *said;
        }
        let said = lookup(english).map_or(english, |s| &*s.leak());
        seen.borrow_mut().push((english, said));
        said
    })
}

#[cfg(target_arch = "wasm32")]
fn lookup(english: &str) -> Option<String> {
    let get = |target: &JsValue, key: &str| js_sys::Reflect::get(target, &key.into()).ok();
    get(&js_sys::global(), "__dgS")
        .and_then(|strings| get(&strings, english))
        .and_then(|s| s.as_string())
}

#[cfg(not(target_arch = "wasm32"))]
fn lookup(_: &str) -> Option<String> {
    None
}

/// `english` in the visitor's language, its `{}`s replaced by `values` in order.
pub fn t_with(english: &'static str, values: &[&str]) -> String {
    dgbot_protocol::forms::fill(t(english).to_owned(), values)
}
