//! Drawing what a lazily loaded chunk draws (`lazy!`).

use leptos::prelude::*;

use crate::leptos_private::SendWrapper;
use crate::logic::i18n::t;
use crate::state::{self, Transcript};

pub type ChunkFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<AnyView, crate::Unloaded>>>>;

/// What a lazily loaded chunk draws (`lazy!`): nothing while it loads (a chunk is small and
/// usually cached), and if it cannot be fetched a notice with "Try again", which loads it anew.
/// A chunk already loaded draws at once, in the same render: a part redrawn when its answer
/// finishes must not leave a gap for a moment (the log would lose its place).
pub fn chunk_view(load: Box<dyn Fn() -> ChunkFuture>) -> impl IntoView {
    use std::task::{Context, Poll, Waker};
    let attempt = RwSignal::new(0u32);
    let loading = RwSignal::new(true);
    let load = SendWrapper::new(load);
    let transcript = state::try_expect::<Transcript>();
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
            if let Some(transcript) = transcript {
                request_animation_frame(move || transcript.grew());
            }
            view
        })
        .into_any()
    };
    // `display: contents`: the wrapper only carries `aria-busy` while the chunk loads.
    view! { <div class="later" aria-busy=move || loading.get().to_string()>{content}</div> }
}
