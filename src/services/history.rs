//! The conversation's history (`GET /api/v1/chat/messages`), a page at a time.

use dgbot_protocol::api::HistoryPage;

use crate::logic::errors::TransportError;
use crate::services::api::Api;

/// Messages per page of history: the log renders what it has, so it stays short until the
/// visitor scrolls back (1,000 messages open as fast as 50: BENCHMARKS.md).
const HISTORY_PAGE: usize = 50;

/// `GET /messages`: the latest page of history, or the page before message `before`.
fn history_path(before: Option<&str>) -> String {
    match before {
        Some(id) => format!(
            "/messages?limit={HISTORY_PAGE}&before={}",
            js_sys::encode_uri_component(id)
        ),
        None => format!("/messages?limit={HISTORY_PAGE}"),
    }
}

/// The latest page of the visitor's conversation, or the page before message `before`.
pub async fn page(api: &Api, before: Option<&str>) -> Result<HistoryPage, TransportError> {
    api.get::<HistoryPage>(&history_path(before)).await
}
