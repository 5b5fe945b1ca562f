//! A visitor's conversation with the assistant (seed 002, "Chatbot API Flow"; "History,
//! feedback, and deletion"): post a message and stream the answer, history, marker actions,
//! rating, identify, classification, delete. Every adapter calls these.

use std::sync::Arc;
use std::time::Duration;

use dgbot_protocol::api::{
    Action, ActionRequest, ActionResponse, ClassificationResponse, DeleteResponse, HistoryPage,
    IdentifyRequest, IdentifyResponse, RateRequest, RateResponse,
};
use dgbot_protocol::forms::{check_attachments, check_fields};
use dgbot_protocol::livechat::LivechatStatus;
use dgbot_protocol::transcript::Transcript;
use dgbot_protocol::{Message, Part, Role, StreamEvent};
use tokio::sync::mpsc;

use crate::hub::ConversationEvent;
use crate::model::ids;
use crate::model::{Rating, Submission};
use crate::responder::{AnswerItem, Question, answer_of};
use crate::{ConversationKey, Core, CoreError, validation};

/// How long [`Core::classification`] waits for a pending classification.
pub const CLASSIFICATION_WAIT: Duration = Duration::from_secs(10);

/// A classification being made: the topic arrives on the channel (`Some(None)`: it failed).
type Pending = tokio::sync::watch::Receiver<Option<Option<String>>>;

/// Classifications not yet kept, by answer id, with the visitor they belong to.
#[derive(Default)]
pub struct Classifying(
    std::sync::Mutex<std::collections::HashMap<String, (ConversationKey, Pending)>>,
);

impl Classifying {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, (ConversationKey, Pending)>>
    {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start one after answer `message_id`: send its topic on the sender (dropping it unsent
    /// means it failed).
    fn expect(
        &self,
        key: &ConversationKey,
        message_id: &str,
    ) -> tokio::sync::watch::Sender<Option<Option<String>>> {
        let (tx, rx) = tokio::sync::watch::channel(None);
        self.lock().insert(message_id.to_owned(), (key.clone(), rx));
        tx
    }

    fn done(&self, message_id: &str) {
        self.lock().remove(message_id);
    }

    /// The one under way after `message_id` of this visitor, if any.
    fn pending(&self, key: &ConversationKey, message_id: &str) -> Option<Option<Pending>> {
        let all = self.lock();
        let (owner, rx) = all.get(message_id)?;
        Some((owner == key).then(|| rx.clone()))
    }

    fn forget_visitor(&self, key: &ConversationKey) {
        self.lock().retain(|_, (owner, _)| owner != key);
    }
}

impl Core {
    /// Seed 002's `429 rate_limited`, per visitor and endpoint, by the chatbot's `rate_limit`.
    pub fn rate_limit(&self, key: &ConversationKey, what: &'static str) -> Result<(), CoreError> {
        let limit = self.chatbot_of(key)?.rate_limit;
        self.count_request(key, what, limit)
            .map_err(CoreError::RateLimited)
    }

    /// Post the visitor's message to the assistant. The message is stored before this returns
    /// (a database failure is an error before any stream, and the client keeps the message to
    /// resend); the answer's items then arrive on the receiver. While a livechat session is
    /// `active`, visitor input belongs to the agent: `409 conflict` naming the livechat endpoint.
    ///
    /// `client_id` (the `Idempotency-Key`) makes a retry safe: a message the visitor already
    /// sent with it is not stored again; if its answer was stored too, that answer is streamed
    /// again as it was, otherwise a new one is made.
    pub fn post_message(
        self: &Arc<Self>,
        key: &ConversationKey,
        parts: Vec<Part>,
        client_id: Option<&str>,
    ) -> Result<mpsc::Receiver<AnswerItem>, CoreError> {
        self.post_message_from(key, parts, client_id, None)
    }

    /// [`Self::post_message`], saying which page the visitor asks from (seed 002's
    /// `context.page`; a custom API action may send it).
    pub fn post_message_from(
        self: &Arc<Self>,
        key: &ConversationKey,
        parts: Vec<Part>,
        client_id: Option<&str>,
        page: Option<&str>,
    ) -> Result<mpsc::Receiver<AnswerItem>, CoreError> {
        self.post_message_replacing(key, parts, client_id, page, None)
    }

