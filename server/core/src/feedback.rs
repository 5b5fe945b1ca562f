//! Per-answer feedback (issue 27): the visitor's "helpful" / "not helpful" on one assistant
//! answer, one vote per answer (a second replaces the first), in history and the agent's
//! context, in the `answer.feedback.submitted` webhook; and after the first "not helpful", the
//! next step the chatbot has, stored as a new assistant message.

use std::collections::HashMap;

use dgbot_protocol::api::{
    AnswerFeedback, AnswerFeedbackRequest, AnswerFeedbackResponse, FeedbackValue,
};
use dgbot_protocol::{Message, Role};
use serde_json::json;

use crate::model::{WebhookEvent, ids};
use crate::responder::grounded;
use crate::{ConversationKey, Core, CoreError, validation};

impl Core {
    /// `POST /api/v1/chat/messages/{message_id}/feedback`. A message that is not in this
    /// visitor's conversation is `404` (whether it exists elsewhere is not told); one that is
    /// not an assistant answer `422` naming `message_id`. Rate-limited like the visitor's other
    /// writes.
    pub fn answer_feedback(
        &self,
        key: &ConversationKey,
        message_id: &str,
        req: AnswerFeedbackRequest,
    ) -> Result<AnswerFeedbackResponse, CoreError> {
        let (reason, comment) = validation::answer_feedback(&req)?;
        let chatbot = self.chatbot_of(key)?;
        let messages = self.store.messages(key)?;
        let at = messages
            .iter()
            .position(|m| m.message_id == message_id)
            .ok_or_else(|| CoreError::NotFound("No such message".into()))?;
        let answer = &messages[at];
        if answer.role != Role::Assistant {
            return Err(CoreError::invalid(
                "message_id",
                "Only the assistant's answers take feedback",
            ));
        }
        self.rate_limit(key, "feedback")?;
        let question = messages[..at].iter().rev().find(|m| m.role == Role::User);
        let feedback = AnswerFeedback {
            value: req.value,
            reason,
            comment,
            updated_at: self.clock.rfc3339(),
        };
        // The first "not helpful" of an answer offers the next step, once.
        let next = (feedback.value == FeedbackValue::Down).then(|| {
            // The answer's language: its own words, else its question's, else the chatbot's.
            let asked = grounded::language_of(
                &question.map(Message::plain_text).unwrap_or_default(),
                &chatbot.default_language,
            );
            let lang = grounded::language_of_answer(&answer.plain_text(), &asked);
            let live = self
                .livechat_config(&chatbot.id)
                .is_ok_and(|c| c.enabled && c.availability_status == "live");
            let next_id = ids::new_id("msg");
            Message {
                parts: grounded::not_helpful(&next_id, &lang, live),
                message_id: next_id,
                role: Role::Assistant,
                created_at: Some(self.clock.rfc3339()),
                author: None,
                feedback: None,
            }
        });
        let (previous, offered) = self.store.put_answer_feedback(
            key,
            message_id,
            &feedback,
            next.as_ref().map(|m| m.message_id.as_str()),
        )?;
        let next = match next {
            Some(next) if offered => {
                self.store.push(key, &next)?;
                Some(next)
            }
            _ => None,
        };
        self.emit(
            &key.chatbot_id,
            WebhookEvent::AnswerFeedbackSubmitted,
            json!({
                "visitor": self.visitor_json(key),
                "message_id": message_id,
                "value": feedback.value,
                "reason": feedback.reason,
                "comment": feedback.comment,
                "previous_value": previous.map(|p| p.value),
                "updated_at": feedback.updated_at,
                "answer_text": answer.plain_text(),
                "question_text": question.map(Message::plain_text),
                "question_message_id": question.map(|q| q.message_id.clone()),
            }),
        );
        Ok(AnswerFeedbackResponse {
            message_id: message_id.to_owned(),
            feedback,
            next,
        })
    }

    /// `messages` with each answer's feedback as the visitor last gave it (history, the
    /// agent's context).
    pub(crate) fn with_feedback(
        &self,
        key: &ConversationKey,
        messages: &mut [Message],
    ) -> Result<(), CoreError> {
        let mut votes: HashMap<String, AnswerFeedback> = self.store.answer_feedback(key)?;
        if votes.is_empty() {
            return Ok(());
        }
        for m in messages {
            if let Some(f) = votes.remove(&m.message_id) {
                m.feedback = Some(f);
            }
        }
        Ok(())
    }
}
