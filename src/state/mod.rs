//! What the page shows and does, as small `Copy` handles of signals, each with the operations
//! on its part of the page. Below `ui`, above `services` (which does the talking) and `logic`
//! (which decides).
//!
//! - [`host`]: the host bridge: the launch parameters, the chatbot's configuration, events for
//!   the host page, the popup beside the launcher.
//! - [`transcript`]: the log's messages and their reactive mirror ([`view_model`]), the
//!   history.
//! - [`answer`]: the answer being asked for and streamed.
//! - [`livechat`]: the livechat session, followed.
//! - [`composer`]: what the visitor sends, and sending it (ask again, edit).
//! - [`feedback`]: the visitor's vote on an answer.
//! - [`session`](mod@session): the session with the chat service: start-up, identity, rating,
//!   deletion.
//!
//! The handles form one spine, each holding the one below it and acting through it:
//! session → composer → livechat → answering → transcript → host. So the arrows inside
//! `state` point down too, and every signal is in the session once (a tree that held the
//! transcript twice, under the answer and under livechat, cost the opened widget 610 B
//! gzipped: handles are copied into every closure and future that uses them).
//!
//! Components take the narrow handles they read with [`expect`] (`expect::<Transcript>()`).
//! The handles are provided as one context, the [`Session`] at the top of the spine, rather
//! than one context each: each context type costs the opened widget ~140 B gzipped (measured:
//! Leptos' context lookup is built once per type), a handle picked from the session nothing.

pub mod answer;
pub mod composer;
pub mod feedback;
pub mod host;
pub mod livechat;
pub mod session;
pub mod transcript;
pub mod view_model;

use leptos::prelude::*;

pub use answer::Answering;
pub use composer::Composer;
pub use host::Host;
pub use livechat::Livechat;
pub use session::Session;
pub use transcript::Transcript;

use crate::logic::launch::LaunchParams;

/// A handle components can take from the page's state ([`expect`]).
pub trait Handle: Copy + 'static {
    /// This handle, out of the session that holds every handle.
    fn of(session: &Session) -> Self;
}

impl Handle for Session {
    fn of(session: &Session) -> Self {
        *session
    }
}

impl Handle for Composer {
    fn of(session: &Session) -> Self {
        session.composer
    }
}

impl Handle for Answering {
    fn of(session: &Session) -> Self {
        session.composer.livechat.answering
    }
}

impl Handle for Livechat {
    fn of(session: &Session) -> Self {
        session.composer.livechat
    }
}

impl Handle for Transcript {
    fn of(session: &Session) -> Self {
        session.transcript()
    }
}

impl Handle for Host {
    fn of(session: &Session) -> Self {
        session.host()
    }
}

/// Count one more on `counter` (a signal that says "it happened again": the log grew, focus
/// the composer). One function for every such counter.
#[inline(never)]
pub(crate) fn bump(counter: RwSignal<u64>) {
    counter.update(|n| *n += 1);
}

/// Make the page's state for the chat the loader launched with `params`, and provide it to the
/// components below the current owner.
pub fn provide(params: LaunchParams) -> Session {
    let session = Session::new(params);
    provide_context(session);
    session
}

/// The handle `H` of the page's state (as `expect_context`: panics outside the app).
#[inline(never)]
pub fn expect<H: Handle>() -> H {
    H::of(&session())
}

/// The one context lookup, shared by every [`expect`] (not inlined into each).
#[inline(never)]
fn session() -> Session {
    expect_context::<Session>()
}

/// The handle `H` of the page's state, if there is one (a view drawn outside the app).
pub fn try_expect<H: Handle>() -> Option<H> {
    use_context::<Session>().map(|s| H::of(&s))
}
