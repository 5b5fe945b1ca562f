//! Under a message, how its delivery went: unsent (with "Send again") or an answer cut short
//! (with "Try again" when asking again may help); once delivered, its controls
//! (`ui::answer_actions`).

use dgbot_protocol::Role;
use leptos::prelude::*;

use crate::logic::i18n::{t, t_with};
use crate::state::Composer;
use crate::state::view_model::{Delivery, MessageVm};
use crate::ui::answer_actions::message_actions;
use crate::ui::chunk::chunk_view;

/// Unsent visitor messages get a resend button; cut-off answers say so, with a retry when
/// asking again may help.
pub fn delivery_footer(composer: Composer, m: MessageVm) -> AnyView {
    let delivery = m.delivery.clone();
    let is_user = m.role == Role::User;
    (move || match delivery.get() {
        Delivery::Unsent(why) if is_user => {
            let m = m.clone();
            view! {
                <p class="status unsent" role="alert" data-testid="unsent">
                    {t_with("Not sent. {}", &[&why])} " "
                    <button type="button" class="link-button" data-testid="resend" on:click=move |_| composer.resend(m.clone())>
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
                Box::pin(incomplete_footer(composer, m.clone(), why.clone(), retry))
            }))
            .into_any()
        }
        // Its time and day, a finished answer's controls, the last question's "edit": from the
        // `text` chunk, which drew the answer (or restored the history), so loaded.
        Delivery::Done => {
            let m = m.clone();
            chunk_view(Box::new(move || Box::pin(message_actions(composer, m.clone())))).into_any()
        }
        _ => ().into_any(),
    })
    .into_any()
}

crate::lazy! { text:
/// Why an answer stopped short, with "Try again" when asking again may help.
fn incomplete_footer(composer: Composer, m: MessageVm, why: String, retry: bool) -> AnyView {
    view! {
        <p class="status incomplete" data-testid="incomplete">
            {format!("{why} ")}
            {retry.then(|| view! {
                <button type="button" class="link-button" data-testid="retry" on:click=move |_| composer.retry(m.clone())>
                    {t("Try again")}
                </button>
            })}
        </p>
    }
    .into_any()
}
}
