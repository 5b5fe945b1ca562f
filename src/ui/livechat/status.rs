//! The livechat's place in the log: waiting, who is there, or how it ended; the agent typing;
//! the rating when it is asked for.

use dgbot_protocol::livechat::LivechatStatus;
use leptos::prelude::*;

use crate::logic::i18n::{t, t_with};
use crate::logic::livechat::{Route, ended_text};
use crate::state::{self, Livechat};
use crate::ui::livechat::feedback::LivechatFeedback;

/// The livechat's place in the transcript: waiting, who is there, or how it ended, and the
/// rating when it is asked for.
#[component]
pub fn LivechatStatusView() -> impl IntoView {
    let livechat = state::expect::<Livechat>();
    let status = move || livechat.state.with(|l| l.status);
    view! {
        {move || {
            let (text, testid) = livechat.state.with(|l| match l.status() {
                LivechatStatus::Waiting => (
                    t("Waiting for a person to join. You can keep asking the assistant meanwhile.").into(),
                    "livechat-status",
                ),
                LivechatStatus::Active => (
                    match &l.agent {
                        Some(a) => t_with("You're chatting with {}.", &[&a.display_name]),
                        None => t("You're chatting with a person.").into(),
                    },
                    "livechat-status",
                ),
                LivechatStatus::Closed => (
                    ended_text(
                        l.agent.as_ref(),
                        l.session.as_ref().and_then(|s| s.closed_by),
                        l.session.as_ref().and_then(|s| s.close_reason.as_deref()),
                    ),
                    "livechat-closed",
                ),
                LivechatStatus::Inactive => (String::new(), ""),
            });
            status().filter(|s| *s != LivechatStatus::Inactive).map(|s| view! {
                <div class="livechat-note" role="status" data-testid="livechat-status" data-status=s.as_str()>
                    <p data-testid=testid>{text}</p>
                </div>
            })
        }}
        <Show when=move || livechat.state.with(|l| l.agent_typing && l.route() == Route::Livechat)>
            <div class="msg agent" data-testid="agent-typing">
                <div class="bubble typing-note">
                    {move || livechat.state.with(|l| match &l.agent {
                        Some(a) => t_with("{} is typing…", &[&a.display_name]),
                        None => t("Our team is typing…").into(),
                    })}
                </div>
            </div>
        </Show>
        <LivechatFeedback />
    }
}
