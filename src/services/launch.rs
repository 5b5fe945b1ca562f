//! The launch parameters of this page, read from its address.

use leptos::prelude::window;

use crate::logic::launch::LaunchParams;

/// What the loader put in this frame's URL, decoded by the browser's `decodeURIComponent`.
pub fn launch_params() -> LaunchParams {
    LaunchParams::from_query(&window().location().search().unwrap_or_default(), |v| {
        js_sys::decode_uri_component(v)
            .ok()
            .and_then(|s| s.as_string())
    })
}
