//! Marker parts: assistant parts that ask the visitor for something (seed 002, "How markers
//! and actions work together"). Forms submit to `/actions` with the marker's `part_id`; an
//! image upload goes out with the next message; `custom` is forwarded to the host page. They
//! come in the `markers` chunk (`ui::parts`).

pub mod custom;
pub mod form;
pub mod human_agent;
pub mod image_upload;

use dgbot_protocol::Part;
use leptos::prelude::*;

use custom::custom_view;
use form::MarkerForm;
use human_agent::HumanAgent;
use image_upload::ImageUpload;

pub fn marker_view(part: Part) -> AnyView {
    match part {
        Part::ShowContactForm(m) => view! { <MarkerForm part_id=m.part_id fields=m.fields attachments=None /> }.into_any(),
        Part::ShowSupportTicket(m) => {
            view! { <MarkerForm part_id=m.part_id fields=m.fields attachments=Some(m.attachments) /> }.into_any()
        }
        Part::RequestImageUpload(m) => view! { <ImageUpload marker=m /> }.into_any(),
        Part::RequestHumanAgent(m) => view! { <HumanAgent marker=m /> }.into_any(),
        Part::Custom(m) => custom_view(m),
        _ => ().into_any(),
    }
}
