//! The message log: the welcome message, the conversation (earlier pages as the visitor scrolls
//! up), the livechat's place in it, the typing indicator, and the polite announcer. It follows
//! the answer as it grows, unless the visitor scrolled up to read.

use leptos::html;
use leptos::prelude::*;

use crate::logic::i18n::{t, t_with};
use crate::state::{self, Answering, Composer, Livechat, Session, Transcript};
use crate::ui::chips::starter_chips;
use crate::ui::chunk::chunk_view;
use crate::ui::delivery::delivery_footer;
use crate::ui::livechat::livechat_status_slot;
use crate::ui::parts::message_view;

/// Go to the log's end each frame while its height still changes (up to `frames_left`
/// frames, done after two in a row without a change), unless the visitor scrolled away.
fn settle(
    el: web_sys::HtmlDivElement,
    stick: StoredValue<bool>,
    height: i32,
    unchanged: u8,
    frames_left: u8,
) {
    request_animation_frame(move || {
        if !stick.get_value() {
            return;
        }
        let now = el.scroll_height();
        el.set_scroll_top(now);
        let unchanged = if now == height { unchanged + 1 } else { 0 };
        if unchanged < 2 && frames_left > 0 {
            settle(el, stick, now, unchanged, frames_left - 1);
        }
    });
}

#[component]
pub fn MessageLog() -> impl IntoView {
    let (session, transcript, answering, composer, livechat) = (
        state::expect::<Session>(),
        state::expect::<Transcript>(),
        state::expect::<Answering>(),
        state::expect::<Composer>(),
        state::expect::<Livechat>(),
    );
    let log = NodeRef::<html::Div>::new();
    // Follow the answer as it grows, unless the visitor scrolled up to read.
    let stick = transcript.at_end;
    let scheduled = StoredValue::new(false);
    Effect::new(move |_| {
        transcript.grew.track();
        if !stick.get_value() || scheduled.get_value() {
            return;
        }
        scheduled.set_value(true);
        request_animation_frame(move || {
            scheduled.set_value(false);
            // The visitor may have scrolled up since this was scheduled: leave them there.
            if !stick.get_value() {
                return;
            }
            if let Some(el) = log.get_untracked() {
                el.set_scroll_top(el.scroll_height());
                // Messages that left the view take their placeholder size (`content-visibility`)
                // in the frames after this one: keep going to the end until the height holds.
                let height = el.scroll_height();
                settle(el, stick, height, 0, 20);
            }
        });
    });
    // Older history comes a page at a time when the visitor nears the top; the log keeps
    // what they were reading in place while the page goes in above it.
    let earlier = move || {
        let Some(el) = log.get_untracked() else {
            return;
        };
        let (height, top) = (el.scroll_height(), el.scroll_top());
        transcript.load_earlier(move || {
            request_animation_frame(move || el.set_scroll_top(top + el.scroll_height() - height));
        });
    };
    let last_top = StoredValue::new(0);
    let intent = StoredValue::new(0.0);
    let moved = move || intent.set_value(js_sys::Date::now());
    let on_scroll = move |_| {
        if let Some(el) = log.get_untracked() {
            let top = el.scroll_top();
            // At the end: follow the answer. Away from it: stay, but only when the visitor moved
            // it (a wheel, a touch, a key, the scrollbar in the last second); layout changes
            // and the log's own scrolling move the position too, and must not stop the follow.
            if el.scroll_height() - top - el.client_height() < 48 {
                stick.set_value(true);
            } else if js_sys::Date::now() - intent.get_value() < 1000.0 {
                stick.set_value(false);
            }
            // Only the visitor scrolling up asks for more, not the log keeping their place.
            if top < 200 && top < last_top.get_value() && transcript.has_earlier.get_untracked() {
                earlier();
            }
            last_top.set_value(top);
        }
    };
    // The chatbot's starter prompts, until the visitor's first message.
    let starters = move || {
        let asked = transcript
            .messages
            .with(|m| m.iter().any(|vm| vm.role == dgbot_protocol::Role::User));
        session
            .config
            .with(|c| c.as_ref().map(|c| c.starter_prompts.clone()))
            .filter(|s| !s.is_empty() && !asked)
    };
    let welcome = move || {
        session
            .config
            .with(|c| c.as_ref().map(|c| c.welcome_message.clone()))
    };

    view! {
        <div
            class="log"
            node_ref=log
            role="log"
            aria-live="off"
            aria-label=t("Conversation")
            aria-busy=move || answering.streaming.get().to_string()
            data-testid="log"
            on:scroll=on_scroll
            on:wheel=move |_| moved()
            on:touchmove=move |_| moved()
            on:keydown=move |_| moved()
            on:pointerdown=move |_| moved()
        >
            <Show when=move || transcript.has_earlier.get()>
                <button type="button" class="link-button earlier" data-testid="earlier"
                    prop:disabled=move || transcript.loading_earlier.get() on:click=move |_| earlier()>
                    {move || if transcript.loading_earlier.get() { t("Loading earlier messages…") } else { t("Show earlier messages") }}
                </button>
            </Show>
            {move || {
                welcome()
                    .map(|w| {
                        view! {
                            <div class="msg assistant welcome" data-testid="welcome">
                                <div class="bubble"><p>{w}</p></div>
                            </div>
                        }
                    })
            }}
            {move || starters().map(|s| chunk_view(Box::new(move || Box::pin(starter_chips(composer, s.clone())))))}
            <For
                each=move || transcript.messages.get()
                key=|m| m.key
                children=move |m| message_view(m, move |m| delivery_footer(composer, m))
            />
            {livechat_status_slot(livechat)}
            <Show when=move || answering.waiting.get()>
                <div class="msg assistant" data-testid="typing">
                    <div class="bubble typing" aria-label=t("The assistant is typing")>
                        <span></span><span></span><span></span>
                        {move || answering.looking_up.get().map(|label| view! {
                            <em class="looking-up" role="status" data-testid="looking-up">
                                {t_with("Looking up {}…", &[&label])}
                            </em>
                        })}
                    </div>
                </div>
            </Show>
            {move || {
                session.startup_error
                    .get()
                    .map(|e| view! { <p class="notice error" role="alert" data-testid="startup-error">{e.0}</p> })
            }}
        </div>
        // Finished answers are announced once, whole (the log itself stays quiet while streaming).
        <div class="visually-hidden" aria-live="polite" data-testid="announcer">{move || transcript.announcement.get()}</div>
    }
}
