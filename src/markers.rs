//! Marker parts: assistant parts that ask the visitor for something (seed 002, "How markers
//! and actions work together"). Forms submit to `/actions` with the marker's `part_id`; an
//! image upload goes out with the next message; `custom` is forwarded to the host page.

use std::collections::BTreeMap;

use dgbot_protocol::Part;
use dgbot_protocol::api::{Action, ActionRequest, ApiError, Attachment, FieldError};
use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::forms::{check_attachments_in, check_fields_in};
use dgbot_protocol::message::{
    AttachmentRules, CustomMarker, FieldKind, FormField, HumanAgentMarker, IMAGE_MIME_TYPES,
    ImagePart, ImageUploadMarker,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};

use crate::chat::Chat;
use crate::i18n::{t, t_with};
use crate::livechat_view::offline_note;
use crate::transport::TransportError;

pub fn marker_view(part: Part) -> AnyView {
    match part {
        Part::ShowContactForm(m) => view! { <MarkerForm part_id=m.part_id fields=m.fields attachments=None /> }.into_any(),
        Part::ShowSupportTicket(m) => {
            view! { <MarkerForm part_id=m.part_id fields=m.fields attachments=Some(m.attachments) /> }.into_any()
        }
        Part::RequestImageUpload(m) => view! { <ImageUpload marker=m /> }.into_any(),
        Part::RequestHumanAgent(m) => view! { <HumanAgent marker=m /> }.into_any(),
        Part::Custom(m) => custom_view(m),
        _ => ().into_any(),
    }
}

/// Field errors by field key (`""` for the form as a whole, `"attachments"` for files).
type Errors = BTreeMap<String, String>;

fn errors_by_key(errors: &[FieldError]) -> Errors {
    let mut out = Errors::new();
    for e in errors {
        let key = match e.field.strip_prefix("action.fields.") {
            Some(k) => k.to_owned(),
            None if e.field.starts_with("action.attachments") => "attachments".to_owned(),
            None => String::new(),
        };
        out.entry(key).or_insert_with(|| e.message.clone());
    }
    out
}

fn api_errors(error: &ApiError) -> Errors {
    match &error.error.params {
        Some(params) if !params.is_empty() => errors_by_key(params),
        _ => [(String::new(), error.error.message.clone())].into(),
    }
}

#[derive(Clone, PartialEq)]
enum FormState {
    Editing,
    Sending,
    Sent(String),
}

/// Read a picked file as base64 (via `FileReader.readAsDataURL`).
pub(crate) async fn read_base64(file: &File) -> Result<String, String> {
    let reader =
        web_sys::FileReader::new().map_err(|_| t("This browser cannot read files.").to_owned())?;
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        reader.set_onload(Some(&resolve));
        reader.set_onerror(Some(&reject));
    });
    reader
        .read_as_data_url(file)
        .map_err(|_| t("The file could not be read.").to_owned())?;
    wasm_bindgen_futures::JsFuture::from(done)
        .await
        .map_err(|_| t("The file could not be read.").to_owned())?;
    let url = reader
        .result()
        .ok()
        .and_then(|r| r.as_string())
        .ok_or_else(|| t("The file could not be read.").to_owned())?;
    url.split_once(',')
        .map(|(_, data)| data.to_owned())
        .ok_or_else(|| t("The file could not be read.").into())
}

pub(crate) fn picked_files(ev: &leptos::ev::Event) -> Vec<File> {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
    else {
        return vec![];
    };
    let picked = match input.files() {
        Some(files) => (0..files.length()).filter_map(|i| files.get(i)).collect(),
        None => vec![],
    };
    input.set_value(""); // so picking the same file again fires `change` again
    picked
}

