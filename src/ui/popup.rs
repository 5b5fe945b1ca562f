//! The popup messages beside the closed launcher.

use dgbot_protocol::bridge::FrameAction;
use leptos::prelude::*;

use crate::leptos_private::SendWrapper;
use crate::logic::i18n::t;
use crate::state::{self, Session};

/// The config's `popup_messages`, beside the closed launcher, drawn by the `popup` chunk
/// (most chatbots have none). If it cannot be fetched, no popup: nothing else depends on it.
pub fn popup_messages() -> impl IntoView {
    let session = state::expect::<Session>();
    let pending = SendWrapper::new(popup_chunk(session));
    Suspend::new(async move { pending.await.unwrap_or_else(|_| ().into_any()) })
}

crate::lazy! { popup:
/// The popup bubbles: a click opens the chat, the cross dismisses them for the session.
fn popup_chunk(session: Session) -> AnyView {
    let host = session.host();
    let messages = session.config.with_untracked(|c| {
        c.as_ref()
            .map(|c| c.popup_messages.clone())
            .unwrap_or_default()
    });
    view! {
        <div class="popup" data-testid="popup" role="complementary" aria-label=t("Message from the chat")>
            <button type="button" class="popup-close" aria-label=t("Dismiss") data-testid="popup-dismiss"
                on:click=move |_| host.dismiss_popup()>
                <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18" /></svg>
            </button>
            {messages.into_iter().map(|m| view! {
                <button type="button" class="popup-message" on:click=move |_| host.post(FrameAction::OpenChat)>{m}</button>
            }).collect_view()}
        </div>
    }
    .into_any()
}
}
