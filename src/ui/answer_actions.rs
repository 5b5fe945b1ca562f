//! Under a finished answer: "helpful" / "not helpful" (then, optionally, why), copy, ask again
//! (the last answer), read aloud (where the chatbot has voice and the browser speech
//! synthesis), and the answer's follow-up questions while it is the last word. Under the
//! visitor's last question: edit. All in the `text` chunk, which drew the answer.

use dgbot_protocol::Role;
use dgbot_protocol::api::{FEEDBACK_REASONS, FeedbackValue};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::logic::i18n::t;
use crate::logic::livechat::Route;
use crate::state::feedback::vote;
use crate::state::view_model::{MessageVm, PartBody};
use crate::state::{self, Composer, Session, Transcript};
use crate::ui::chips::chips;
use crate::ui::chunk::chunk_view;
use crate::ui::when::{clock, day_header};

crate::lazy! { text:
/// Under a delivered message: its controls (an answer's, or the last question's) and its time;
/// above it, its day's header if it is the day's first.
pub fn message_actions(composer: Composer, m: MessageVm) -> AnyView {
    let transcript = composer.livechat.answering.transcript;
    let lang = state::expect::<Session>()
        .config
        .with_untracked(|c| c.as_ref().map(|c| c.language.clone()).unwrap_or_default());
    let key = m.key;
    let day = {
        let lang = lang.clone();
        move || {
            let day = transcript.messages.with(|ms| day_header(ms, key, &lang))?;
            Some(view! { <h2 class="day" data-testid="day">{day}</h2> })
        }
    };
    // The log's copy: an answer gets its time (and id) when it is done.
    let at = transcript
        .messages
        .with_untracked(|ms| ms.iter().find(|vm| vm.key == key).and_then(|vm| vm.created_at.clone()))
        .unwrap_or_else(crate::services::now);
    let time = clock(&at, &lang).map(|c| view! { <time class="when" datetime=at data-testid="when">{c}</time> });
    let controls = match m.role {
        Role::User => question_actions(composer, m),
        Role::Assistant => answer_actions(composer, m),
        _ => ().into_any(),
    };
    view! { {day} {controls} {time} }.into_any()
}
}

/// An answer in words (not a message of markers alone, like a "not helpful" vote's next step).
fn has_words(m: &MessageVm) -> bool {
    m.parts.with_untracked(|p| {
        p.iter()
            .any(|p| matches!(p.body, PartBody::RichText { .. } | PartBody::Text(_)))
    })
}

/// The messages after the one with `key` (none if it left the log).
fn after<T>(transcript: Transcript, key: u64, f: impl FnOnce(&[MessageVm]) -> T) -> T {
    transcript.messages.with(|ms| {
        let at = ms
            .iter()
            .position(|vm| vm.key == key)
            .map_or(ms.len(), |i| i + 1);
        f(&ms[at..])
    })
}

/// Nothing the visitor said since (a "not helpful" vote's next step may follow).
fn last_word(transcript: Transcript, key: u64) -> bool {
    after(transcript, key, |later| {
        !later.iter().any(|vm| vm.role == Role::User)
    })
}

/// The message right before the one with `key` is the visitor's: this one answers it (a
/// "not helpful" vote's next step follows an answer, and gets no controls of its own).
fn answers_a_question(transcript: Transcript, key: u64) -> bool {
    transcript.messages.with_untracked(|ms| {
        let at = ms.iter().position(|vm| vm.key == key).unwrap_or(0);
        at > 0 && ms[at - 1].role == Role::User
    })
}

/// Asking the assistant again is possible: nothing streams, no person is in the chat.
fn can_ask(composer: Composer) -> bool {
    !composer.livechat.answering.streaming.get() && composer.livechat.route() != Route::Livechat
}

const THUMB: &str =
    "M7 10v10M7 10l4-7a2 2 0 0 1 2 2.5L12.5 10H19a2 2 0 0 1 2 2.3l-1.2 6A2 2 0 0 1 17.8 20H4V10z";

/// A vote's state for a button: the answer's vote and the value the button stands for.
type Pressed = Option<(RwSignal<Option<FeedbackValue>>, FeedbackValue)>;

/// One small icon button, `label` already in the chat's language. Every control is this one view type (its handler boxed): a view type
/// per button would cost the first answer's download a copy of Leptos' element code each.
fn act(
    label: &'static str,
    testid: &'static str,
    down: bool,
    path: &'static str,
    pressed: Pressed,
    busy: Option<RwSignal<bool>>,
    on: Box<dyn Fn()>,
) -> AnyView {
    view! {
        <button type="button" class="act" class:down=down aria-label=label data-testid=testid
            aria-pressed=move || pressed.map(|(vote, v)| (vote.get() == Some(v)).to_string())
            prop:disabled=move || busy.is_some_and(|b| b.get())
            on:click=move |_| on()>
            <svg viewBox="0 0 24 24" aria-hidden="true"><path d=path /></svg>
        </button>
    }
    .into_any()
}

