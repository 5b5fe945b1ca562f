//! `products`: product cards (picture, title, price in the chatbot's language, description);
//! cards stream in.

use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::message::{Product, is_safe_link};
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::state::{self, Host, Session};

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

pub fn products_view(products: ArcRwSignal<Vec<Product>>) -> AnyView {
    let (session, host) = (state::expect::<Session>(), state::expect::<Host>());
    view! {
        <ul class="products" data-part="products">
            <For
                each=move || products.get().into_iter().enumerate()
                key=|(i, _)| *i
                children=move |(_, product)| product_card(session, host, product)
            />
        </ul>
    }
    .into_any()
}

/// A product card. A click reports `productClick`; inside a host page it asks the host to
/// `navigate` there (seed 002), otherwise the link opens in a new tab.
fn product_card(session: Session, host: Host, product: Product) -> impl IntoView {
    let web = |u: &String| {
        let lower = u.to_ascii_lowercase();
        (lower.starts_with("https://") || lower.starts_with("http://")) && is_safe_link(u)
    };
    let href = Some(product.url.clone()).filter(web);
    let image = product.image_url.clone().filter(web);
    let price = product
        .price
        .map(|p| format_price(p, product.currency.as_deref(), &session.language()));
    let url = href.clone();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        host.post(FrameAction::ProductClick);
        if let (Some(url), true) = (url.clone(), host.bridge().origin().is_some()) {
            ev.prevent_default();
            host.post(FrameAction::Navigate { url });
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
