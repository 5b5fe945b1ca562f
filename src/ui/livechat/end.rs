//! Ending the chat with the person, with a confirmation.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::logic::i18n::{t, t_with};
use crate::state::{self, Livechat};

/// The header's close button while a person is in the chat, with a confirmation.
#[component]
pub fn EndLivechat() -> impl IntoView {
    let livechat = state::expect::<Livechat>();
    let confirming = RwSignal::new(false);
    let end = move |_| {
        confirming.set(false);
        spawn_local(async move {
            if let Err(e) = livechat.end().await {
                livechat
                    .answering
                    .transcript
                    .announcement
                    .set(t_with("The chat could not be ended: {}", &[&e.message()]));
            }
        });
    };
    view! {
        <Show when=move || livechat.state.with(|l| l.is_open())>
            <button type="button" class="button secondary small" data-testid="livechat-close"
                aria-expanded=move || confirming.get().to_string()
                on:click=move |_| confirming.update(|c| *c = !*c)>{t("End chat")}</button>
        </Show>
        <Show when=move || confirming.get()>
            <div class="confirm" role="group" aria-label=t("End the chat with our team?")>
                <span>{t("End the chat with our team?")}</span>
                <button type="button" class="button danger small" data-testid="livechat-close-confirm" on:click=end>{t("End chat")}</button>
                <button type="button" class="button secondary small" on:click=move |_| confirming.set(false)>{t("Keep chatting")}</button>
            </div>
        </Show>
    }
}
