//! When a message was said, in the chat's language (the browser's `Intl`, through
//! `Date.toLocale…String`): its time under it, shown on hover and focus, and a header above
//! the first message of each day. Drawn with the message's controls (`ui::answer_actions`,
//! the `text` chunk).

use wasm_bindgen::JsValue;

use crate::state::view_model::MessageVm;

fn date(at: &str) -> Option<js_sys::Date> {
    let d = js_sys::Date::new(&JsValue::from_str(at));
    (!d.get_time().is_nan()).then_some(d)
}

fn options(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap_or(JsValue::UNDEFINED)
}

/// The time of day: "14:05", or "2:05 PM" where that is the custom.
pub fn clock(at: &str, lang: &str) -> Option<String> {
    let d = date(at)?;
    Some(
        d.to_locale_time_string_with_options(
            lang,
            &options(r#"{"hour":"numeric","minute":"2-digit"}"#),
        )
        .into(),
    )
}

/// The day a message was said on, as a key (local time): equal for messages of one day.
pub fn day_key(at: &str) -> Option<String> {
    Some(date(at)?.to_date_string().into())
}

/// The day header: "Monday, 7 December", with the year when it is not this year's.
pub fn day(at: &str, lang: &str) -> Option<String> {
    let d = date(at)?;
    let this_year = js_sys::Date::new_0().get_full_year() == d.get_full_year();
    let format = if this_year {
        r#"{"weekday":"long","day":"numeric","month":"long"}"#
    } else {
        r#"{"weekday":"long","day":"numeric","month":"long","year":"numeric"}"#
    };
    Some(d.to_locale_date_string(lang, &options(format)).into())
}

/// The header above the message with `key` if it is its day's first: where the day changes
/// from the message before, and above the first one when that was not today.
pub fn day_header(messages: &[MessageVm], key: u64, lang: &str) -> Option<String> {
    let at = messages.iter().position(|m| m.key == key)?;
    let this = messages[at].created_at.as_deref()?;
    let before = messages[..at]
        .iter()
        .rev()
        .find_map(|m| m.created_at.as_deref().and_then(day_key))
        .or_else(|| js_sys::Date::new_0().to_date_string().as_string());
    (before != day_key(this)).then(|| day(this, lang)).flatten()
}
