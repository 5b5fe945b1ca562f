//! Five stars to rate with (the chat, or the chat with a person).

use leptos::prelude::*;

use crate::logic::i18n::t_with;

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
