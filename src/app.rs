//! The chat window: header (bot name, avatar, close), the message log, the composer.

use dgbot_protocol::Role;
use dgbot_protocol::bridge::{FrameAction, HostCommand, HostMessage};
use leptos::html;
use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::chat::{Chat, LaunchParams};
use crate::i18n::{t, t_with};
use crate::livechat::Route;
use crate::livechat_view::{TalkToPerson, attach_slot, end_livechat_slot, livechat_status_slot};
use crate::render::message_view;
use crate::view_model::{Delivery, MessageVm};
use dgbot_protocol::Part;
use dgbot_protocol::livechat::LivechatStatus;

#[component]
pub fn App() -> impl IntoView {
    let params = LaunchParams::from_query(&window().location().search().unwrap_or_default());
    let chat = Chat::new(params);
    provide_context(chat);

    let composer = NodeRef::<html::Textarea>::new();
    // Commands wait until start-up is done (a message sent before the visitor has a token would
    // race the start-up's own authentication).
    let waiting = StoredValue::new(Vec::<HostMessage>::new());
    let bridge = chat.bridge();
    bridge.listen(move |m| {
        if let HostCommand::Visitor { visitor_id } = &m.command {
            chat.host_visitor(visitor_id.clone()); // start-up waits for this one
        } else if chat.started.get_untracked() {
            run_command(chat, m);
        } else {
            waiting.update_value(|w| w.push(m));
        }
    });
    Effect::new(move |_| {
        if chat.started.get() {
            for m in waiting.try_update_value(std::mem::take).unwrap_or_default() {
                run_command(chat, m);
            }
        }
    });
    Effect::new(move |_| {
        if chat.composer_focus.get() > 0 {
            if let Some(el) = composer.get() {
                let _ = el.focus();
            }
        }
    });
    // Escape closes the window from inside the iframe too (the host page never sees these keys).
    let escape = window_event_listener(leptos::ev::keydown, move |ev: KeyboardEvent| {
        if ev.key() == "Escape" && !chat.params.with_value(|p| p.inline) {
            chat.post(FrameAction::CloseChat);
        }
    });
    on_cleanup(move || escape.remove());
    chat.start();

    let inline = chat.params.with_value(|p| p.inline);
    // The window is drawn once the configuration is in (or could not be): in the visitor's
    // language from the start, with words that need not change after. Built and mounted once,
    // by hand: a reactive `Option` of it would carry its whole rebuild code too (10 KB).
    let window_ref = NodeRef::<html::Main>::new();
    let owner = Owner::current();
    Effect::new(move |_| {
        if let (true, Some(el), Some(owner)) = (chat.started.get(), window_ref.get_untracked(), &owner) {
            owner.with(|| {
                use leptos::tachys::view::{Mountable, Render};
                let mut window = view! {
                    <Header />
                    <MessageLog />
                    <Composer composer=composer />
                }
                .build();
                window.mount(&el, None);
                // It lives as long as the page.
                std::mem::forget(window);
            });
        }
    });
    // While peeking, the page is see-through: only the popup bubbles show above the launcher.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.class_list().toggle_with_force("peek", chat.peek.get());
        }
    });
    view! {
        {move || chat.peek.get().then(popup_messages)}
        // The chat is the page's main landmark (axe-core: `landmark-one-main`, `region`).
        <main class="chat" class:inline=inline node_ref=window_ref></main>
    }
}

/// The config's `popup_messages`, beside the closed launcher, drawn by the `popup` chunk
/// (most chatbots have none). If it cannot be fetched, no popup: nothing else depends on it.
fn popup_messages() -> impl IntoView {
    use leptos::__reexports::send_wrapper::SendWrapper;
    let chat = expect_context::<Chat>();
    let pending = SendWrapper::new(popup_chunk(chat));
    Suspend::new(async move { pending.await.unwrap_or_else(|_| ().into_any()) })
}

