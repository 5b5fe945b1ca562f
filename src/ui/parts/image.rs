//! `image`: a picture from an allow-listed source, loaded lazily, with its alt text.

use dgbot_protocol::message::ImagePart;
use leptos::prelude::*;

use crate::logic::i18n::t;

/// Images load lazily, with their alt text; only allow-listed sources get an `<img>`.
pub fn image_view(image: ImagePart) -> AnyView {
    let Some(src) = image.safe_src() else {
        return view! { <p class="unsupported" data-part="image">{t("This image can't be shown.")}</p> }
            .into_any();
    };
    let alt = image
        .alt
        .clone()
        .or_else(|| image.filename.clone())
        .unwrap_or_default();
    view! {
        <figure class="image" data-part="image">
            <img
                src=src
                alt=alt
                loading="lazy"
                decoding="async"
                width=image.width.map(|w| w.to_string())
                height=image.height.map(|h| h.to_string())
            />
            {image.caption.map(|c| view! { <figcaption>{c}</figcaption> })}
        </figure>
    }
    .into_any()
}
