//! `request_image_upload`: the visitor picks or takes a photo; it rides along with their next
//! message.

use dgbot_protocol::message::{IMAGE_MIME_TYPES, ImagePart, ImageUploadMarker};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::logic::i18n::{t, t_with};
use crate::services::files::{picked_files, read_base64};
use crate::state::{self, Composer};

/// Ask for a photo meeting the marker's constraints; it rides along with the next message.
#[component]
pub fn ImageUpload(marker: ImageUploadMarker) -> impl IntoView {
    let composer = state::expect::<Composer>();
    let error = RwSignal::new(None::<String>);
    let constraints = StoredValue::new(marker.constraints.clone());
    let accepted: Vec<String> = marker
        .constraints
        .accepted_types
        .iter()
        .filter(|t| IMAGE_MIME_TYPES.contains(&t.as_str()))
        .cloned()
        .collect();
    let accept = if accepted.is_empty() {
        "image/png,image/jpeg,image/webp".to_owned()
    } else {
        accepted.join(",")
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Some(file) = picked_files(&ev).into_iter().next() else {
            return;
        };
        let c = constraints.get_value();
        let mime = file.type_();
        let allowed = IMAGE_MIME_TYPES.contains(&mime.as_str())
            && (c.accepted_types.is_empty() || c.accepted_types.contains(&mime));
        if !allowed {
            error.set(Some(t("Please choose a JPEG, PNG or WebP photo.").into()));
            return;
        }
        if file.size() as u64 > c.max_size_bytes {
            error.set(Some(t_with(
                "That photo is larger than {} MB.",
                &[&(c.max_size_bytes / 1_048_576).to_string()],
            )));
            return;
        }
        error.set(None);
        spawn_local(async move {
            match read_base64(&file).await {
                Ok(data) => {
                    composer.pending_image.set(Some(ImagePart {
                        data: Some(data),
                        mime: Some(mime),
                        filename: Some(file.name()),
                        ..Default::default()
                    }));
                    composer.focus();
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let prompt = marker.prompt.unwrap_or_else(|| t("Add a photo").into());
    view! {
        <div class="marker upload" data-part="request_image_upload">
            <p class="marker-title">{prompt}</p>
            <div class="upload-buttons">
                <label class="button secondary">
                    {t("Choose a photo")}
                    <input class="visually-hidden" type="file" accept=accept.clone() on:change=on_change data-testid="image-input" />
                </label>
                <label class="button secondary">
                    {t("Take a photo")}
                    <input class="visually-hidden" type="file" accept=accept capture="environment" on:change=on_change />
                </label>
            </div>
            <p class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}
