//! Polling the visitor's livechat session (seed 002, "Visitor handover flow"): one long poll of
//! its messages, and a fresh link for an attachment whose link expired. `logic::livechat`
//! decides when to poll; `state::livechat` follows the session and makes the other calls.

use dgbot_protocol::Part;
use dgbot_protocol::livechat::LivechatMessages;

use crate::logic::errors::TransportError;
use crate::services::api::Api;

/// One poll of the session's messages after `cursor`: the server holds it up to `wait`
/// seconds. `since`: a change made after the last state read (an agent closing the chat just
/// then) answers at once rather than when the long poll runs out.
pub async fn poll(
    api: &Api,
    cursor: Option<String>,
    wait: u32,
    since: u64,
) -> Result<LivechatMessages, TransportError> {
    let path = match cursor {
        Some(c) => format!(
            "/livechat/messages?wait={wait}&since={since}&after={}",
            js_sys::encode_uri_component(&c)
        ),
        None => format!("/livechat/messages?wait={wait}&since={since}"),
    };
    api.get::<LivechatMessages>(&path).await
}

/// A fresh signed link for attachment `id` (its old one expired): the livechat messages
/// again, where every attachment's link is new.
pub async fn fresh_attachment_url(api: &Api, id: &str) -> Option<String> {
    let all: LivechatMessages = api.get("/livechat/messages").await.ok()?;
    all.messages
        .into_iter()
        .flat_map(|m| m.parts)
        .find_map(|p| match p {
            Part::File(f) if f.attachment_id.as_deref() == Some(id) => f.url,
            Part::Image(i) if i.attachment_id.as_deref() == Some(id) => i.url,
            _ => None,
        })
}
