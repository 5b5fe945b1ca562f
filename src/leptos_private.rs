//! The widget's uses of Leptos' private API, in one place: written against leptos 0.8.23
//! (Cargo.lock). `leptos::__reexports` is `#[doc(hidden)]`: a Leptos update may move or drop
//! it without notice, so check here first when one fails to build.
//!
//! `SendWrapper` (the `send_wrapper` crate, re-exported by Leptos): `Suspend` wants a `Send`
//! future, and the widget's futures (a lazily loaded chunk, `lazy!`) are not; the page has one
//! thread, so wrapping them is sound. Used by `ui::chunk::chunk_view` and `ui::popup`.

pub use leptos::__reexports::send_wrapper::SendWrapper;
