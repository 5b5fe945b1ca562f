//! Rating the chat with the person, when the session asks for it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::logic::i18n::t;
use crate::state::{self, Livechat};
use crate::ui::stars::star_buttons;

#[component]
pub fn LivechatFeedback() -> impl IntoView {
    let livechat = state::expect::<Livechat>();
    let rating = RwSignal::new(0u8);
    let comment = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let thanked = RwSignal::new(false);
    let send = move |_| {
        busy.set(true);
        let comment = Some(comment.get_untracked()).filter(|c| !c.trim().is_empty());
        spawn_local(async move {
            match livechat.feedback(rating.get_untracked(), comment).await {
                Ok(()) => thanked.set(true),
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    view! {
        <Show when=move || livechat.state.with(|l| l.feedback_pending())>
            <div class="tool-panel" role="group" aria-label=t("Rate the chat with our team") data-testid="livechat-feedback">
                <p class="tool-title">{t("How was your chat with our team?")}</p>
                <div class="stars">{star_buttons(rating, "lc-star")}</div>
                <textarea rows="2" aria-label=t("Anything to add? (optional)") placeholder=t("Anything to add? (optional)")
                    data-testid="lc-comment" prop:value=move || comment.get()
                    on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
                <div class="tool-actions">
                    <button type="button" class="button primary" data-testid="lc-send" on:click=send
                        prop:disabled=move || rating.get() == 0 || busy.get()>{t("Send rating")}</button>
                </div>
                <p class="field-error" role="alert">{move || error.get()}</p>
            </div>
        </Show>
        <Show when=move || thanked.get()>
            <p class="livechat-note" role="status" data-testid="livechat-feedback-thanks">
                {t("Thank you! You're back with the assistant.")}
            </p>
        </Show>
    }
}
