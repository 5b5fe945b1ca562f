//! `rich_text`: paragraphs and bullet lists of spans (text, bold, strike, links), each growing
//! as the answer streams.

use dgbot_protocol::message::SpanKind;
use leptos::prelude::*;

use crate::state::view_model::{BlockVm, SpanVm};

/// The assistant's formatted text: paragraphs and bullet lists of spans, each growing as the
/// answer streams. In its own chunk (`split_text`): a visitor who opens the chat and has not
/// asked anything yet needs none of it.
pub fn rich_text_view(blocks: ArcRwSignal<Vec<BlockVm>>) -> AnyView {
    view! {
        <div class="rich-text" data-part="rich_text">
            <For
                each=move || blocks.get().into_iter().enumerate()
                key=|(i, _)| *i
                children=|(_, block)| block_view(block)
            />
        </div>
    }
    .into_any()
}

pub fn block_view(block: BlockVm) -> AnyView {
    match block {
        BlockVm::Paragraph { spans } => view! { <p>{spans_view(spans)}</p> }.into_any(),
        BlockVm::BulletList { items } => view! {
            <ul>
                <For
                    each=move || items.get().into_iter().enumerate()
                    key=|(i, _)| *i
                    children=|(_, item)| view! { <li>{spans_view(item)}</li> }
                />
            </ul>
        }
        .into_any(),
        BlockVm::Unknown => ().into_any(),
    }
}

fn spans_view(spans: ArcRwSignal<Vec<SpanVm>>) -> impl IntoView {
    view! {
        <For each=move || spans.get().into_iter().enumerate() key=|(i, _)| *i children=|(_, span)| span_view(span) />
    }
}

fn span_view(span: SpanVm) -> AnyView {
    let segments = span.segments.clone();
    let text = move || {
        let segments = segments.clone();
        view! {
            <For
                each=move || segments.get().into_iter().enumerate()
                key=|(i, _)| *i
                children=|(_, segment)| move || segment.get()
            />
        }
    };
    match (span.kind, span.href) {
        (SpanKind::Bold, _) => view! { <strong>{text()}</strong> }.into_any(),
        (SpanKind::Strike, _) => view! { <s>{text()}</s> }.into_any(),
        (SpanKind::Link, Some(href)) => view! {
            <a href=href target="_blank" rel="noopener noreferrer">{text()}</a>
        }
        .into_any(),
        // Plain text, an unknown span type, or a link whose URL is not allowed.
        _ => view! { <span>{text()}</span> }.into_any(),
    }
}