crate::lazy! { popup:
/// The popup bubbles: a click opens the chat, the cross dismisses them for the session.
fn popup_chunk(chat: Chat) -> AnyView {
    let messages = chat.config.with_untracked(|c| {
        c.as_ref()
            .map(|c| c.popup_messages.clone())
            .unwrap_or_default()
    });
    view! {
        <div class="popup" data-testid="popup" role="complementary" aria-label=t("Message from the chat")>
            <button type="button" class="popup-close" aria-label=t("Dismiss") data-testid="popup-dismiss"
                on:click=move |_| chat.dismiss_popup()>
                <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18" /></svg>
            </button>
            {messages.into_iter().map(|m| view! {
                <button type="button" class="popup-message" on:click=move |_| chat.post(FrameAction::OpenChat)>{m}</button>
            }).collect_view()}
        </div>
    }
    .into_any()
}
}

/// Carry out a host command (seed 002's Option 4 `sendMessage`, and the loader's API calls).
fn run_command(chat: Chat, m: HostMessage) {
    if m.page.is_some() {
        chat.page.set_value(m.page);
    }
    match m.command {
        HostCommand::Opened => chat.window_opened(),
        HostCommand::SendMessage { message } => {
            chat.send(message);
        }
        HostCommand::Identify { user } => leptos::task::spawn_local(async move {
            if let Err(e) = chat.identify(user).await {
                leptos::logging::warn!("dgbot: identify failed: {}", e.message());
            }
        }),
        HostCommand::ReportPurchase {
            total_price,
            currency,
        } => chat.post(FrameAction::PurchaseReported {
            chatbot_id: chat.params.with_value(|p| p.chatbot_id.clone()),
            total_price,
            currency,
        }),
        HostCommand::Visitor { visitor_id } => chat.host_visitor(visitor_id),
        HostCommand::Page => {}
    }
}

