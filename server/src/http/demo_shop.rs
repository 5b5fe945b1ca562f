//! The demo shop's own backend, as a site owner's server would be behind a custom API action
//! (seed 000): `POST /demo/api/order-status` answers where an order is. The demo chatbot's
//! `order_status` action (server/dgbot.toml) calls it when a visitor asks "Where is my order
//! 1042?".

use axum::Json;
use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};

use crate::SharedState;
use crate::http::error::{ApiJson, Failure};

pub fn routes() -> Router<SharedState> {
    Router::new().route("/demo/api/order-status", post(order_status))
}

#[derive(serde::Deserialize)]
struct Lookup {
    order_number: String,
}

/// Orders 1000–1999 exist, each in a state that follows from its number; any other number is
/// unknown.
async fn order_status(ApiJson(q): ApiJson<Lookup>) -> Result<Json<Value>, Failure> {
    let number = q.order_number.trim();
    let known = number
        .parse::<u32>()
        .ok()
        .filter(|n| (1000..2000).contains(n));
    let (status, detail) = match known.map(|n| n % 3) {
        Some(0) => (
            "being packed",
            "It leaves our warehouse today, and you get a tracking link by email when it does.",
        ),
        Some(1) => (
            "on its way with PostNord",
            "It should reach you within 2 business days.",
        ),
        Some(_) => (
            "delivered",
            "It was delivered to your parcel box. Not there? Ask for a person and we'll sort it out.",
        ),
        None => (
            "not in our system",
            "Please check the number in your order confirmation email.",
        ),
    };
    Ok(Json(json!({
        "order_number": number,
        "status": status,
        "detail": detail,
    })))
}
