//! Questions as chips: the chatbot's starter prompts before the first message, an answer's
//! follow-ups after it. A click sends the question (one listener for the row). Drawn by the
//! `text` chunk, which a click needs anyway to ask and show the answer: a chatbot with starter
//! prompts fetches it at open (after the composer is usable), every other one when the visitor
//! starts typing, as before.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::logic::i18n::t;
use crate::state::Composer;

pub fn chips(questions: Vec<String>, testid: &'static str, composer: Composer) -> impl IntoView {
    let send = move |ev: leptos::ev::MouseEvent| {
        let chip = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .filter(|el| el.class_name() == "chip");
        if let Some(question) = chip.and_then(|el| el.text_content()) {
            composer.send(question);
        }
    };
    view! {
        <div class="chips" role="group" aria-label=t("Suggested questions") data-testid=testid on:click=send>
            {questions
                .into_iter()
                .map(|q| view! { <button type="button" class="chip" data-testid="chip">{q}</button> })
                .collect_view()}
        </div>
    }
}

crate::lazy! { text:
/// The chatbot's starter prompts, before the visitor's first message.
pub fn starter_chips(composer: Composer, prompts: Vec<String>) -> AnyView {
    chips(prompts, "starters", composer).into_any()
}
}