/// A contact form, or a support ticket when `attachments` is given.
#[component]
fn MarkerForm(
    part_id: String,
    fields: Vec<FormField>,
    attachments: Option<AttachmentRules>,
) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let is_ticket = attachments.is_some();
    if !is_ticket && chat.first_sight(&format!("form:{part_id}")) {
        chat.post(FrameAction::ContactFormShown);
    }
    let values = RwSignal::new(BTreeMap::<String, String>::new());
    let errors = RwSignal::new(Errors::new());
    let files = RwSignal::new(Vec::<Attachment>::new());
    let state = RwSignal::new(FormState::Editing);
    let spec = StoredValue::new((fields.clone(), attachments.clone()));
    let id = StoredValue::new(part_id.clone());

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if state.get_untracked() == FormState::Sending {
            return;
        }
        let (fields, rules) = spec.get_value();
        let entered: BTreeMap<String, String> = values
            .get_untracked()
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        let mut problems = check_fields_in(&fields, &entered, &|s| t(s).into());
        if let Some(rules) = &rules {
            problems.extend(check_attachments_in(rules, &files.get_untracked(), &|s| t(s).into()));
        }
        if !problems.is_empty() {
            errors.set(errors_by_key(&problems));
            return;
        }
        errors.set(Errors::new());
        state.set(FormState::Sending);
        let action = match rules {
            Some(_) => Action::SupportTicket {
                fields: entered,
                attachments: files.get_untracked(),
            },
            None => Action::ContactForm { fields: entered },
        };
        let req = ActionRequest {
            part_id: id.get_value(),
            action,
        };
        spawn_local(async move {
            match chat.submit_action(req).await {
                Ok(res) => state.set(FormState::Sent(res.message)),
                Err(e) => {
                    // Nothing typed is lost: the form stays filled in, with the server's reasons.
                    errors.set(match &e {
                        TransportError::Api { error, .. } => api_errors(error),
                        other => [(String::new(), other.message())].into(),
                    });
                    state.set(FormState::Editing);
                }
            }
        });
    };

    let kind = if is_ticket {
        "show_support_ticket"
    } else {
        "show_contact_form"
    };
    let field_views = fields
        .into_iter()
        .map(|f| field_view(part_id.clone(), f, values, errors))
        .collect_view();
    let attachment_view =
        attachments.map(|rules| attachments_view(part_id.clone(), rules, files, errors));
    let sent = move || match state.get() {
        FormState::Sent(message) => Some(message),
        _ => None,
    };
    view! {
        <div class="marker form-card" data-part=kind>
            // The form stays mounted (hidden once sent), so nothing typed is ever re-rendered away.
            <form novalidate on:submit=on_submit data-testid="marker-form" hidden=move || sent().is_some()>
                {field_views}
                {attachment_view}
                <p class="field-error" role="alert">{move || errors.with(|e| e.get("").cloned())}</p>
                <button class="button primary" type="submit" data-testid="form-submit" prop:disabled=move || state.get() == FormState::Sending>
                    {move || match (state.get(), is_ticket) {
                        (FormState::Sending, _) => t("Sending…"),
                        (_, true) => t("Create ticket"),
                        (_, false) => t("Send"),
                    }}
                </button>
            </form>
            <p class="form-success" role="status" data-testid="form-success" hidden=move || sent().is_none()>{sent}</p>
        </div>
    }
}

fn field_view(
    part_id: String,
    field: FormField,
    values: RwSignal<BTreeMap<String, String>>,
    errors: RwSignal<Errors>,
) -> impl IntoView {
    let id = format!("{part_id}-{}", field.key);
    let error_id = format!("{id}-error");
    let key = StoredValue::new(field.key.clone());
    let error = move || errors.with(|e| e.get(&key.get_value()).cloned());
    let invalid = move || error().is_some().to_string();
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        values.update(|v| {
            v.insert(key.get_value(), value);
        });
        errors.update(|e| {
            e.remove(&key.get_value());
        });
    };
    let input = match field.kind {
        FieldKind::Textarea => view! {
            <textarea id=id.clone() name=field.key.clone() rows="3" required=field.required
                aria-invalid=invalid aria-describedby=error_id.clone() on:input=on_input></textarea>
        }
        .into_any(),
        kind => {
            let (kind, autocomplete) = match kind {
                FieldKind::Email => ("email", "email"),
                FieldKind::Tel => ("tel", "tel"),
                _ if field.key == "name" => ("text", "name"),
                _ => ("text", "off"),
            };
            view! {
                <input id=id.clone() name=field.key.clone() type=kind autocomplete=autocomplete required=field.required
                    aria-invalid=invalid aria-describedby=error_id.clone() on:input=on_input />
            }
            .into_any()
        }
    };
    view! {
        <div class="field">
            <label for=id>{field.label}{field.required.then(|| view! { <span class="required" aria-hidden="true">" *"</span> })}</label>
            {input}
            <p class="field-error" id=error_id>{error}</p>
        </div>
    }
}

fn attachments_view(
    part_id: String,
    rules: AttachmentRules,
    files: RwSignal<Vec<Attachment>>,
    errors: RwSignal<Errors>,
) -> impl IntoView {
    if rules.max_files == 0 {
        return ().into_any();
    }
    let id = format!("{part_id}-attachments");
    let accept = rules.accepted_types.join(",");
    let hint = t_with(
        "Up to {} files, {} MB each.",
        &[&rules.max_files.to_string(), &(rules.max_size_bytes / 1_048_576).to_string()],
    );
    let on_change = move |ev: leptos::ev::Event| {
        let picked = picked_files(&ev);
        spawn_local(async move {
            for file in picked {
                match read_base64(&file).await {
                    Ok(data) => files.update(|f| {
                        f.push(Attachment {
                            filename: file.name(),
                            mime: file.type_(),
                            data,
                        })
                    }),
                    Err(message) => errors.update(|e| {
                        e.insert("attachments".into(), message);
                    }),
                }
            }
            errors.update(|e| {
                e.remove("attachments");
            });
        });
    };
    view! {
        <div class="field">
            <label for=id.clone()>{t("Attachments")}</label>
            <input id=id type="file" multiple accept=accept on:change=on_change data-testid="attachments" />
            <p class="hint">{hint}</p>
            <ul class="files">
                <For
                    each=move || files.get().into_iter().enumerate()
                    key=|(i, a)| (*i, a.filename.clone())
                    children=move |(i, a)| view! {
                        <li>
                            {a.filename.clone()}
                            <button type="button" class="link-button" aria-label=t_with("Remove {}", &[&a.filename])
                                on:click=move |_| files.update(|f| { if i < f.len() { f.remove(i); } })>{t("Remove")}</button>
                        </li>
                    }
                />
            </ul>
            <p class="field-error" role="alert">{move || errors.with(|e| e.get("attachments").cloned())}</p>
        </div>
    }
    .into_any()
}

