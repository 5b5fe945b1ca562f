//! One renderer per part type, chosen by an exhaustive match, with a quiet fallback for parts
//! this widget does not know. Server text reaches the DOM only as text nodes and attributes
//! set by Leptos; links are allow-listed before they get here (`SpanVm::href`).

use dgbot_protocol::Role;
use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::message::{FilePart, ImagePart, Product, SpanKind, TableCell, is_safe_link};
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::app::{ChunkFuture, chunk_view};
use crate::chat::Chat;
use crate::i18n::t;
use crate::markers::marker_view;
use crate::view_model::{BlockVm, Delivery, MessageVm, PartBody, PartVm, SpanVm};

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
    /// Fetches the `text` chunk (asking, streaming and drawing the answer) ahead of need: when
    /// the visitor starts typing, and at start-up for a returning visitor.
    pub fn preload_text() -> () {}
}

crate::lazy! { parts:
    fn file_chunk(file: FilePart) -> AnyView { file_view(file) }
}

/// The assistant's formatted text: paragraphs and bullet lists of spans, each growing as the
/// answer streams. In its own chunk (`split_text`): a visitor who opens the chat and has not
/// asked anything yet needs none of it.
fn rich_text_view(blocks: ArcRwSignal<Vec<BlockVm>>) -> AnyView {
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

/// Images load lazily, with their alt text; only allow-listed sources get an `<img>`.
fn image_view(image: ImagePart) -> AnyView {
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

/// A livechat attachment: its name, as a link that downloads it. The link is signed and
/// expires (seed 002: "refetch the message when you need a fresh URL"): a click on an expired
/// one asks the server for the message again and follows the fresh link.
fn file_view(file: FilePart) -> AnyView {
    let name = file.filename.clone().unwrap_or_else(|| t("Attachment").into());
    let Some(url) = file.safe_url().map(str::to_owned) else {
        return view! { <p class="file" data-part="file">{name}</p> }.into_any();
    };
    let expires = file
        .url_expires_at
        .as_deref()
        .map(|t| js_sys::Date::parse(t))
        .filter(|t| t.is_finite());
    let (id, chat) = (file.attachment_id.clone(), use_context::<Chat>());
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let expired = expires.is_some_and(|t| t <= js_sys::Date::now());
        if let (true, Some(id), Some(chat)) = (expired, id.clone(), chat) {
            ev.prevent_default();
            leptos::task::spawn_local(async move {
                if let Some(fresh) = chat.fresh_attachment_url(&id).await {
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

fn cell_view(cell: TableCell) -> impl IntoView {
    cell.blocks
        .iter()
        .map(|b| block_view(BlockVm::new(b)))
        .collect_view()
}

/// Tables scroll sideways inside their own region on narrow screens; rows stream in.
fn table_view(
    caption: Option<String>,
    columns: Vec<TableCell>,
    rows: ArcRwSignal<Vec<Vec<TableCell>>>,
) -> AnyView {
    let label = caption.clone().unwrap_or_else(|| t("Table").into());
    let head = (!columns.is_empty()).then(|| {
        view! { <thead><tr>{columns.into_iter().map(|c| view! { <th scope="col">{cell_view(c)}</th> }).collect_view()}</tr></thead> }
    });
    view! {
        <div class="table-wrap" role="region" aria-label=label tabindex="0" data-part="table">
            <table>
                {caption.map(|c| view! { <caption>{c}</caption> })}
                {head}
                <tbody>
                    <For
                        each=move || rows.get().into_iter().enumerate()
                        key=|(i, _)| *i
                        children=|(_, row)| view! { <tr>{row.into_iter().map(|c| view! { <td>{cell_view(c)}</td> }).collect_view()}</tr> }
                    />
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// `1299.0` in `DKK` for `da` → `1.299,00 kr.`, with the browser's `Intl.NumberFormat` (which
/// also keeps Rust's float formatting out of the bundle). An invalid currency code is shown
/// after the number; an invalid language falls back to English.
pub fn format_price(amount: f64, currency: Option<&str>, language: &str) -> String {
    let code = currency.filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()));
    let valid_language = (2..=16).contains(&language.len())
        && language
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'-');
    let options = js_sys::Object::new();
    match code {
        Some(code) => {
            let _ = js_sys::Reflect::set(&options, &"style".into(), &"currency".into());
            let _ = js_sys::Reflect::set(&options, &"currency".into(), &code.into());
        }
        None => {
            let _ = js_sys::Reflect::set(&options, &"minimumFractionDigits".into(), &2.into());
            let _ = js_sys::Reflect::set(&options, &"maximumFractionDigits".into(), &2.into());
        }
    }
    let locale = if valid_language { language } else { "en" };
    let format =
        js_sys::Intl::NumberFormat::new(&js_sys::Array::of1(&locale.into()), &options).format();
    let number = format
        .call1(&JsValue::NULL, &amount.into())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    match (code, currency) {
        (None, Some(other)) => format!("{number} {other}"),
        _ => number,
    }
}

fn products_view(products: ArcRwSignal<Vec<Product>>) -> AnyView {
    let chat = expect_context::<Chat>();
    view! {
        <ul class="products" data-part="products">
            <For
                each=move || products.get().into_iter().enumerate()
                key=|(i, _)| *i
                children=move |(_, product)| product_card(chat, product)
            />
        </ul>
    }
    .into_any()
}

/// A product card. A click reports `productClick`; inside a host page it asks the host to
/// `navigate` there (seed 002), otherwise the link opens in a new tab.
fn product_card(chat: Chat, product: Product) -> impl IntoView {
    let web = |u: &String| {
        let lower = u.to_ascii_lowercase();
        (lower.starts_with("https://") || lower.starts_with("http://")) && is_safe_link(u)
    };
    let href = Some(product.url.clone()).filter(web);
    let image = product.image_url.clone().filter(web);
    let price = product
        .price
        .map(|p| format_price(p, product.currency.as_deref(), &chat.language()));
    let url = href.clone();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        chat.post(FrameAction::ProductClick);
        if let (Some(url), true) = (url.clone(), chat.bridge().origin().is_some()) {
            ev.prevent_default();
            chat.post(FrameAction::Navigate { url });
        }
    };
    view! {
        <li class="product">
            <a href=href target="_blank" rel="noopener noreferrer" data-testid="product" on:click=on_click>
                {image.map(|src| view! { <img src=src alt="" loading="lazy" decoding="async" /> })}
                <span class="product-body">
                    <span class="product-title">{product.title}</span>
                    {price.map(|p| view! { <span class="product-price">{p}</span> })}
                    {product.description.map(|d| view! { <span class="product-description">{d}</span> })}
                </span>
            </a>
        </li>
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