    /// [`Self::post_message_from`] that first replaces the conversation's last answer,
    /// `replaces` ("ask again", "edit and resend"): that answer, everything after it and the
    /// question it answered are deleted (with their feedback), then the message is stored and
    /// answered as any other. `404` when `replaces` is not a message of this conversation,
    /// `409` when it is not the last answer. A retry of a message already stored (its
    /// `Idempotency-Key`) replaces nothing again: it is a retry as usual.
    pub fn post_message_replacing(
        self: &Arc<Self>,
        key: &ConversationKey,
        parts: Vec<Part>,
        client_id: Option<&str>,
        page: Option<&str>,
        replaces: Option<&str>,
    ) -> Result<mpsc::Receiver<AnswerItem>, CoreError> {
        validation::client_id(client_id)?;
        let (text, has_image) = validation::visitor_text(&parts)?;
        let chatbot = self.chatbot_of(key)?;
        let livechat = self.store.latest_session(key)?;
        if livechat
            .as_ref()
            .is_some_and(|s| s.status == LivechatStatus::Active)
        {
            return Err(CoreError::Conflict(
                "A person is handling this conversation: send messages to POST /api/v1/chat/livechat/messages".into(),
            ));
        }
        let sent_before = match client_id {
            Some(id) => self.store.by_client_id(key, id)?,
            None => None,
        };
        if let Some((_, Some(reply))) = &sent_before
            && reply.role == Role::Assistant
        {
            // Answered and stored already: the same answer again, stored once.
            let mut replay = answer_of(&reply.message_id, reply.parts.clone());
            replay.store = false;
            return Ok(self.stream(key, &reply.message_id, replay, None));
        }
        let question_message = Message {
            message_id: ids::new_id("msg"),
            role: Role::User,
            parts,
            created_at: None,
            author: None,
            feedback: None,
        };
        // What a replacing message deletes (not again on a retry of it).
        let replaced_from = match (&sent_before, replaces) {
            (None, Some(answer_id)) => Some(self.replaced_from(key, answer_id)?),
            _ => None,
        };
        let stored = sent_before.is_none() && {
            self.rate_limit(key, "messages")?;
            if let Some(from) = &replaced_from {
                self.store.delete_from(key, from)?;
            }
            self.store
                .push_in(key, None, client_id, &question_message)?
        };
        if stored && let Some(s) = livechat.filter(|s| s.status == LivechatStatus::Waiting) {
            // The agent side hears what the visitor asks while waiting.
            self.emit_message(
                &s,
                crate::model::WebhookEvent::WaitingCustomerMessage,
                &question_message,
            );
            self.hub
                .publish(key, ConversationEvent::VisitorMessage(question_message));
        }

        let reply_id = ids::new_id("msg");
        // Answer from the knowledge as the store has it now: a source that just synced, here
        // or on another instance, is in the answer (one indexed read when nothing changed).
        if let Err(e) = self.refresh_knowledge(&chatbot.id) {
            tracing::warn!(
                "knowledge of {}: {e}; answering from the last one",
                chatbot.id
            );
        }
        let knowledge = self.knowledge_of(&chatbot.id)?;
        let question = Question {
            key,
            chatbot,
            knowledge: &knowledge,
            text: &text,
            has_image,
            reply_id: &reply_id,
            public_base: &self.settings.public_base,
            page,
            core: self,
        };
        let answer = self
            .responders
            .iter()
            .find_map(|r| r.respond(&question))
            .ok_or_else(|| CoreError::NotFound("No responder answers this chatbot".into()))?;

        let topic = answer
            .store
            .then(|| self.classifying.expect(key, &reply_id));
        Ok(self.stream(key, &reply_id, answer, topic))
    }

    /// Where replacing the conversation's last answer `answer_id` deletes from: the question
    /// it answered (everything from there on goes: the answer, and after it at most assistant
    /// messages, such as the next step offered after a "not helpful" vote).
    fn replaced_from(&self, key: &ConversationKey, answer_id: &str) -> Result<String, CoreError> {
        let messages = self.store.messages(key)?;
        let at = messages
            .iter()
            .position(|m| m.message_id == answer_id)
            .ok_or_else(|| CoreError::NotFound("No such message to replace".into()))?;
        if messages[at].role != Role::Assistant {
            return Err(CoreError::Conflict(
                "Only an answer of the assistant can be replaced".into(),
            ));
        }
        if messages[at + 1..].iter().any(|m| m.role != Role::Assistant) {
            return Err(CoreError::Conflict(
                "Only the conversation's last answer can be replaced".into(),
            ));
        }
        // From the question it answered (a partial answer between them goes too), else from
        // the answer itself.
        let from = messages[..at]
            .iter()
            .rposition(|m| m.role == Role::User)
            .unwrap_or(at);
        Ok(messages[from].message_id.clone())
    }

