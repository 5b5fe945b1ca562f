//! The composer's attach button while a person is in the chat and the chatbot takes files.

use leptos::prelude::*;

use crate::logic::i18n::t;
use crate::logic::livechat::Route;
use crate::state::{self, Composer, Livechat, Session};

/// The composer's attach button while a person is in the chat and the chatbot takes files.
#[component]
pub fn AttachForAgent() -> impl IntoView {
    let (session, livechat, composer) = (
        state::expect::<Session>(),
        state::expect::<Livechat>(),
        state::expect::<Composer>(),
    );
    let allowed = move || {
        livechat.state.with(|l| l.route() == Route::Livechat)
            && session
                .config
                .with(|c| c.as_ref().is_some_and(|c| c.livechat.attachments_enabled))
    };
    view! {
        <Show when=allowed>
            <label class="icon-button attach" aria-label=t("Attach a file for our team")>
                <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16 7l-7.5 7.5a2 2 0 0 0 2.8 2.8L19 9.6a4 4 0 0 0-5.7-5.7L5.6 11.6a6 6 0 0 0 8.5 8.5L20 14.2" /></svg>
                <input class="visually-hidden" type="file" data-testid="livechat-attach"
                    on:change=move |ev| composer.attach(ev) />
            </label>
        </Show>
        {move || composer.attach_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
    }
}
