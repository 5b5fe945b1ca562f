//! Checks on what visitors and agents send, with the seed's field paths
//! (`message.parts.0.text`), shared by every adapter.

use dgbot_protocol::Part;
use dgbot_protocol::api::{
    AnswerFeedbackRequest, FEEDBACK_REASONS, FeedbackValue, IdentifyRequest,
};
use dgbot_protocol::forms::decoded_len;
use dgbot_protocol::message::{IMAGE_MIME_TYPES, ImagePart};

use crate::CoreError;

/// Longest visitor message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Largest image a visitor may send in a message, decoded.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// Longest rating feedback or livechat comment accepted, in characters.
pub const MAX_FEEDBACK_CHARS: usize = 2000;
/// Longest comment on an answer's "not helpful" vote, in characters.
pub const MAX_ANSWER_COMMENT_CHARS: usize = 1000;
/// Longest `user_id`, `name`, `email` or `user_hash` accepted, in characters.
pub const MAX_IDENTITY_CHARS: usize = 256;

fn check_image(i: usize, image: &ImagePart) -> Result<(), CoreError> {
    let field = |f: &str| format!("message.parts.{i}.{f}");
    let mime = image.mime.as_deref().unwrap_or("");
    if !IMAGE_MIME_TYPES.contains(&mime) {
        return Err(CoreError::invalid(
            field("mime"),
            "Images must be PNG, JPEG, WebP or GIF",
        ));
    }
    let data = image.data.as_deref().unwrap_or("");
    if data.is_empty() || image.safe_src().is_none() {
        return Err(CoreError::invalid(
            field("data"),
            "Image data must be base64",
        ));
    }
    if decoded_len(data) > MAX_IMAGE_BYTES as u64 {
        return Err(CoreError::invalid(
            field("data"),
            "Images must be at most 5 MB",
        ));
    }
    Ok(())
}

/// The text of a message to the assistant: the `text` parts joined, and whether it carries an
/// image. 422 with a field path when there is neither text nor an image, when the text is too
/// long, or when an image is not acceptable.
pub fn visitor_text(parts: &[Part]) -> Result<(String, bool), CoreError> {
    let mut text = String::new();
    let mut first_text_part = None;
    let mut images = 0;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Text(t) => {
                first_text_part.get_or_insert(i);
                text.push_str(&t.text);
            }
            Part::Image(image) => {
                check_image(i, image)?;
                images += 1;
            }
            _ => {}
        }
    }
    let field = format!("message.parts.{}.text", first_text_part.unwrap_or(0));
    if text.trim().is_empty() && images == 0 {
        return Err(CoreError::invalid(field, "Text is required"));
    }
    check_length(&field, &text, MAX_MESSAGE_CHARS)?;
    Ok((text, images > 0))
}

/// At most `max` characters.
pub fn check_length(field: &str, value: &str, max: usize) -> Result<(), CoreError> {
    if value.chars().count() > max {
        return Err(CoreError::invalid(
            field,
            format!("At most {max} characters"),
        ));
    }
    Ok(())
}

/// A 1–5 rating with optional free text (trimmed; empty is none).
pub fn rating(rating: u8, field: &str, text: Option<String>) -> Result<Option<String>, CoreError> {
    if !(1..=5).contains(&rating) {
        return Err(CoreError::invalid("rating", "Choose a rating from 1 to 5"));
    }
    let text = text.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty());
    if let Some(t) = &text {
        check_length(field, t, MAX_FEEDBACK_CHARS)?;
    }
    Ok(text)
}

/// A vote on an answer: `reason` one of [`FEEDBACK_REASONS`] and `comment` (trimmed, empty
/// is none) at most [`MAX_ANSWER_COMMENT_CHARS`], both only with `down`. Returns the reason
/// and the comment as kept.
pub fn answer_feedback(
    req: &AnswerFeedbackRequest,
) -> Result<(Option<String>, Option<String>), CoreError> {
    let comment = req
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if req.value == FeedbackValue::Up {
        if req.reason.is_some() {
            return Err(CoreError::invalid(
                "reason",
                "A reason goes only with a \"down\" vote",
            ));
        }
        if comment.is_some() {
            return Err(CoreError::invalid(
                "comment",
                "A comment goes only with a \"down\" vote",
            ));
        }
    }
    if let Some(r) = &req.reason
        && !FEEDBACK_REASONS.contains(&r.as_str())
    {
        return Err(CoreError::invalid(
            "reason",
            format!("Use one of {}", FEEDBACK_REASONS.join(", ")),
        ));
    }
    if let Some(c) = comment {
        check_length("comment", c, MAX_ANSWER_COMMENT_CHARS)?;
    }
    Ok((req.reason.clone(), comment.map(str::to_owned)))
}

/// `identify(user)`: `user_id` required, every field bounded, `email` an address.
pub fn identity(user: &IdentifyRequest) -> Result<(), CoreError> {
    if user.user_id.trim().is_empty() {
        return Err(CoreError::invalid("user_id", "user_id is required"));
    }
    for (field, value) in [
        ("user_id", Some(user.user_id.as_str())),
        ("name", user.name.as_deref()),
        ("email", user.email.as_deref()),
        ("user_hash", user.user_hash.as_deref()),
    ] {
        if let Some(v) = value {
            check_length(field, v, MAX_IDENTITY_CHARS)?;
        }
    }
    if user
        .email
        .as_deref()
        .is_some_and(|e| !dgbot_protocol::forms::is_email(e))
    {
        return Err(CoreError::invalid("email", "Enter a valid email address"));
    }
    Ok(())
}

/// A client-generated message id (`Idempotency-Key`): 1–100 of `[A-Za-z0-9_-]`.
pub fn client_id(id: Option<&str>) -> Result<(), CoreError> {
    match id {
        Some(id)
            if id.is_empty()
                || id.len() > 100
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
        {
            Err(CoreError::invalid(
                "Idempotency-Key",
                "Use 1 to 100 letters, digits, '-' and '_'",
            ))
        }
        _ => Ok(()),
    }
}