/// Ask for a photo meeting the marker's constraints; it rides along with the next message.
#[component]
fn ImageUpload(marker: ImageUploadMarker) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let error = RwSignal::new(None::<String>);
    let constraints = StoredValue::new(marker.constraints.clone());
    let accepted: Vec<String> = marker
        .constraints
        .accepted_types
        .iter()
        .filter(|t| IMAGE_MIME_TYPES.contains(&t.as_str()))
        .cloned()
        .collect();
    let accept = if accepted.is_empty() {
        "image/png,image/jpeg,image/webp".to_owned()
    } else {
        accepted.join(",")
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Some(file) = picked_files(&ev).into_iter().next() else {
            return;
        };
        let c = constraints.get_value();
        let mime = file.type_();
        let allowed = IMAGE_MIME_TYPES.contains(&mime.as_str())
            && (c.accepted_types.is_empty() || c.accepted_types.contains(&mime));
        if !allowed {
            error.set(Some(t("Please choose a JPEG, PNG or WebP photo.").into()));
            return;
        }
        if file.size() as u64 > c.max_size_bytes {
            error.set(Some(t_with(
                "That photo is larger than {} MB.",
                &[&(c.max_size_bytes / 1_048_576).to_string()],
            )));
            return;
        }
        error.set(None);
        spawn_local(async move {
            match read_base64(&file).await {
                Ok(data) => {
                    chat.pending_image.set(Some(ImagePart {
                        data: Some(data),
                        mime: Some(mime),
                        filename: Some(file.name()),
                        ..Default::default()
                    }));
                    chat.composer_focus.update(|n| *n += 1);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let prompt = marker.prompt.unwrap_or_else(|| t("Add a photo").into());
    view! {
        <div class="marker upload" data-part="request_image_upload">
            <p class="marker-title">{prompt}</p>
            <div class="upload-buttons">
                <label class="button secondary">
                    {t("Choose a photo")}
                    <input class="visually-hidden" type="file" accept=accept.clone() on:change=on_change data-testid="image-input" />
                </label>
                <label class="button secondary">
                    {t("Take a photo")}
                    <input class="visually-hidden" type="file" accept=accept capture="environment" on:change=on_change />
                </label>
            </div>
            <p class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}

/// Offer a hand-over to a person, when livechat is live (seed 002: show the hand-over UI only
/// when `livechat.enabled`; start it only when `availability_status` is `live`); otherwise say
/// why no one can come, in words.
#[component]
fn HumanAgent(marker: HumanAgentMarker) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let live = move || {
        chat.config
            .with(|c| c.as_ref().is_some_and(|c| c.livechat.is_live()))
    };
    let status = RwSignal::new(None::<String>);
    let part_id = StoredValue::new(marker.part_id.clone());
    let request = move |_| {
        status.set(Some(t("Connecting you with a person…").into()));
        spawn_local(async move {
            let result = chat
                .request_person("marker", Some(part_id.get_value()))
                .await;
            status.set(Some(match result {
                Ok(()) => t("You're in the queue. A person will join this chat shortly.").into(),
                Err(e) => t_with("We couldn't reach a person: {}", &[&e]),
            }));
        });
    };
    view! {
        <div class="marker agent" data-part="request_human_agent">
            <Show
                when=live
                fallback=move || view! { <p class="marker-note" data-testid="agent-offline">{offline_note(chat)}</p> }
            >
                <button class="button primary" type="button" data-testid="handover" on:click=request prop:disabled=move || status.get().is_some()>
                    {t("Talk to a person")}
                </button>
                <p class="marker-note" role="status">{move || status.get()}</p>
            </Show>
        </div>
    }
}

/// `custom`: forwarded once to the host page with its `key` and `payload`; shows nothing.
fn custom_view(marker: CustomMarker) -> AnyView {
    let chat = expect_context::<Chat>();
    if chat.first_sight(&format!("custom:{}", marker.part_id)) {
        chat.post(FrameAction::Custom {
            part_id: marker.part_id,
            key: marker.key,
            payload: marker.payload,
        });
    }
    ().into_any()
}
