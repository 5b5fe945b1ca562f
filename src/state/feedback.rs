//! Per-answer feedback: the visitor's vote on one answer (`POST /messages/{id}/feedback`), told
//! to the host page (`answer_feedback`, `chat_answer_feedback`); the next step a "not helpful"
//! vote brings (a person, or a message form) joins the log. Called only from the answer's
//! controls, so its code comes in the `text` chunk with them.

use dgbot_protocol::api::{AnswerFeedbackRequest, AnswerFeedbackResponse, FeedbackValue};
use dgbot_protocol::bridge::FrameAction;
use leptos::prelude::*;

use crate::logic::errors::TransportError;
use crate::state::transcript::Transcript;
use crate::state::view_model::{MessageVm, next_key};

/// Send the vote on the answer `answer_id` (in the log as `key`); on success `shown` and the
/// log's copy of the answer have it.
pub async fn vote(
    transcript: Transcript,
    key: u64,
    shown: RwSignal<Option<FeedbackValue>>,
    answer_id: String,
    value: FeedbackValue,
    reason: Option<String>,
    comment: Option<String>,
) -> Result<(), TransportError> {
    let path = format!(
        "/messages/{}/feedback",
        js_sys::encode_uri_component(&answer_id)
    );
    let body = AnswerFeedbackRequest {
        value,
        reason: reason.clone(),
        comment,
    };
    let res: AnswerFeedbackResponse = transcript.api.post(&path, &body).await?;
    shown.set(Some(res.feedback.value));
    transcript.messages.update_untracked(|m| {
        if let Some(vm) = m.iter_mut().find(|vm| vm.key == key) {
            vm.feedback = Some(res.feedback.value);
        }
    });
    transcript.host.post(FrameAction::AnswerFeedback {
        message_id: answer_id,
        value: value.as_str().into(),
        reason,
    });
    if let Some(next) = res.next {
        let vm = MessageVm::from_message(next_key(), &next);
        transcript.data.update_value(|t| {
            t.push(next);
        });
        transcript.messages.update(|m| m.push(vm));
        transcript.grew();
    }
    Ok(())
}