    /// Send `answer`'s items, paced, to the returned receiver (and the conversation's hub);
    /// once all are delivered, store its reply and classify the conversation. An answer that
    /// ends in seed 002's `error` is stored as far as it got (what the visitor saw, rebuilt from
    /// its deltas), marked partial so that a retry of the question gets a new answer.
    fn stream(
        self: &Arc<Self>,
        key: &ConversationKey,
        message_id: &str,
        answer: crate::responder::Answer,
        topic: Option<tokio::sync::watch::Sender<Option<Option<String>>>>,
    ) -> mpsc::Receiver<AnswerItem> {
        let (tx, rx) = mpsc::channel::<AnswerItem>(16);
        let core = self.clone();
        let key = key.clone();
        let message_id = message_id.to_owned();
        // Those attached to the conversation learn the answer's id before its first event
        // (seed 001's `stream_start {message_id}`).
        self.hub.publish(
            &key,
            ConversationEvent::AnswerStarted {
                message_id: message_id.clone(),
            },
        );
        let started = std::time::Instant::now();
        tokio::spawn(async move {
            let mut first = true;
            let crate::responder::Answer {
                mut items,
                store,
                paced,
            } = answer;
            let delay = if paced {
                core.settings.stream_delay
            } else {
                Duration::ZERO
            };
            let mut reply = None;
            // What the visitor has seen of an answer to store: kept if the answer fails.
            let mut seen = store.then(|| {
                let mut t = Transcript::new();
                t.begin_draft();
                t
            });
            let mut partial = false;
            // Pace the answer like a model would, word by word: a pause after each part event
            // that something follows.
            let mut owe_pause = false;
            while let Some(item) = items.next().await {
                if std::mem::take(&mut owe_pause) && !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                owe_pause = match &item {
                    AnswerItem::Event(ev) => {
                        if core.hub.is_watched(&key) {
                            core.hub
                                .publish(&key, ConversationEvent::Answer(ev.clone()));
                        }
                        match ev {
                            StreamEvent::Done(done) => reply = Some(done.message.clone()),
                            StreamEvent::PartDelta(_) | StreamEvent::Part(_) => {
                                if let Some(t) = &mut seen {
                                    let _ = t.apply(ev);
                                }
                            }
                            StreamEvent::Error(_) => {
                                // Seed 002: no `done` follows. Keep what was said.
                                reply = seen.as_mut().and_then(|t| {
                                    let kept = t.end_draft(message_id.as_str())?;
                                    t.messages().get(kept).cloned()
                                });
                                partial = true;
                            }
                            StreamEvent::Status(_) => {}
                        }
                        matches!(ev, StreamEvent::PartDelta(_) | StreamEvent::Part(_))
                    }
                    AnswerItem::Tool(tool) => {
                        core.hub
                            .publish(&key, ConversationEvent::Tool(tool.clone()));
                        false
                    }
                    AnswerItem::Raw { .. } => true,
                    AnswerItem::Drop => {
                        // Let what was sent reach the client first, as on a real connection.
                        tokio::time::sleep(Duration::from_millis(150)).await;
                        let _ = tx.send(item).await;
                        return;
                    }
                };
                if std::mem::take(&mut first) {
                    metrics::histogram!("dgbot_time_to_first_event_seconds")
                        .record(started.elapsed().as_secs_f64());
                }
                if tx.send(item).await.is_err() {
                    return; // the visitor went away; the reply was not delivered, so not stored
                }
            }
            metrics::counter!("dgbot_answers_streamed_total").increment(1);
            let (Some(reply), Some(topic), true) = (reply, topic, store) else {
                return;
            };
            let kept = match partial {
                true => core.store.push_partial(&key, &reply),
                false => core.store.push(&key, &reply),
            };
            if let Err(e) = kept {
                tracing::warn!("answer {} not stored: {e}", reply.message_id);
            }
            if let Ok(Some(s)) = core.store.latest_session(&key)
                && s.status == LivechatStatus::Waiting
            {
                core.emit_message(
                    &s,
                    crate::model::WebhookEvent::WaitingAssistantMessage,
                    &reply,
                );
            }
            for part in &reply.parts {
                if let Part::RequestHumanAgent(m) = part {
                    core.hub.publish(
                        &key,
                        ConversationEvent::HandoffOffered {
                            part_id: m.part_id.clone(),
                        },
                    );
                }
            }
            // Seed 002: the conversation is classified a few seconds after each response.
            tokio::time::sleep(core.settings.classify_delay).await;
            let label = match core.store.messages(&key) {
                Ok(messages) => Some(crate::classify::classify(&messages)),
                Err(e) => {
                    tracing::warn!("classification of {} failed: {e}", reply.message_id);
                    None
                }
            };
            if let Err(e) = core.store.classified(&key, &reply.message_id, label) {
                tracing::warn!("classification of {} not stored: {e}", reply.message_id);
            }
            core.classifying.done(&reply.message_id);
            let _ = topic.send(Some(label.map(str::to_owned)));
        });
        rx
    }