#[component]
fn Header() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let name = move || {
        chat.config.with(|c| {
            c.as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_else(|| t("Chat").into())
        })
    };
    // While a person is in the chat, the header shows them (name and avatar).
    let agent = move || {
        chat.livechat.with(|l| {
            (l.route() == Route::Livechat)
                .then(|| l.agent.as_ref().map(|a| a.display_name.clone()))
                .flatten()
        })
    };
    // Only http(s) pictures, the agent's and the chatbot's alike: a `javascript:` or `data:`
    // avatar shows the initial instead.
    let web = |u: &String| dgbot_protocol::message::is_safe_link(u) && u.starts_with("http");
    let avatar = move || {
        let agent_avatar = chat.livechat.with(|l| {
            (l.route() == Route::Livechat)
                .then(|| l.agent.as_ref().and_then(|a| a.avatar_url.clone()))
                .flatten()
                .filter(web)
        });
        agent_avatar.or_else(|| {
            chat.config
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
    let inline = chat.params.with_value(|p| p.inline);
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
        chat.post(FrameAction::ToggleSize);
        chat.post(if large.get_untracked() {
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
                            {move || if chat.livechat.with(|l| l.status() == LivechatStatus::Waiting) {
                                t("Waiting for a person…")
                            } else {
                                t("Online · replies instantly")
                            }}</p>
                    }.into_any(),
                }}
            </div>
            {end_livechat_slot(chat)}
            {(!inline).then(|| view! {
                <button class="icon-button size-button" type="button" data-testid="size"
                    aria-label=move || if large.get() { t("Make the chat smaller") } else { t("Make the chat larger") }
                    aria-pressed=move || large.get().to_string() on:click=toggle_size>
                    <svg viewBox="0 0 24 24" aria-hidden="true">
                        <path d=move || if large.get() { "M9 4v5H4M15 20v-5h5" } else { "M4 9V4h5M20 15v5h-5" } />
                    </svg>
                </button>
                <button class="icon-button" type="button" aria-label=t("Close chat") data-testid="close"
                    on:click=move |_| chat.post(FrameAction::CloseChat)>
                    <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18" /></svg>
                </button>
            })}
        </header>
    }
}

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
fn MessageLog() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let log = NodeRef::<html::Div>::new();
    // Follow the answer as it grows, unless the visitor scrolled up to read.
    let stick = chat.at_end;
    let scheduled = StoredValue::new(false);
    Effect::new(move |_| {
        chat.grew.track();
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
        chat.load_earlier(move || {
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
            if top < 200 && top < last_top.get_value() && chat.has_earlier.get_untracked() {
                earlier();
            }
            last_top.set_value(top);
        }
    };
    let welcome = move || {
        chat.config
            .with(|c| c.as_ref().map(|c| c.welcome_message.clone()))
    };

    view! {
        <div
            class="log"
            node_ref=log
            role="log"
            aria-live="off"
            aria-label=t("Conversation")
            aria-busy=move || chat.streaming.get().to_string()
            data-testid="log"
            on:scroll=on_scroll
            on:wheel=move |_| moved()
            on:touchmove=move |_| moved()
            on:keydown=move |_| moved()
            on:pointerdown=move |_| moved()
        >
            <Show when=move || chat.has_earlier.get()>
                <button type="button" class="link-button earlier" data-testid="earlier"
                    prop:disabled=move || chat.loading_earlier.get() on:click=move |_| earlier()>
                    {move || if chat.loading_earlier.get() { t("Loading earlier messages…") } else { t("Show earlier messages") }}
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
            <For
                each=move || chat.messages.get()
                key=|m| m.key
                children=move |m| message_view(m, move |m| delivery_footer(chat, m))
            />
            {livechat_status_slot(chat)}
            <Show when=move || chat.waiting.get()>
                <div class="msg assistant" data-testid="typing">
                    <div class="bubble typing" aria-label=t("The assistant is typing")>
                        <span></span><span></span><span></span>
                        {move || chat.looking_up.get().map(|label| view! {
                            <em class="looking-up" role="status" data-testid="looking-up">
                                {t_with("Looking up {}…", &[&label])}
                            </em>
                        })}
                    </div>
                </div>
            </Show>
            {move || {
                chat.startup_error
                    .get()
                    .map(|e| view! { <p class="notice error" role="alert" data-testid="startup-error">{e.0}</p> })
            }}
        </div>
        // Finished answers are announced once, whole (the log itself stays quiet while streaming).
        <div class="visually-hidden" aria-live="polite" data-testid="announcer">{move || chat.announcement.get()}</div>
    }
}

/// Unsent visitor messages get a resend button; cut-off answers say so, with a retry when
/// asking again may help.
fn delivery_footer(chat: Chat, m: MessageVm) -> AnyView {
    let delivery = m.delivery.clone();
    let is_user = m.role == Role::User;
    (move || match delivery.get() {
        Delivery::Unsent(why) if is_user => {
            let m = m.clone();
            view! {
                <p class="status unsent" role="alert" data-testid="unsent">
                    {t_with("Not sent. {}", &[&why])} " "
                    <button type="button" class="link-button" data-testid="resend" on:click=move |_| chat.resend(m.clone())>
                        {t("Send again")}
                    </button>
                </p>
            }
            .into_any()
        }
        // Only an answer ends incomplete, and answers come from the `text` chunk: it is loaded.
        Delivery::Incomplete { why, retry } => {
            let m = m.clone();
            chunk_view(Box::new(move || {
                Box::pin(incomplete_footer(chat, m.clone(), why.clone(), retry))
            }))
            .into_any()
        }
        _ => ().into_any(),
    })
    .into_any()
}

crate::lazy! { text:
/// Why an answer stopped short, with "Try again" when asking again may help.
fn incomplete_footer(chat: Chat, m: MessageVm, why: String, retry: bool) -> AnyView {
    view! {
        <p class="status incomplete" data-testid="incomplete">
            {format!("{why} ")}
            {retry.then(|| view! {
                <button type="button" class="link-button" data-testid="retry" on:click=move |_| chat.retry(m.clone())>
                    {t("Try again")}
                </button>
            })}
        </p>
    }
    .into_any()
}
}

#[component]
fn Composer(composer: NodeRef<html::Textarea>) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let text = RwSignal::new(String::new());
    let grow = move || {
        if let Some(el) = composer.get_untracked() {
            let style = web_sys::HtmlElement::style(&el);
            let _ = style.set_property("height", "auto");
            let _ = style.set_property("height", &format!("{}px", el.scroll_height().min(140)));
        }
    };
    let submit = move || {
        if chat.send(text.get_untracked()) {
            text.set(String::new());
            request_animation_frame(grow);
        }
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
        }
    };
    // The visitor is writing: fetch what asking and showing the answer take (the `text` chunk).
    let preloaded = StoredValue::new(false);
    let preload = move || {
        if !preloaded.get_value() {
            preloaded.set_value(true);
            leptos::task::spawn_local(async {
                let _ = crate::render::preload_text().await;
            });
        }
    };
    let disabled = move || chat.startup_error.with(Option::is_some);
    let nothing_to_send = move || {
        text.with(|t| t.trim().is_empty())
            && chat.pending_image.with(Option::is_none)
            && chat.pending_attachment.with(Option::is_none)
    };
    // A picked photo (for the assistant) or file (for the agent), shown until it is sent.
    let pending = move || {
        let (name, src) = match (chat.pending_image.get(), chat.pending_attachment.get()) {
            (Some(image), _) => (
                image.filename.clone().unwrap_or_else(|| t("Photo").into()),
                image.safe_src(),
            ),
            (None, Some(Part::Image(image))) => (
                image.filename.clone().unwrap_or_else(|| t("Photo").into()),
                image.safe_src(),
            ),
            (None, Some(Part::File(file))) => {
                (file.filename.unwrap_or_else(|| t("File").into()), None)
            }
            _ => return None,
        };
        Some(view! {
            <div class="pending-image" data-testid="pending-image">
                {src.map(|src| view! { <img src=src alt="" /> })}
                <span>{name.clone()}</span>
                <button type="button" class="icon-button small" aria-label=t_with("Remove {}", &[&name])
                    on:click=move |_| { chat.pending_image.set(None); chat.pending_attachment.set(None); }>
                    <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18" /></svg>
                </button>
            </div>
        })
    };
    // The inline embed's `inlineWelcomeMessage`, above the input until the first question.
    let inline_welcome = chat.params.with_value(|p| p.inline_welcome.clone());
    let before_first_question = move || {
        !chat
            .messages
            .with(|m| m.iter().any(|vm| vm.role == Role::User))
    };
    view! {
        {inline_welcome.map(|w| view! {
            <Show when=before_first_question>
                <p class="inline-welcome" data-testid="inline-welcome">{w.clone()}</p>
            </Show>
        })}
        {pending}
        <form class="composer" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <label class="visually-hidden" for="dgbot-input">{t("Message")}</label>
            <textarea
                id="dgbot-input"
                node_ref=composer
                rows="1"
                placeholder=t("Write a message…")
                data-testid="composer"
                prop:value=move || text.get()
                prop:disabled=disabled
                on:input=move |ev| { text.set(event_target_value(&ev)); grow(); chat.typed(); preload(); }
                on:blur=move |_| chat.typing_stopped()
                on:keydown=on_keydown
            ></textarea>
            {attach_slot(chat)}
            <Show
                when=move || chat.streaming.get()
                fallback=move || view! {
                    <button class="send" type="submit" aria-label=t("Send message") data-testid="send"
                        prop:disabled=move || disabled() || nothing_to_send()>
                        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 12l16-8-6 16-2.5-6.5z" /></svg>
                    </button>
                }
            >
                <button class="send stop" type="button" aria-label=t("Stop the answer") data-testid="stop" on:click=move |_| chat.stop()>
                    <svg viewBox="0 0 24 24" aria-hidden="true"><rect x="7" y="7" width="10" height="10" rx="1.5" /></svg>
                </button>
            </Show>
        </form>
        <ConversationTools />
    }
}

