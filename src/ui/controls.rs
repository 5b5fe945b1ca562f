//! Under the composer: "Talk to a person", "Rate this chat" and "Delete my data", and their
//! panels (the `tools` chunk).

use leptos::prelude::*;

use crate::logic::i18n::{t, t_with};
use crate::state::{self, Session};
use crate::ui::chunk::chunk_view;
use crate::ui::livechat::TalkToPerson;
use crate::ui::stars::star_buttons;

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Closed,
    Rate,
    Delete,
}

/// "Rate this chat" and "Delete my data" (seed 002: `/rate`, `DELETE /api/v1/chat`).
#[component]
pub fn ConversationTools() -> impl IntoView {
    let session = state::expect::<Session>();
    let tool = RwSignal::new(Tool::Closed);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let open = move |t: Tool| {
        status.set(None);
        tool.set(if tool.get_untracked() == t {
            Tool::Closed
        } else {
            t
        });
    };
    view! {
        {move || (tool.get() != Tool::Closed).then(|| chunk_view(Box::new(move || Box::pin(tool_panels(session, tool, status, busy)))))}
        <p class="tool-status" role="status" data-testid="tool-status">{move || status.get()}</p>
        <p class="footer-note">
            <TalkToPerson />
            <button type="button" class="link-button" data-testid="rate" aria-expanded=move || (tool.get() == Tool::Rate).to_string()
                on:click=move |_| open(Tool::Rate)>{t("Rate this chat")}</button>
            " · "
            <button type="button" class="link-button" data-testid="delete" aria-expanded=move || (tool.get() == Tool::Delete).to_string()
                on:click=move |_| open(Tool::Delete)>{t("Delete my data")}</button>
            " · " {t("Powered by dgbot")}
        </p>
    }
}

crate::lazy! { tools:
/// The rate and delete panels, loaded the first time the visitor opens one.
fn tool_panels(session: Session, tool: RwSignal<Tool>, status: RwSignal<Option<String>>, busy: RwSignal<bool>) -> AnyView {
    let rating = RwSignal::new(0u8);
    let feedback = RwSignal::new(String::new());
    let send_rating = move |_| {
        busy.set(true);
        let feedback = Some(feedback.get_untracked()).filter(|f| !f.trim().is_empty());
        leptos::task::spawn_local(async move {
            match session.rate(rating.get_untracked(), feedback).await {
                Ok(res) => {
                    let _ = res;
                    status.set(Some(t("Thank you for your rating!").into()));
                    tool.set(Tool::Closed);
                }
                Err(e) => status.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    let delete = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match session.delete_my_data().await {
                Ok(()) => {
                    status.set(Some(
                        t("Your conversation and the data we kept about you were deleted.").into(),
                    ));
                    tool.set(Tool::Closed);
                }
                Err(e) => status.set(Some(t_with("Nothing was deleted: {}", &[&e.message()]))),
            }
            busy.set(false);
        });
    };
    let stars = move || star_buttons(rating, "star");
    view! {
        <Show when=move || tool.get() == Tool::Rate>
            <div class="tool-panel" role="group" aria-label=t("Rate this conversation") data-testid="rate-panel">
                <p class="tool-title">{t("How was this conversation?")}</p>
                <div class="stars">{stars}</div>
                <textarea rows="2" aria-label=t("Anything to add? (optional)") placeholder=t("Anything to add? (optional)")
                    data-testid="rate-feedback" prop:value=move || feedback.get()
                    on:input=move |ev| feedback.set(event_target_value(&ev))></textarea>
                <div class="tool-actions">
                    <button type="button" class="button primary" data-testid="rate-send" on:click=send_rating
                        prop:disabled=move || rating.get() == 0 || busy.get()>{t("Send rating")}</button>
                    <button type="button" class="button secondary" on:click=move |_| tool.set(Tool::Closed)>{t("Cancel")}</button>
                </div>
            </div>
        </Show>
        <Show when=move || tool.get() == Tool::Delete>
            <div class="tool-panel" role="group" aria-label=t("Delete my data") data-testid="delete-panel">
                <p class="tool-title">{t("Delete this conversation and everything we kept about you?")}</p>
                <div class="tool-actions">
                    <button type="button" class="button danger" data-testid="delete-confirm" on:click=delete
                        prop:disabled=move || busy.get()>{t("Delete my data")}</button>
                    <button type="button" class="button secondary" on:click=move |_| tool.set(Tool::Closed)>{t("Cancel")}</button>
                </div>
            </div>
        </Show>
    }.into_any()
}
}