fn question_actions(composer: Composer, q: MessageVm) -> AnyView {
    let transcript = composer.livechat.answering.transcript;
    let key = q.key;
    // The answer this question got, while both are the conversation's last.
    let answer = move || {
        after(transcript, key, |later| {
            let answer = later
                .first()
                .filter(|vm| vm.role == Role::Assistant && vm.message_id.is_some())?;
            (!later.iter().any(|vm| vm.role == Role::User)).then(|| answer.clone())
        })
    };
    (move || {
        let answer = answer().filter(|_| can_ask(composer))?;
        let q = q.clone();
        let edit = act(
            t("Edit your question"),
            "edit",
            false,
            "M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4",
            None,
            None,
            Box::new(move || composer.edit(q.clone(), answer.clone())),
        );
        Some(view! { <div class="actions">{edit}</div> })
    })
    .into_any()
}

/// What a vote needs: where the answer is, its vote, and whether one is on its way.
#[derive(Clone)]
pub struct Ballot {
    transcript: Transcript,
    key: u64,
    id: String,
    feedback: RwSignal<Option<FeedbackValue>>,
    busy: RwSignal<bool>,
}

impl Ballot {
    /// Send a vote; "Thanks" is said when `thanks`, a failure always.
    fn cast(
        &self,
        value: FeedbackValue,
        reason: Option<String>,
        comment: Option<String>,
        thanks: bool,
    ) {
        let b = self.clone();
        b.busy.set(true);
        spawn_local(async move {
            let say = |what: String| b.transcript.announcement.set(what);
            match vote(
                b.transcript,
                b.key,
                b.feedback,
                b.id.clone(),
                value,
                reason,
                comment,
            )
            .await
            {
                Ok(()) if thanks => say(t("Thanks for your feedback!").into()),
                Ok(()) => {}
                Err(e) => say(e.message()),
            }
            b.busy.set(false);
        });
    }
}

fn answer_actions(composer: Composer, a: MessageVm) -> AnyView {
    let session = state::expect::<Session>();
    let transcript = composer.livechat.answering.transcript;
    let key = a.key;
    let id = transcript.messages.with_untracked(|ms| {
        ms.iter()
            .find(|vm| vm.key == key)
            .and_then(|vm| vm.message_id.clone())
    });
    let Some(id) = id.filter(|_| has_words(&a) && answers_a_question(transcript, key)) else {
        return ().into_any();
    };
    // The copy drawn before the answer was done has no id yet: the log's has.
    let mut a = a;
    a.message_id = Some(id.clone());
    let feedback = RwSignal::new(transcript.messages.with_untracked(|ms| {
        ms.iter()
            .find(|vm| vm.key == key)
            .and_then(|vm| vm.feedback)
    }));
    let busy = RwSignal::new(false);
    let ballot = Ballot {
        transcript,
        key,
        id: id.clone(),
        feedback,
        busy,
    };
    let asking_why = RwSignal::new(false);
    let up = {
        let ballot = ballot.clone();
        Box::new(move || {
            asking_why.set(false);
            ballot.cast(FeedbackValue::Up, None, None, true)
        })
    };
    let down = {
        let ballot = ballot.clone();
        Box::new(move || {
            asking_why.set(true);
            ballot.cast(FeedbackValue::Down, None, None, false)
        })
    };
    let text = transcript.data.with_value(|t| {
        t.messages()
            .iter()
            .find(|m| m.message_id == id)
            .map(|m| m.plain_text())
            .unwrap_or_default()
    });
    let copy = {
        let text = text.clone();
        Box::new(move || {
            let text = text.clone();
            spawn_local(async move {
                let done = wasm_bindgen_futures::JsFuture::from(
                    window().navigator().clipboard().write_text(&text),
                )
                .await;
                transcript.announcement.set(
                    if done.is_ok() {
                        t("Copied")
                    } else {
                        t("Could not copy")
                    }
                    .into(),
                );
            });
        })
    };
    let lang = session
        .config
        .with_untracked(|c| c.as_ref().map(|c| c.language.clone()).unwrap_or_default());
    let voice = session
        .config
        .with_untracked(|c| c.as_ref().is_some_and(|c| c.voice));
    // Hidden where the browser has no speech synthesis.
    let synth = (voice
        && js_sys::Reflect::has(&window(), &"speechSynthesis".into()).unwrap_or(false))
    .then(|| window().speech_synthesis().ok())
    .flatten();
    let read = synth.map(|synth| {
        act(
            t("Read aloud"),
            "read-aloud",
            false,
            "M4 9v6h4l5 4V5L8 9zM16.5 8.5a5 5 0 0 1 0 7",
            None,
            None,
            Box::new(move || {
                if synth.speaking() {
                    synth.cancel();
                } else if let Ok(u) = web_sys::SpeechSynthesisUtterance::new_with_text(&text) {
                    u.set_lang(&lang);
                    synth.speak(&u);
                }
            }),
        )
    });
    let ask_again = {
        let a = a.clone();
        move || {
            if !(last_word(transcript, key) && can_ask(composer)) {
                return None;
            }
            // The question this answer answered: the visitor's message before it.
            let question = transcript.messages.with_untracked(|ms| {
                let at = ms.iter().position(|vm| vm.key == key)?;
                ms[..at]
                    .iter()
                    .rev()
                    .find(|vm| vm.role == Role::User)
                    .cloned()
            })?;
            let a = a.clone();
            Some(act(
                t("Ask again"),
                "ask-again",
                false,
                "M20 12a8 8 0 1 1-2.3-5.7M20 4v5h-5",
                None,
                None,
                Box::new(move || composer.ask_again(question.clone(), a.clone())),
            ))
        }
    };
    let follow_ups = {
        let suggestions = a.suggestions();
        move || {
            let shown = !suggestions.is_empty()
                && after(transcript, key, |later| later.is_empty())
                && composer.draft.with(|d| d.is_empty())
                && can_ask(composer);
            shown.then(|| chips(suggestions.clone(), "suggestions", composer))
        }
    };
    // Why it did not help: its own chunk, fetched on the first "not helpful".
    let why = move || {
        let ballot = ballot.clone();
        asking_why.get().then(|| {
            chunk_view(Box::new(move || {
                Box::pin(why_panel(ballot.clone(), asking_why))
            }))
        })
    };
    view! {
        <div class="actions" class:last=move || last_word(transcript, key) role="group" aria-label=t("About this answer") data-testid="answer-actions">
            {act(t("Helpful"), "helpful", false, THUMB, Some((feedback, FeedbackValue::Up)), Some(busy), up)}
            {act(t("Not helpful"), "not-helpful", true, THUMB, Some((feedback, FeedbackValue::Down)), Some(busy), down)}
            {act(t("Copy"), "copy", false, "M9 9h11v11H9zM5 15H4V4h11v1", None, None, copy)}
            {ask_again}
            {read}
        </div>
        {why}
        {follow_ups}
    }
    .into_any()
}

