//! "Talk to a person" under the composer, when livechat is live and no session is open.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::logic::i18n::{t, t_with};
use crate::state::{self, Livechat, Session};

/// "Talk to a person" under the composer, when livechat is live and no session is open.
#[component]
pub fn TalkToPerson() -> impl IntoView {
    let (session, livechat) = (state::expect::<Session>(), state::expect::<Livechat>());
    let note = RwSignal::new(None::<String>);
    let live = move || {
        session.config.with(|c| {
            c.as_ref()
                .is_some_and(|c| livechat.state.with(|l| l.can_hand_over(&c.livechat)))
        })
    };
    let request = move |_| {
        spawn_local(async move {
            if let Err(e) = livechat.request_person("manual_button", None).await {
                note.set(Some(t_with("We couldn't reach a person: {}", &[&e])));
            }
        });
    };
    view! {
        <Show when=live>
            <button type="button" class="link-button" data-testid="talk-to-person" on:click=request>{t("Talk to a person")}</button>
            " · "
        </Show>
        {move || note.get().map(|n| view! { <span role="alert">{n}</span> " · " })}
    }
}
