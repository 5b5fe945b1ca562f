//! Livechat attachments (seed 002, "Attachments"): `image` and `file` parts arrive as base64,
//! are checked against the chatbot's limit, stored, and go out as the seed's shape with a
//! signed URL that expires (`/api/v1/chat/livechat/attachments/{id}?token=…`). The token is
//! `{expires}.{HMAC-SHA256(secret, "{id}.{expires}")}` in hex. Retention deletes them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dgbot_protocol::message::{FilePart, IMAGE_MIME_TYPES, ImagePart};
use dgbot_protocol::{Message, Part};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::model::AttachmentMeta;
use crate::model::ids;
use crate::{ConversationKey, Core, CoreError};

/// Types a stored file is served as; any other is served as `application/octet-stream`.
const SERVED_TYPES: [&str; 8] = [
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/gif",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/zip",
];

/// How a stored attachment is served: `Content-Type` and whether it may show inline (images
/// only; everything else downloads).
pub fn served_as(mime_type: &str) -> (&'static str, bool) {
    match SERVED_TYPES.iter().find(|t| **t == mime_type) {
        Some(t) => (t, IMAGE_MIME_TYPES.contains(t)),
        None => ("application/octet-stream", false),
    }
}

/// A file name safe for a header and a download: no path, no control or quote characters.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(200)
        .collect();
    // Nothing left, or only dots (`.`, `..`: a place on disk, not a name).
    if cleaned.trim().trim_matches('.').is_empty() {
        "attachment".into()
    } else {
        cleaned.trim().to_owned()
    }
}

