//! The composer as the page's state: what the visitor is about to send beside their text (a
//! photo for the assistant, a file for the agent), and sending it: to the assistant, or to the
//! person in the chat while livechat is `active`. Unsent messages are sent again from here, and
//! a cut-off answer's question is asked again.

use dgbot_protocol::api::ChatConfig;
use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::message::{FilePart, IMAGE_MIME_TYPES, ImagePart};
use dgbot_protocol::{Part, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::logic::i18n::t_with;
use crate::logic::livechat::Route;
use crate::services::files::{picked_files, read_base64};
use crate::state::host::Host;
use crate::state::livechat::Livechat;
use crate::state::transcript::Transcript;
use crate::state::view_model::{Delivery, MessageVm, next_key};

/// A fresh id for a visitor message (its `Idempotency-Key`).
fn new_client_id() -> String {
    let r = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
    format!("c_{:08x}{:08x}{:08x}", r(), r(), js_sys::Date::now() as u32)
}

#[derive(Clone, Copy)]
pub struct Composer {
    /// Bumped to move focus to the composer.
    pub focus: RwSignal<u64>,
    /// What the visitor is writing (a starter or follow-up chip, dictation and "edit" fill it).
    pub draft: RwSignal<String>,
    /// "Edit": the id of the answer that the next message replaces, with the question it
    /// answered (the visitor's message before it).
    pub editing: RwSignal<Option<String>>,
    /// An image the visitor picked for a `request_image_upload`; sent with the next message.
    pub pending_image: RwSignal<Option<ImagePart>>,
    /// A file for the agent, sent with the next livechat message.
    pub pending_attachment: RwSignal<Option<Part>>,
    pub attach_error: RwSignal<Option<String>>,
    /// The chatbot's configuration (the session's): the largest file the agent takes.
    config: RwSignal<Option<ChatConfig>>,
    pub livechat: Livechat,
}

impl Composer {
    pub fn new(config: RwSignal<Option<ChatConfig>>, livechat: Livechat) -> Self {
        Composer {
            focus: RwSignal::new(0),
            draft: RwSignal::new(String::new()),
            editing: RwSignal::new(None),
            pending_image: RwSignal::new(None),
            pending_attachment: RwSignal::new(None),
            attach_error: RwSignal::new(None),
            config,
            livechat,
        }
    }

    fn transcript(&self) -> Transcript {
        self.livechat.answering.transcript
    }

    fn host(&self) -> Host {
        self.livechat.answering.transcript.host
    }

    /// Move focus to the composer.
    pub fn focus(&self) {
        crate::state::bump(self.focus);
    }

    /// Send the visitor's text, with the picked image if any. Ignored while an answer streams
    /// (the composer keeps the text).
    /// While a person is in the chat (livechat `active`) the message goes to them instead,
    /// with the file picked for them if any.
    pub fn send(self, text: String) -> bool {
        let text = text.trim().to_owned();
        let to_agent = self.livechat.route() == Route::Livechat;
        let attachment = if to_agent {
            self.pending_attachment.get_untracked()
        } else {
            self.pending_image.get_untracked().map(Part::Image)
        };
        if (text.is_empty() && attachment.is_none())
            || self.livechat.answering.streaming.get_untracked()
        {
            return false;
        }
        let mut parts = vec![];
        if !text.is_empty() {
            parts.push(Part::text(&text));
        }
        if let Some(attachment) = attachment {
            parts.push(attachment);
            self.pending_image.set(None);
            self.pending_attachment.set(None);
        }
        let mut user = MessageVm::new(next_key(), Role::User, &parts, Delivery::Pending)
            .with_client_id(new_client_id());
        user.created_at = Some(crate::services::now());
        // "Edit": the new question replaces the answer and the question it answered, which
        // leave the log (the `text` chunk, which offered the edit, does it).
        user.replaces = if to_agent {
            None
        } else {
            self.editing.get_untracked()
        };
        self.editing.set(None);
        let first = !self
            .transcript()
            .messages
            .with_untracked(|m| m.iter().any(|vm| vm.role == Role::User));
        self.transcript().messages.update(|m| m.push(user.clone()));
        self.transcript().grew();
        self.host().post(FrameAction::UserMessageSubmitted);
        self.host().post(FrameAction::Message { text });
        if first {
            self.host().post(FrameAction::FirstMessageSent {
                chatbot_id: self.host().chatbot_id(),
            });
        }
        if to_agent {
            self.livechat.send_to_agent(user, parts);
        } else {
            self.livechat.answering.ask(user, parts);
        }
        true
    }

    /// Send an unsent message again.
    pub fn resend(self, user: MessageVm) {
        if self.livechat.answering.streaming.get_untracked() {
            return;
        }
        user.delivery.set(Delivery::Pending);
        let parts = user.sent_parts();
        if self.livechat.route() == Route::Livechat {
            self.livechat.send_to_agent(user, parts);
        } else {
            self.livechat.answering.ask(user, parts);
        }
    }

    /// Ask the question behind a cut-off answer again: the same message (same client id, so
    /// the server keeps it once), answered anew below the partial answer.
    pub fn retry(self, reply: MessageVm) {
        if self.livechat.answering.streaming.get_untracked() {
            return;
        }
        let Some(prompt) = reply.prompt.clone() else {
            return;
        };
        reply.delivery.set(Delivery::Done); // the retry offer is used up; the partial stays
        let asked = self.transcript().messages.with_untracked(|m| {
            m.iter()
                .find(|vm| {
                    vm.role == Role::User
                        && vm.client_id.is_some()
                        && vm.client_id == reply.client_id
                })
                .cloned()
        });
        let user = match asked {
            Some(user) => user,
            None => {
                let mut user = MessageVm::new(
                    next_key(),
                    Role::User,
                    &[Part::text(&prompt)],
                    Delivery::Pending,
                );
                user.client_id = reply.client_id.clone();
                self.transcript().messages.update(|m| m.push(user.clone()));
                user
            }
        };
        let parts = user.sent_parts();
        self.livechat.answering.ask(user, parts);
    }

    /// "Ask again": the answer's question goes out anew (a new `Idempotency-Key`, `replaces`
    /// naming the answer) and a new answer takes the old one's place (the old pair leaves the
    /// log when it goes out, `Transcript::forget_replaced`).
    pub fn ask_again(self, question: MessageVm, answer: MessageVm) {
        if self.livechat.answering.streaming.get_untracked() || answer.message_id.is_none() {
            return;
        }
        let mut user = question.clone();
        user.key = next_key();
        user.client_id = Some(new_client_id());
        user.replaces = answer.message_id.clone();
        let parts = user.sent_parts();
        user.delivery.set(Delivery::Pending);
        self.transcript().messages.update(|m| m.push(user.clone()));
        self.transcript().grew();
        self.livechat.answering.ask(user, parts);
    }

    /// "Edit": the question goes into the composer; sending it replaces the question and answer.
    pub fn edit(self, question: MessageVm, answer: MessageVm) {
        self.draft.set(question.text());
        self.editing.set(answer.message_id);
        self.focus();
    }

    /// A file the visitor picked for the agent: checked against the chat's limit, read, and
    /// kept for the next message (an `image` part for pictures, a `file` part otherwise).
    pub fn attach(self, ev: leptos::ev::Event) {
        let Some(file) = picked_files(&ev).into_iter().next() else {
            return;
        };
        let max = self.config.with_untracked(|c| {
            c.as_ref()
                .map_or(0, |c| c.livechat.max_attachment_size_bytes)
        });
        if file.size() as u64 > max {
            self.attach_error.set(Some(t_with(
                "{} is larger than {} MB",
                &[&file.name(), &(max / 1_048_576).to_string()],
            )));
            return;
        }
        self.attach_error.set(None);
        spawn_local(async move {
            match read_base64(&file).await {
                Ok(data) => {
                    let (mime, filename) = (file.type_(), file.name());
                    let part = if IMAGE_MIME_TYPES.contains(&mime.as_str()) {
                        Part::Image(ImagePart {
                            data: Some(data),
                            mime: Some(mime),
                            filename: Some(filename),
                            ..Default::default()
                        })
                    } else {
                        Part::File(FilePart {
                            data: Some(data),
                            mime: Some(if mime.is_empty() {
                                "application/octet-stream".into()
                            } else {
                                mime
                            }),
                            filename: Some(filename),
                            ..Default::default()
                        })
                    };
                    self.pending_attachment.set(Some(part));
                    self.focus();
                }
                Err(message) => self.attach_error.set(Some(message)),
            }
        });
    }
}