crate::lazy! { feedback:
/// "Not helpful": why, in a few choices and the visitor's own words, sent as a second vote.
pub fn why_panel(ballot: Ballot, asking_why: RwSignal<bool>) -> AnyView {
    let reason = RwSignal::new(None::<&'static str>);
    let comment = RwSignal::new(String::new());
    let busy = ballot.busy;
    let send = move |_| {
        asking_why.set(false);
        let words = Some(comment.get_untracked()).filter(|c| !c.trim().is_empty());
        ballot.cast(FeedbackValue::Down, reason.get_untracked().map(str::to_owned), words, true)
    };
    let labels = [
        t("It's wrong"),
        t("Not what I asked"),
        t("Something is missing"),
        t("Something else"),
    ];
    let choices = FEEDBACK_REASONS
        .iter()
        .zip(labels)
        .map(|(&code, label)| {
            view! {
                <button type="button" class="chip" aria-pressed=move || (reason.get() == Some(code)).to_string()
                    data-testid=format!("reason-{code}") on:click=move |_| reason.set(Some(code))>{label}</button>
            }
        })
        .collect_view();
    view! {
        <div class="tool-panel" role="group" aria-label=t("What was wrong with the answer?") data-testid="why">
            <p class="tool-title">{t("What was wrong with the answer?")}</p>
            <div class="chips">{choices}</div>
            <textarea rows="2" aria-label=t("Tell us more (optional)") placeholder=t("Tell us more (optional)")
                data-testid="why-comment" maxlength="1000" prop:value=move || comment.get()
                on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
            <div class="tool-actions">
                <button type="button" class="button primary small" data-testid="why-send" on:click=send
                    prop:disabled=move || busy.get() || (reason.get().is_none() && comment.with(|c| c.trim().is_empty()))>{t("Send")}</button>
                <button type="button" class="button secondary small" on:click=move |_| asking_why.set(false)>{t("Cancel")}</button>
            </div>
        </div>
    }
    .into_any()
}
}

crate::lazy! { text:
/// Above the composer while the visitor edits their question: saying so, with a way back.
pub fn editing_note(composer: Composer) -> AnyView {
    view! {
        <p class="editing" data-testid="editing">
            {t("Editing your question")} " · "
            <button type="button" class="link-button" data-testid="edit-cancel"
                on:click=move |_| { composer.editing.set(None); composer.draft.set(String::new()); }>{t("Cancel")}</button>
        </p>
    }
    .into_any()
}
}