    /// The visitor's whole conversation, oldest first, as kept (attachments unsigned).
    pub fn transcript(&self, key: &ConversationKey) -> Result<Vec<Message>, CoreError> {
        Ok(self.store.messages(key)?)
    }

    /// The visitor's message sent with `client_id`, as kept.
    pub fn sent_message(
        &self,
        key: &ConversationKey,
        client_id: &str,
    ) -> Result<Option<Message>, CoreError> {
        Ok(self
            .store
            .by_client_id(key, client_id)?
            .map(|(sent, _)| sent))
    }

    /// The marker part with `part_id` in the visitor's conversation, once it is kept.
    pub fn find_part(
        &self,
        key: &ConversationKey,
        part_id: &str,
    ) -> Result<Option<Part>, CoreError> {
        Ok(self.store.find_part(key, part_id)?)
    }

    /// Who the visitor said they are (`identify`), and whether it was verified.
    pub fn identity(
        &self,
        key: &ConversationKey,
    ) -> Result<Option<(dgbot_protocol::api::IdentifyRequest, bool)>, CoreError> {
        Ok(self.store.identity_of(key)?)
    }

    /// A page of the visitor's history (newest page first; oldest message first within a page).
    /// `limit` 1–100; `before` a message id. Stored attachments come with fresh signed URLs.
    pub fn history(
        &self,
        key: &ConversationKey,
        limit: usize,
        before: Option<&str>,
    ) -> Result<HistoryPage, CoreError> {
        if !(1..=100).contains(&limit) {
            return Err(CoreError::invalid(
                "limit",
                "limit must be a number from 1 to 100",
            ));
        }
        let all = self.store.messages(key)?;
        let end = match before {
            Some(id) => all
                .iter()
                .position(|m| m.message_id == id)
                .ok_or_else(|| CoreError::invalid("before", "No such message"))?,
            None => all.len(),
        };
        let start = end.saturating_sub(limit);
        let mut messages = all[start..end].to_vec();
        self.sign_attachments(&mut messages);
        self.with_feedback(key, &mut messages)?;
        Ok(HistoryPage {
            messages,
            has_more: start > 0,
        })
    }

    /// The visitor completed a `show_contact_form` or `show_support_ticket` marker.
    pub fn submit_action(
        &self,
        key: &ConversationKey,
        req: ActionRequest,
    ) -> Result<ActionResponse, CoreError> {
        self.rate_limit(key, "actions")?;
        let marker = self
            .store
            .find_part(key, &req.part_id)?
            .ok_or_else(|| CoreError::NotFound("That form is no longer available".into()))?;
        let mut errors = match (&marker, &req.action) {
            (Part::ShowContactForm(m), Action::ContactForm { fields }) => {
                check_fields(&m.fields, fields)
            }
            (
                Part::ShowSupportTicket(m),
                Action::SupportTicket {
                    fields,
                    attachments,
                },
            ) => {
                let mut errors = check_fields(&m.fields, fields);
                errors.extend(check_attachments(&m.attachments, attachments));
                errors
            }
            _ => {
                return Err(CoreError::invalid(
                    "action.type",
                    format!("Part {} does not take this action", req.part_id),
                ));
            }
        };
        if !errors.is_empty() {
            errors.truncate(20);
            return Err(CoreError::Validation(errors));
        }
        let action_id = ids::new_id("action");
        let message = match req.action {
            Action::ContactForm { .. } => {
                "Thank you! We'll get back to you within one business day."
            }
            Action::SupportTicket { .. } => {
                "Thank you! Your support ticket has been created; we've sent a confirmation by email."
            }
        };
        self.store.submit(&Submission {
            action_id: action_id.clone(),
            chatbot_id: key.chatbot_id.clone(),
            visitor_id: key.visitor_id.clone(),
            part_id: req.part_id,
            action: req.action,
        })?;
        Ok(ActionResponse {
            action_id,
            message: message.into(),
        })
    }

