//! `show_contact_form` and `show_support_ticket`: a form the visitor fills in (a ticket with
//! files too), checked here as the server checks it, submitted to `/actions`. Nothing typed is
//! lost: a refused form stays filled in, with the server's reasons.

use std::collections::BTreeMap;

use dgbot_protocol::api::{Action, ActionRequest, ApiError, Attachment, FieldError};
use dgbot_protocol::bridge::FrameAction;
use dgbot_protocol::forms::{check_attachments_in, check_fields_in};
use dgbot_protocol::message::{AttachmentRules, FieldKind, FormField};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::logic::errors::TransportError;
use crate::logic::i18n::{t, t_with};
use crate::services::files::{picked_files, read_base64};
use crate::state::{self, Host, Session};

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

/// A contact form, or a support ticket when `attachments` is given.
#[component]
pub fn MarkerForm(
    part_id: String,
    fields: Vec<FormField>,
    attachments: Option<AttachmentRules>,
) -> impl IntoView {
    let (session, host) = (state::expect::<Session>(), state::expect::<Host>());
    let is_ticket = attachments.is_some();
    if !is_ticket && host.first_sight(&format!("form:{part_id}")) {
        host.post(FrameAction::ContactFormShown);
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
            problems.extend(check_attachments_in(rules, &files.get_untracked(), &|s| {
                t(s).into()
            }));
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
            match session.submit_action(req).await {
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
        &[
            &rules.max_files.to_string(),
            &(rules.max_size_bytes / 1_048_576).to_string(),
        ],
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
