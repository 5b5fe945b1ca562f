//! `file`: a livechat attachment, as a link that downloads it.

use dgbot_protocol::message::FilePart;
use leptos::prelude::*;

use crate::logic::i18n::t;
use crate::services::livechat::fresh_attachment_url;
use crate::state::{self, Transcript};

/// A livechat attachment: its name, as a link that downloads it. The link is signed and
/// expires (seed 002: "refetch the message when you need a fresh URL"): a click on an expired
/// one asks the server for the message again and follows the fresh link.
pub fn file_view(file: FilePart) -> AnyView {
    let name = file
        .filename
        .clone()
        .unwrap_or_else(|| t("Attachment").into());
    let Some(url) = file.safe_url().map(str::to_owned) else {
        return view! { <p class="file" data-part="file">{name}</p> }.into_any();
    };
    let expires = file
        .url_expires_at
        .as_deref()
        .map(js_sys::Date::parse)
        .filter(|t| t.is_finite());
    let (id, transcript) = (
        file.attachment_id.clone(),
        state::try_expect::<Transcript>(),
    );
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let expired = expires.is_some_and(|t| t <= js_sys::Date::now());
        if let (true, Some(id), Some(transcript)) = (expired, id.clone(), transcript) {
            ev.prevent_default();
            leptos::task::spawn_local(async move {
                if let Some(fresh) = fresh_attachment_url(&transcript.api, &id).await {
                    let _ = window().open_with_url_and_target(&fresh, "_blank");
                }
            });
        }
    };
    view! {
        <p class="file" data-part="file">
            <a href=url download=name.clone() target="_blank" rel="noopener noreferrer" on:click=on_click>{name.clone()}</a>
        </p>
    }
    .into_any()
}
