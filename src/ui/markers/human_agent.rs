//! `request_human_agent`: a hand-over to a person, when livechat is live; otherwise why no one
//! can come, in words.

use dgbot_protocol::message::HumanAgentMarker;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::logic::i18n::{t, t_with};
use crate::logic::livechat::offline_reason;
use crate::state::{self, Livechat, Session};

/// Offer a hand-over to a person, when livechat is live (seed 002: show the hand-over UI only
/// when `livechat.enabled`; start it only when `availability_status` is `live`); otherwise say
/// why no one can come, in words.
#[component]
pub fn HumanAgent(marker: HumanAgentMarker) -> impl IntoView {
    let (session, livechat) = (state::expect::<Session>(), state::expect::<Livechat>());
    let live = move || {
        session
            .config
            .with(|c| c.as_ref().is_some_and(|c| c.livechat.is_live()))
    };
    let status = RwSignal::new(None::<String>);
    let part_id = StoredValue::new(marker.part_id.clone());
    let request = move |_| {
        status.set(Some(t("Connecting you with a person…").into()));
        spawn_local(async move {
            let result = livechat
                .request_person("marker", Some(part_id.get_value()))
                .await;
            status.set(Some(match result {
                Ok(()) => t("You're in the queue. A person will join this chat shortly.").into(),
                Err(e) => t_with("We couldn't reach a person: {}", &[&e]),
            }));
        });
    };
    view! {
        <div class="marker agent" data-part="request_human_agent">
            <Show
                when=live
                fallback=move || view! { <p class="marker-note" data-testid="agent-offline">{offline_note(session)}</p> }
            >
                <button class="button primary" type="button" data-testid="handover" on:click=request prop:disabled=move || status.get().is_some()>
                    {t("Talk to a person")}
                </button>
                <p class="marker-note" role="status">{move || status.get()}</p>
            </Show>
        </div>
    }
}

/// Why no one can take the chat, for the `request_human_agent` marker.
fn offline_note(session: Session) -> String {
    session
        .config
        .with_untracked(|c| {
            c.as_ref().map_or(
                t("No one from our team is available in the chat right now."),
                |c| offline_reason(&c.livechat),
            )
        })
        .to_owned()
}