pub type ChunkFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<AnyView, crate::Unloaded>>>>;

/// What a lazily loaded chunk draws (`lazy!`): nothing while it loads (a chunk is small and
/// usually cached), and if it cannot be fetched a notice with "Try again", which loads it anew.
/// A chunk already loaded draws at once, in the same render: a part redrawn when its answer
/// finishes must not leave a gap for a moment (the log would lose its place).
pub fn chunk_view(load: Box<dyn Fn() -> ChunkFuture>) -> impl IntoView {
    use leptos::__reexports::send_wrapper::SendWrapper;
    use std::task::{Context, Poll, Waker};
    let attempt = RwSignal::new(0u32);
    let loading = RwSignal::new(true);
    let load = SendWrapper::new(load);
    let chat = use_context::<Chat>();
    let shown = move |loaded: Result<AnyView, crate::Unloaded>| {
        loading.set(false);
        match loaded {
            Ok(view) => view,
            Err(crate::Unloaded) => view! {
                <p class="notice error" role="alert" data-testid="chunk-error">
                    {t("This part of the chat could not be loaded.")} " "
                    <button type="button" class="link-button"
                        on:click=move |_| { loading.set(true); attempt.update(|n| *n += 1) }>{t("Try again")}</button>
                </p>
            }
            .into_any(),
        }
    };
    let content = move || {
        attempt.track();
        let mut pending = load();
        if let Poll::Ready(loaded) = pending
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            return shown(loaded);
        }
        let pending = SendWrapper::new(pending);
        Suspend::new(async move {
            let view = shown(pending.await);
            // The part grew the log after it last followed the answer down: follow again.
            if let Some(chat) = chat {
                request_animation_frame(move || chat.grew());
            }
            view
        })
        .into_any()
    };
    // `display: contents`: the wrapper only carries `aria-busy` while the chunk loads.
    view! { <div class="later" aria-busy=move || loading.get().to_string()>{content}</div> }
}

