//! One renderer per part type, chosen by an exhaustive match, with a quiet fallback for parts
//! this widget does not know. Server text reaches the DOM only as text nodes and attributes
//! set by Leptos; links are allow-listed before they get here (`SpanVm::href`).
//!
//! The renderers of the parts most answers never have come in lazily loaded chunks (`lazy!`):
//! rich text and an answer's sources in `split_text`, tables, products and attachments in `split_parts`, the markers
//! (`ui::markers`) in `split_markers`.

pub mod file;
pub mod image;
pub mod products;
pub mod rich_text;
pub mod sources;
pub mod table;

use dgbot_protocol::Role;
use dgbot_protocol::message::{FilePart, Product, Source, TableCell};
use leptos::prelude::*;

use crate::logic::i18n::t;
use crate::state::view_model::{BlockVm, Delivery, MessageVm, PartBody, PartVm};
use crate::ui::chunk::{ChunkFuture, chunk_view};
use crate::ui::markers::marker_view;
use file::file_view;
use image::image_view;
use products::products_view;
use rich_text::rich_text_view;
use sources::sources_view;
use table::table_view;

fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::System => "system",
        Role::Agent => "agent",
    }
}

/// A message bubble; `footer` renders its delivery state (unsent, incomplete), and once it is
/// delivered its time, its day's header and its controls (`ui::answer_actions`).
pub fn message_view(m: MessageVm, footer: impl Fn(MessageVm) -> AnyView) -> impl IntoView {
    let role = role_name(m.role);
    let parts = m.parts.clone();
    let delivery = m.delivery.clone();
    let streaming = move || delivery.get() == Delivery::Pending && m.role == Role::Assistant;
    view! {
        <div class=format!("msg {role}") data-testid="message" data-role=role>
            {m.author.clone().map(|name| view! { <p class="author" data-testid="author">{name}</p> })}
            <div class="bubble" class:streaming=streaming>
                <For
                    each=move || parts.get().into_iter().enumerate()
                    key=|(i, p)| (*i, p.key)
                    children=|(_, part)| part_view(part)
                />
            </div>
            {footer(m.clone())}
        </div>
    }
}

fn part_view(part: PartVm) -> AnyView {
    match part.body {
        PartBody::RichText { blocks } => later(move || Box::pin(rich_text_chunk(blocks.clone()))),
        PartBody::Text(text) => view! { <p class="text" data-part="text">{text}</p> }.into_any(),
        PartBody::Image(image) => image_view(image),
        PartBody::File(file) => later(move || Box::pin(file_chunk(file.clone()))),
        PartBody::Table { caption, columns, rows } => later(move || {
            Box::pin(table_chunk(caption.clone(), columns.clone(), rows.clone()))
        }),
        PartBody::Products { products } => later(move || Box::pin(products_chunk(products.clone()))),
        PartBody::Sources(sources) => later(move || Box::pin(sources_chunk(sources.clone()))),
        // Drawn after the answer with its controls (`ui::answer_actions`), not in the bubble.
        PartBody::Suggestions(_) => ().into_any(),
        PartBody::Marker(marker) => later(move || Box::pin(marker_chunk(marker.clone()))),
        PartBody::Unknown => {
            view! { <p class="unsupported" data-part="unknown">{t("This content can't be shown here.")}</p> }.into_any()
        }
    }
}

/// A part drawn by a lazily loaded chunk (`lazy!`): rich text in `split_text` (fetched when the
/// visitor starts typing, or at start-up for a returning visitor), tables, products and attachments in
/// `split_parts`, the marker forms in `split_markers` (most conversations need neither).
fn later(load: impl Fn() -> ChunkFuture + 'static) -> AnyView {
    chunk_view(Box::new(load)).into_any()
}

crate::lazy! { text:
    fn rich_text_chunk(blocks: ArcRwSignal<Vec<BlockVm>>) -> AnyView { rich_text_view(blocks) }
}

crate::lazy! { text:
    fn sources_chunk(sources: Vec<Source>) -> AnyView { sources_view(sources) }
}

crate::lazy! { parts:
    fn file_chunk(file: FilePart) -> AnyView { file_view(file) }
}

crate::lazy! { parts:
    fn table_chunk(
        caption: Option<String>,
        columns: Vec<TableCell>,
        rows: ArcRwSignal<Vec<Vec<TableCell>>>,
    ) -> AnyView {
        table_view(caption, columns, rows)
    }
}

crate::lazy! { parts:
    fn products_chunk(products: ArcRwSignal<Vec<Product>>) -> AnyView { products_view(products) }
}

crate::lazy! { markers:
    fn marker_chunk(part: dgbot_protocol::Part) -> AnyView { marker_view(part) }
}
