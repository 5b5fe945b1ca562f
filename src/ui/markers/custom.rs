//! `custom`: a marker for the host page's own code.

use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::message::CustomMarker;
use leptos::prelude::*;

use crate::state::{self, Host};

/// `custom`: forwarded once to the host page with its `key` and `payload`; shows nothing.
pub fn custom_view(marker: CustomMarker) -> AnyView {
    let host = state::expect::<Host>();
    if host.first_sight(&format!("custom:{}", marker.part_id)) {
        host.post(FrameAction::Custom {
            part_id: marker.part_id,
            key: marker.key,
            payload: marker.payload,
        });
    }
    ().into_any()
}