/// Five star buttons setting `rating` (test ids `{prefix}-1` … `{prefix}-5`).
pub fn star_buttons(rating: RwSignal<u8>, prefix: &'static str) -> impl IntoView {
    (1..=5u8)
        .map(move |n| {
            view! {
                <button type="button" class="star" data-testid=format!("{prefix}-{n}")
                    aria-label=t_with("{} of 5", &[&n.to_string()]) aria-pressed=move || (rating.get() == n).to_string()
                    class:lit={move || rating.get() >= n} on:click=move |_| rating.set(n)>"★"</button>
            }
        })
        .collect_view()
}

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Closed,
    Rate,
    Delete,
}

/// "Rate this chat" and "Delete my data" (seed 002: `/rate`, `DELETE /api/v1/chat`).
#[component]
fn ConversationTools() -> impl IntoView {
    let chat = expect_context::<Chat>();
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
        {move || (tool.get() != Tool::Closed).then(|| chunk_view(Box::new(move || Box::pin(tool_panels(chat, tool, status, busy)))))}
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
fn tool_panels(chat: Chat, tool: RwSignal<Tool>, status: RwSignal<Option<String>>, busy: RwSignal<bool>) -> AnyView {
    let rating = RwSignal::new(0u8);
    let feedback = RwSignal::new(String::new());
    let send_rating = move |_| {
        busy.set(true);
        let feedback = Some(feedback.get_untracked()).filter(|f| !f.trim().is_empty());
        leptos::task::spawn_local(async move {
            match chat.rate(rating.get_untracked(), feedback).await {
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
            match chat.delete_my_data().await {
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
