//! The app: makes the page's state, listens to the host page, and draws the window (header,
//! message log, composer) once start-up is done.

use dgbot_protocol::bridge::{FrameAction, HostCommand, HostMessage};
use leptos::html;
use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::state::{self, Session};
use crate::ui::composer::Composer;
use crate::ui::header::Header;
use crate::ui::log::MessageLog;
use crate::ui::popup::popup_messages;

#[component]
pub fn App() -> impl IntoView {
    let session = state::provide(crate::services::launch::launch_params());
    let (host, composer_state) = (session.host(), session.composer);

    let composer = NodeRef::<html::Textarea>::new();
    // Commands wait until start-up is done (a message sent before the visitor has a token would
    // race the start-up's own authentication).
    let waiting = StoredValue::new(Vec::<HostMessage>::new());
    let bridge = host.bridge();
    bridge.listen(move |m| {
        if let HostCommand::Visitor { visitor_id } = &m.command {
            session.host_visitor(visitor_id.clone()); // start-up waits for this one
        } else if session.started.get_untracked() {
            run_command(session, m);
        } else {
            waiting.update_value(|w| w.push(m));
        }
    });
    Effect::new(move |_| {
        if session.started.get() {
            for m in waiting.try_update_value(std::mem::take).unwrap_or_default() {
                run_command(session, m);
            }
        }
    });
    Effect::new(move |_| {
        if composer_state.focus.get() > 0
            && let Some(el) = composer.get()
        {
            let _ = el.focus();
        }
    });
    // Escape closes the window from inside the iframe too (the host page never sees these keys).
    let escape = window_event_listener(leptos::ev::keydown, move |ev: KeyboardEvent| {
        if ev.key() == "Escape" && !host.inline() {
            host.post(FrameAction::CloseChat);
        }
    });
    on_cleanup(move || escape.remove());
    session.start();

    let inline = host.inline();
    // The window is drawn once the configuration is in (or could not be): in the visitor's
    // language from the start, with words that need not change after. Built and mounted once,
    // by hand: a reactive `Option` of it would carry its whole rebuild code too (10 KB).
    let window_ref = NodeRef::<html::Main>::new();
    let owner = Owner::current();
    Effect::new(move |_| {
        if let (true, Some(el), Some(owner)) =
            (session.started.get(), window_ref.get_untracked(), &owner)
        {
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
            let _ = root.class_list().toggle_with_force("peek", host.peek.get());
        }
    });
    view! {
        {move || host.peek.get().then(popup_messages)}
        // The chat is the page's main landmark (axe-core: `landmark-one-main`, `region`).
        <main class="chat" class:inline=inline node_ref=window_ref></main>
    }
}

/// Carry out a host command (seed 002's Option 4 `sendMessage`, and the loader's API calls).
fn run_command(session: Session, m: HostMessage) {
    let host = session.host();
    if m.page.is_some() {
        host.page.set_value(m.page);
    }
    match m.command {
        HostCommand::Opened => {
            host.window_opened();
            session.composer.focus();
        }
        HostCommand::SendMessage { message } => {
            session.composer.send(message);
        }
        HostCommand::Identify { user } => leptos::task::spawn_local(async move {
            let done = match identify_chunk(session, user).await {
                Ok(identified) => identified.await,
                Err(crate::Unloaded) => Err("its code could not be loaded".into()),
            };
            if let Err(e) = done {
                leptos::logging::warn!("dgbot: identify failed: {e}");
            }
        }),
        HostCommand::ReportPurchase {
            total_price,
            currency,
        } => host.post(FrameAction::PurchaseReported {
            chatbot_id: host.chatbot_id(),
            total_price,
            currency,
        }),
        HostCommand::Visitor { visitor_id } => session.host_visitor(visitor_id),
        HostCommand::Page => {}
    }
}

crate::lazy! { identify:
    /// `window.DGbot.identify(user)`, from its own chunk: most pages never call it.
    fn identify_chunk(
        session: Session,
        user: dgbot_protocol::api::IdentifyRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>>>> {
        Box::pin(async move { session.identify(user).await.map(|_| ()).map_err(|e| e.message()) })
    }
}