    /// A 1–5 rating of the conversation with optional feedback (the latest counts).
    pub fn rate(&self, key: &ConversationKey, req: RateRequest) -> Result<RateResponse, CoreError> {
        let feedback = validation::rating(req.rating, "feedback", req.feedback)?;
        self.store.rate(&Rating {
            chatbot_id: key.chatbot_id.clone(),
            visitor_id: key.visitor_id.clone(),
            rating: req.rating,
            feedback,
            created_at: self.clock.rfc3339(),
        })?;
        Ok(RateResponse {
            message: "Thank you for your feedback!".into(),
        })
    }

    /// `window.DGbot.identify(user)` (seed 000): keep who the visitor is for the conversation,
    /// verified by `user_hash` or `token` (`core::identity`). When a verified person other
    /// than the conversation's verified owner is identified, their data is not merged: the
    /// identity goes to a new conversation, whose key is returned (the adapter hands the
    /// visitor a token for it).
    pub fn identify(
        &self,
        key: &ConversationKey,
        user: IdentifyRequest,
    ) -> Result<(IdentifyResponse, Option<ConversationKey>), CoreError> {
        let (user, verified) =
            crate::identity::verify(self.chatbot_of(key)?, user, self.clock.unix())?;
        validation::identity(&user)?;
        let user = IdentifyRequest {
            user_id: user.user_id.trim().to_owned(),
            ..user
        };
        let someone_else = verified
            && self
                .store
                .identity_of(key)?
                .is_some_and(|(owner, owner_verified)| {
                    owner_verified && owner.user_id != user.user_id
                });
        let key = match someone_else {
            true => ConversationKey::new(&key.chatbot_id, crate::model::ids::new_visitor_id()),
            false => key.clone(),
        };
        self.store.identify(&key, &user, verified)?;
        Ok((
            IdentifyResponse {
                user_id: user.user_id,
                verified,
                visitor_token: None,
            },
            someone_else.then_some(key),
        ))
    }

    /// The topic of the conversation after answer `message_id` (seed 002
    /// `conversationClassified`). Waits up to [`CLASSIFICATION_WAIT`] while it is being made;
    /// `null` when classification failed or took longer.
    pub async fn classification(
        &self,
        key: &ConversationKey,
        message_id: String,
    ) -> Result<ClassificationResponse, CoreError> {
        let found = match self.classifying.pending(key, &message_id) {
            Some(Some(pending)) => Some(Err(pending)),
            Some(None) => None, // another visitor's answer
            None => self.store.classification(key, &message_id)?.map(Ok),
        }
        .ok_or_else(|| CoreError::NotFound("No answer with this message_id".into()))?;
        let classification = match found {
            Ok(topic) => topic,
            Err(mut pending) => {
                match tokio::time::timeout(CLASSIFICATION_WAIT, pending.wait_for(Option::is_some))
                    .await
                {
                    Ok(Ok(topic)) => topic.clone().flatten(),
                    _ => None, // failed (the answer never finished) or too slow
                }
            }
        };
        Ok(ClassificationResponse {
            message_id,
            classification,
        })
    }

    /// Seed 002: `DELETE /api/v1/chat` removes everything kept about the visitor, livechat
    /// sessions and attachments included; an open livechat session is closed first (by the
    /// system), so an agent attached to it hears that it ended.
    pub fn delete_visitor(&self, key: &ConversationKey) -> Result<DeleteResponse, CoreError> {
        if let Some(s) = self.store.latest_session(key)?
            && matches!(s.status, LivechatStatus::Waiting | LivechatStatus::Active)
        {
            self.close_session(
                &s.id,
                dgbot_protocol::livechat::ClosedBy::System,
                None,
                Some("The visitor deleted their data".into()),
            )?;
        }
        let counts = self.store.delete_visitor(key)?;
        self.classifying.forget_visitor(key);
        self.emit_deleted(key, &counts);
        Ok(counts)
    }
}
