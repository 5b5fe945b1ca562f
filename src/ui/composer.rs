//! The composer: the text box, the photo or file picked to go with it, send (or stop while an
//! answer streams), and the conversation tools under it.

use dgbot_protocol::{Part, Role};
use leptos::html;
use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::logic::i18n::{t, t_with};
use crate::state::answer::preload_text;
use crate::state::{self, Answering, Composer as ComposerState, Livechat, Session};
use crate::ui::answer_actions::editing_note;
use crate::ui::chunk::chunk_view;
use crate::ui::controls::ConversationTools;
use crate::ui::livechat::attach_slot;
use crate::ui::voice::mic_button;

#[component]
pub fn Composer(composer: NodeRef<html::Textarea>) -> impl IntoView {
    let (session, sending, answering, livechat) = (
        state::expect::<Session>(),
        state::expect::<ComposerState>(),
        state::expect::<Answering>(),
        state::expect::<Livechat>(),
    );
    let text = sending.draft;
    let grow = move || {
        if let Some(el) = composer.get_untracked() {
            let style = web_sys::HtmlElement::style(&el);
            let _ = style.set_property("height", "auto");
            let _ = style.set_property("height", &format!("{}px", el.scroll_height().min(140)));
        }
    };
    let submit = move || {
        if sending.send(text.get_untracked()) {
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
                let _ = preload_text().await;
            });
        }
    };
    let disabled = move || session.startup_error.with(Option::is_some);
    // Dictation where the chatbot has voice on (`ui::voice`, its own chunk, fetched at open
    // only then): a microphone button where the browser has a recognizer.
    let mic = session
        .config
        .with_untracked(|c| c.as_ref().is_some_and(|c| c.voice))
        .then(|| chunk_view(Box::new(move || Box::pin(mic_button(sending)))));
    // "Edit" (only the `text` chunk starts it): the question being rewritten, with a way back.
    let editing = move || {
        sending
            .editing
            .with(Option::is_some)
            .then(|| chunk_view(Box::new(move || Box::pin(editing_note(sending)))))
    };
    let nothing_to_send = move || {
        text.with(|t| t.trim().is_empty())
            && sending.pending_image.with(Option::is_none)
            && sending.pending_attachment.with(Option::is_none)
    };
    // A picked photo (for the assistant) or file (for the agent), shown until it is sent.
    let pending = move || {
        let (name, src) = match (
            sending.pending_image.get(),
            sending.pending_attachment.get(),
        ) {
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
                    on:click=move |_| { sending.pending_image.set(None); sending.pending_attachment.set(None); }>
                    <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18" /></svg>
                </button>
            </div>
        })
    };
    // The inline embed's `inlineWelcomeMessage`, above the input until the first question.
    let inline_welcome = session
        .host()
        .params
        .with_value(|p| p.inline_welcome.clone());
    let before_first_question = move || {
        !answering
            .transcript
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
        {editing}
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
                on:input=move |ev| { text.set(event_target_value(&ev)); grow(); livechat.typed(); preload(); }
                on:blur=move |_| livechat.typing_stopped()
                on:keydown=on_keydown
            ></textarea>
            {attach_slot(livechat)}
            {mic}
            <Show
                when=move || answering.streaming.get()
                fallback=move || view! {
                    <button class="send" type="submit" aria-label=t("Send message") data-testid="send"
                        prop:disabled=move || disabled() || nothing_to_send()>
                        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 12l16-8-6 16-2.5-6.5z" /></svg>
                    </button>
                }
            >
                <button class="send stop" type="button" aria-label=t("Stop the answer") data-testid="stop" on:click=move |_| answering.stop()>
                    <svg viewBox="0 0 24 24" aria-hidden="true"><rect x="7" y="7" width="10" height="10" rx="1.5" /></svg>
                </button>
            </Show>
        </form>
        <ConversationTools />
    }
}
