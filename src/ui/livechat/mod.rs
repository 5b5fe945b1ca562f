//! Livechat's views (seed 002, "Visitor handover flow"): the session's place in the log, the
//! end-chat button, the attach button for the agent, "Talk to a person". All but the last come
//! in the `livechat` chunk, which a visitor who never asks for a person never loads; the
//! talking is `state::livechat`.

pub mod attach;
pub mod end;
pub mod feedback;
pub mod status;
pub mod talk;

use dgbot_protocol::livechat::LivechatStatus;
use leptos::prelude::*;

use crate::logic::livechat::Route;
use crate::state::Livechat;
use crate::ui::chunk::chunk_view;
use attach::AttachForAgent;
use end::EndLivechat;
use status::LivechatStatusView;
pub use talk::TalkToPerson;

crate::lazy! { livechat:
    fn status_in_chunk() -> AnyView { view! { <LivechatStatusView /> }.into_any() }
}

crate::lazy! { livechat:
    fn end_in_chunk() -> AnyView { view! { <EndLivechat /> }.into_any() }
}

crate::lazy! { livechat:
    fn attach_in_chunk() -> AnyView { view! { <AttachForAgent /> }.into_any() }
}

/// Where the livechat's views go: each is mounted (and its chunk fetched) once it has
/// something to show, and stays.
pub fn livechat_status_slot(livechat: Livechat) -> impl IntoView {
    let ever = Memo::new(move |before: Option<&bool>| {
        before.copied().unwrap_or(false)
            || livechat
                .state
                .with(|l| l.status() != LivechatStatus::Inactive || l.feedback_pending())
    });
    move || {
        ever.get()
            .then(|| chunk_view(Box::new(|| Box::pin(status_in_chunk()))))
    }
}

pub fn end_livechat_slot(livechat: Livechat) -> impl IntoView {
    let ever = Memo::new(move |before: Option<&bool>| {
        before.copied().unwrap_or(false) || livechat.state.with(|l| l.is_open())
    });
    move || {
        ever.get()
            .then(|| chunk_view(Box::new(|| Box::pin(end_in_chunk()))))
    }
}

pub fn attach_slot(livechat: Livechat) -> impl IntoView {
    let ever = Memo::new(move |before: Option<&bool>| {
        before.copied().unwrap_or(false) || livechat.state.with(|l| l.route() == Route::Livechat)
    });
    move || {
        ever.get()
            .then(|| chunk_view(Box::new(|| Box::pin(attach_in_chunk()))))
    }
}