impl Core {
    fn sign(&self, id: &str, expires: u64) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.settings.secret).expect("any key length");
        mac.update(format!("{id}.{expires}").as_bytes());
        let sig = ids::hex(&mac.finalize().into_bytes());
        format!("{expires}.{sig}")
    }

    /// The signed URL of attachment `id` and when it expires.
    fn attachment_url(&self, id: &str) -> (String, String) {
        let expires = self.clock.unix() + self.settings.attachment_url_ttl.as_secs();
        (
            format!(
                "{}/api/v1/chat/livechat/attachments/{id}?token={}",
                self.settings.public_base,
                self.sign(id, expires)
            ),
            ids::rfc3339(expires),
        )
    }

    /// Give every stored attachment in `messages` a fresh signed URL.
    pub fn sign_attachments(&self, messages: &mut [Message]) {
        for part in messages.iter_mut().flat_map(|m| m.parts.iter_mut()) {
            let (id, url, expires) = match part {
                Part::Image(ImagePart {
                    attachment_id: Some(id),
                    url,
                    url_expires_at,
                    ..
                })
                | Part::File(FilePart {
                    attachment_id: Some(id),
                    url,
                    url_expires_at,
                    ..
                }) => (id.clone(), url, url_expires_at),
                _ => continue,
            };
            let (u, e) = self.attachment_url(&id);
            *url = Some(u);
            *expires = Some(e);
        }
    }

    /// Store the base64 attachments of livechat `parts` (part `i` at `message.parts.{i}`) for
    /// session `session_id`, replacing their data with the stored fields. Text parts pass;
    /// other part types are refused.
    pub(super) fn store_attachments(
        &self,
        key: &ConversationKey,
        session_id: &str,
        parts: &mut [Part],
    ) -> Result<(), CoreError> {
        let settings = self.livechat_settings(&key.chatbot_id)?;
        let mut decoded = vec![];
        for (i, part) in parts.iter().enumerate() {
            let field = |f: &str| format!("message.parts.{i}.{f}");
            let (data, mime, filename, is_image) = match part {
                Part::Text(_) => continue,
                Part::Image(p) => (&p.data, &p.mime, &p.filename, true),
                Part::File(p) => (&p.data, &p.mime, &p.filename, false),
                other => {
                    return Err(CoreError::invalid(
                        field("type"),
                        format!(
                            "Livechat messages take text, image and file parts, not {}",
                            other.type_name()
                        ),
                    ));
                }
            };
            if !settings.attachments_enabled {
                return Err(CoreError::invalid(
                    field("type"),
                    "Attachments are not enabled for this chat",
                ));
            }
            let mime = mime.as_deref().unwrap_or("").trim().to_ascii_lowercase();
            if mime.is_empty() {
                return Err(CoreError::invalid(field("mime"), "mime is required"));
            }
            if is_image && !IMAGE_MIME_TYPES.contains(&mime.as_str()) {
                return Err(CoreError::invalid(
                    field("mime"),
                    "Images must be PNG, JPEG, WebP or GIF",
                ));
            }
            let bytes = data
                .as_deref()
                .filter(|d| !d.is_empty())
                .and_then(|d| STANDARD.decode(d.trim()).ok())
                .ok_or_else(|| CoreError::invalid(field("data"), "data must be base64"))?;
            if bytes.len() as u64 > settings.max_attachment_size_bytes {
                return Err(CoreError::invalid(
                    field("data"),
                    format!(
                        "Attachments must be at most {} bytes; this one is {}",
                        settings.max_attachment_size_bytes,
                        bytes.len()
                    ),
                ));
            }
            let default_name = if is_image { "image" } else { "file" };
            let filename = clean_filename(filename.as_deref().unwrap_or(default_name));
            decoded.push((i, mime, filename, bytes));
        }
        for (i, mime, filename, bytes) in decoded {
            let meta = AttachmentMeta {
                id: ids::new_id("attachment"),
                key: key.clone(),
                session_id: session_id.to_owned(),
                filename: filename.clone(),
                mime_type: mime.clone(),
                size_bytes: bytes.len() as u64,
                created_at: self.clock.unix(),
            };
            self.store.put_attachment(&meta, &bytes)?;
            parts[i] = match &parts[i] {
                Part::Image(_) => Part::Image(ImagePart {
                    filename: Some(filename),
                    attachment_id: Some(meta.id),
                    mime_type: Some(mime),
                    size_bytes: Some(meta.size_bytes),
                    ..Default::default()
                }),
                _ => Part::File(FilePart {
                    filename: Some(filename),
                    attachment_id: Some(meta.id),
                    mime_type: Some(mime),
                    size_bytes: Some(meta.size_bytes),
                    ..Default::default()
                }),
            };
        }
        Ok(())
    }

    /// The bytes of attachment `id` for a signed-URL `token`. An expired link is `403`; a
    /// deleted attachment, or one past the chatbot's retention, is `404`.
    pub fn attachment(
        &self,
        id: &str,
        token: &str,
    ) -> Result<(AttachmentMeta, Vec<u8>), CoreError> {
        let (expires, _) = token
            .split_once('.')
            .ok_or_else(|| CoreError::Forbidden("Invalid attachment link".into()))?;
        let expires: u64 = expires
            .parse()
            .map_err(|_| CoreError::Forbidden("Invalid attachment link".into()))?;
        let expected = self.sign(id, expires);
        if !constant_time_eq(expected.as_bytes(), token.as_bytes()) {
            return Err(CoreError::Forbidden("Invalid attachment link".into()));
        }
        if expires <= self.clock.unix() {
            return Err(CoreError::Forbidden(
                "This attachment link has expired; fetch the message again for a fresh link".into(),
            ));
        }
        let gone = || CoreError::NotFound("This attachment was deleted".into());
        let (meta, bytes) = self.store.attachment(id)?.ok_or_else(gone)?;
        let retention = self
            .livechat_settings(&meta.key.chatbot_id)?
            .attachment_retention_days;
        if meta.created_at + u64::from(retention) * 86_400 <= self.clock.unix() {
            self.purge_attachments()?;
            return Err(gone());
        }
        Ok((meta, bytes))
    }

    /// Delete attachments past their chatbot's retention; returns how many.
    pub fn purge_attachments(&self) -> Result<usize, CoreError> {
        let mut n = 0;
        for bot in &self.chatbots {
            let days = self.livechat_settings(&bot.id)?.attachment_retention_days;
            let before = self.clock.unix().saturating_sub(u64::from(days) * 86_400);
            n += self.store.purge_attachments(&bot.id, before)?;
        }
        Ok(n)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_served_safely() {
        assert_eq!(served_as("image/png"), ("image/png", true));
        assert_eq!(served_as("application/pdf"), ("application/pdf", false));
        assert_eq!(served_as("text/html"), ("application/octet-stream", false));
        assert_eq!(
            served_as("image/svg+xml"),
            ("application/octet-stream", false)
        );
        assert_eq!(clean_filename("../../etc/pass\"wd"), "passwd");
        assert_eq!(clean_filename("C:\\x\\invoice.pdf"), "invoice.pdf");
        assert_eq!(clean_filename("  "), "attachment");
        assert_eq!(clean_filename(".."), "attachment");
        assert_eq!(clean_filename("a/ . "), "attachment");
        assert_eq!(clean_filename(".htaccess"), ".htaccess");
    }
}
