//! One renderer per part type, chosen by an exhaustive match, with a quiet fallback for parts
//! this widget does not know. Server text reaches the DOM only as text nodes and attributes
//! set by Leptos; links are allow-listed before they get here (`SpanVm::href`).

use dgbot_protocol::Role;
use dgbot_protocol::message::SpanKind;
use leptos::prelude::*;

use crate::view_model::{BlockVm, Delivery, MessageVm, PartVm, SpanVm};

fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::System => "system",
        Role::Agent => "agent",
    }
}

/// A message bubble; `footer` renders its delivery state (unsent, incomplete) and actions.
pub fn message_view(m: MessageVm, footer: impl Fn(MessageVm) -> AnyView) -> impl IntoView {
    let role = role_name(m.role);
    let parts = m.parts.clone();
    let delivery = m.delivery.clone();
    let streaming = move || delivery.get() == Delivery::Pending && m.role == Role::Assistant;
    view! {
        <div class=format!("msg {role}") data-testid="message" data-role=role>
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
        crate::view_model::PartBody::RichText { blocks } => view! {
            <div class="rich-text" data-part="rich_text">
                <For
                    each=move || blocks.get().into_iter().enumerate()
                    key=|(i, _)| *i
                    children=|(_, block)| block_view(block)
                />
            </div>
        }
        .into_any(),
        crate::view_model::PartBody::Text(text) => view! { <p class="text" data-part="text">{text}</p> }.into_any(),
        crate::view_model::PartBody::Unknown => {
            view! { <p class="unsupported" data-part="unknown">"This content can't be shown here."</p> }.into_any()
        }
    }
}

fn block_view(block: BlockVm) -> AnyView {
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
