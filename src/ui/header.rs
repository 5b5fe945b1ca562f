//! The window's header: the bot's name and avatar (or the person's, while one is in the chat),
//! the end-chat button in livechat, and the size and close buttons of the floating window.

use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::livechat::LivechatStatus;
use leptos::prelude::*;

use crate::logic::i18n::t;
use crate::logic::livechat::Route;
use crate::state::{self, Host, Livechat, Session};
use crate::ui::livechat::end_livechat_slot;

#[component]
pub fn Header() -> impl IntoView {
    let (session, livechat, host) = (
        state::expect::<Session>(),
        state::expect::<Livechat>(),
        state::expect::<Host>(),
    );
    let name = move || {
        session.config.with(|c| {
            c.as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_else(|| t("Chat").into())
        })
    };
    // While a person is in the chat, the header shows them (name and avatar).
    let agent = move || {
        livechat.state.with(|l| {
            (l.route() == Route::Livechat)
                .then(|| l.agent.as_ref().map(|a| a.display_name.clone()))
                .flatten()
        })
    };
    // Only http(s) pictures, the agent's and the chatbot's alike: a `javascript:` or `data:`
    // avatar shows the initial instead.
    let web = |u: &String| dgbot_protocol::message::is_safe_link(u) && u.starts_with("http");
    let avatar = move || {
        let agent_avatar = livechat.state.with(|l| {
            (l.route() == Route::Livechat)
                .then(|| l.agent.as_ref().and_then(|a| a.avatar_url.clone()))
                .flatten()
                .filter(web)
        });
        agent_avatar.or_else(|| {
            session
                .config
                .with(|c| c.as_ref().and_then(|c| c.avatar.clone()))
                .filter(web)
        })
    };
    let initial = move || {
        agent()
            .unwrap_or_else(name)
            .chars()
            .next()
            .unwrap_or('?')
            .to_string()
    };
    let inline = host.inline();
    // Seed 002: `toggleSize`, then `expandChat` or `collapseChat`; the loader resizes the window.
    // Whether the window is large is read from the window itself (the loader also makes it
    // normal again when it reopens), so the button never shows a stale state.
    let is_large = || {
        window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w > 420.0)
    };
    let large = RwSignal::new(is_large());
    let resized = window_event_listener(leptos::ev::resize, move |_| large.set(is_large()));
    on_cleanup(move || resized.remove());
    let toggle_size = move |_| {
        host.post(FrameAction::ToggleSize);
        host.post(if large.get_untracked() {
            FrameAction::CollapseChat
        } else {
            FrameAction::ExpandChat
        });
    };
    view! {
        <header class="header">
            <div class="avatar" aria-hidden="true">
                {move || match avatar() {
                    Some(src) => view! { <img src=src alt="" /> }.into_any(),
                    None => view! { <span>{initial}</span> }.into_any(),
                }}
            </div>
            <div class="title">
                <h1 data-testid="bot-name">{name}</h1>
                {move || match agent() {
                    Some(agent) => view! {
                        <p class="subtitle"><span class="online-dot" aria-hidden="true"></span>
                            <span class="with">{t("With")} " " <span data-testid="agent-name">{agent}</span></span></p>
                    }.into_any(),
                    None => view! {
                        <p class="subtitle"><span class="online-dot" aria-hidden="true"></span>
                            {move || if livechat.state.with(|l| l.status() == LivechatStatus::Waiting) {
                                t("Waiting for a person…")
                            } else {
                                t("Online · replies instantly")
                            }}</p>
                    }.into_any(),
                }}
            </div>
            {end_livechat_slot(livechat)}
            {(!inline).then(|| view! {
                <button class="icon-button size-button" type="button" data-testid="size"
                    aria-label=move || if large.get() { t("Make the chat smaller") } else { t("Make the chat larger") }
                    aria-pressed=move || large.get().to_string() on:click=toggle_size>
                    <svg viewBox="0 0 24 24" aria-hidden="true">
                        <path d=move || if large.get() { "M9 4v5H4M15 20v-5h5" } else { "M4 9V4h5M20 15v5h-5" } />
                    </svg>
                </button>
                <button class="icon-button" type="button" aria-label=t("Close chat") data-testid="close"
                    on:click=move |_| host.post(FrameAction::CloseChat)>
                    <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18" /></svg>
                </button>
            })}
        </header>
    }
}
