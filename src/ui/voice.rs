//! Dictation: the browser's speech recognition (`SpeechRecognition`, or Chrome's and Safari's
//! `webkitSpeechRecognition`) writes what the visitor says, in the chat's language, into the
//! composer, where they read it before sending. The microphone button shows only where the
//! chatbot has voice on (then this `voice` chunk is fetched at open) and the browser has a
//! recognizer.

use js_sys::{Function, Reflect};
use leptos::prelude::*;

use crate::logic::i18n::t;
use crate::state::{Composer, Session};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// The browser's recognizer constructor, if it has one.
fn recognizer() -> Option<Function> {
    ["SpeechRecognition", "webkitSpeechRecognition"]
        .into_iter()
        .find_map(|name| Reflect::get(&window(), &name.into()).ok()?.dyn_into().ok())
}

fn set(target: &wasm_bindgen::JsValue, key: &str, value: &wasm_bindgen::JsValue) {
    let _ = Reflect::set(target, &key.into(), value);
}

fn get(target: &wasm_bindgen::JsValue, key: &str) -> wasm_bindgen::JsValue {
    Reflect::get(target, &key.into()).unwrap_or_default()
}

crate::lazy! { voice:
/// The microphone button beside the composer's input, where the browser has a recognizer.
pub fn mic_button(composer: Composer) -> AnyView {
    recognizer().map_or_else(|| ().into_any(), |r| mic_view(composer, r))
}
}

fn mic_view(composer: Composer, recognizer: Function) -> AnyView {
    let session = crate::state::expect::<Session>();
    let listening = RwSignal::new(false);
    let current = StoredValue::new_local(None::<wasm_bindgen::JsValue>);
    let press = move |_| {
        if listening.get_untracked() {
            current.with_value(|r| r.as_ref().map(stop));
            return;
        }
        let lang = session
            .config
            .with_untracked(|c| c.as_ref().map(|c| c.language.clone()).unwrap_or_default());
        current.set_value(listen(recognizer.clone(), lang, composer.draft, listening));
        composer.focus();
    };
    view! {
        <button type="button" class="icon-button small mic" aria-label=t("Dictate") data-testid="mic"
            aria-pressed=move || listening.get().to_string() on:click=press>
            <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM5 11a7 7 0 0 0 14 0M12 18v3" /></svg>
        </button>
    }
    .into_any()
}

/// Start listening: what is heard goes after `draft`'s text as it comes (interim results
/// included); `listening` is true until the recognizer ends. Returns the recognizer, to stop
/// it (`None` when it could not start).
fn listen(
    recognizer: Function,
    lang: String,
    draft: RwSignal<String>,
    listening: RwSignal<bool>,
) -> Option<wasm_bindgen::JsValue> {
    let rec = Reflect::construct(&recognizer, &js_sys::Array::new()).ok()?;
    set(&rec, "lang", &lang.into());
    set(&rec, "interimResults", &true.into());
    let before = draft.get_untracked();
    let on_result = Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(move |ev| {
        let results = get(&ev, "results");
        let heard: String = (0..get(&results, "length").as_f64().unwrap_or(0.0) as u32)
            .filter_map(|i| {
                let best = Reflect::get_u32(&Reflect::get_u32(&results, i).ok()?, 0).ok()?;
                get(&best, "transcript").as_string()
            })
            .collect();
        let sep = if before.is_empty() || before.ends_with(char::is_whitespace) {
            ""
        } else {
            " "
        };
        draft.set(format!("{before}{sep}{}", heard.trim()));
    });
    let on_end = Closure::<dyn FnMut()>::new(move || listening.set(false));
    set(&rec, "onresult", on_result.as_ref());
    set(&rec, "onend", on_end.as_ref());
    set(&rec, "onerror", on_end.as_ref());
    // The recognizer calls these until it ends, once per dictation: kept for the page's life.
    on_result.forget();
    on_end.forget();
    let start: Function = get(&rec, "start").dyn_into().ok()?;
    start.call0(&rec).ok()?;
    listening.set(true);
    Some(rec)
}

/// Stop listening (the recognizer delivers what it heard, then ends).
fn stop(rec: &wasm_bindgen::JsValue) {
    if let Ok(stop) = get(rec, "stop").dyn_into::<Function>() {
        let _ = stop.call0(rec);
    }
}
