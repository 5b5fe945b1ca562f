//! Validation of marker forms (`show_contact_form`, `show_support_ticket`), shared by the
//! widget (checks before sending) and the server (checks what arrives), so both say the same.

use std::collections::BTreeMap;

use crate::api::{Attachment, FieldError};
use crate::message::{AttachmentRules, FieldKind, FormField};

/// Longest accepted field value, in characters.
pub const MAX_FIELD_CHARS: usize = 5000;

/// A plausible email address: one `@`, something before it, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c == ',')
}

/// A message's words, as they are: what the server says.
fn english(s: &'static str) -> String {
    s.to_owned()
}

/// `template`'s `{}`s replaced by `values` in order (a `{}` inside a value stays as it is).
pub fn fill(template: String, values: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut values = values.iter();
    let mut rest = template.as_str();
    // (By `{` then `}`: a string searcher here would cost the widget a kilobyte.)
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        match (rest[at + 1..].starts_with('}'), values.next()) {
            (true, Some(v)) => {
                out.push_str(v);
                rest = &rest[at + 2..];
            }
            _ => {
                out.push('{');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Errors for `values` against the marker's `fields`, named `action.fields.<key>`.
pub fn check_fields(fields: &[FormField], values: &BTreeMap<String, String>) -> Vec<FieldError> {
    check_fields_in(fields, values, &english)
}

/// [`check_fields`], its messages through `tr` (the widget's: in the visitor's language).
pub fn check_fields_in(
    fields: &[FormField],
    values: &BTreeMap<String, String>,
    tr: &dyn Fn(&'static str) -> String,
) -> Vec<FieldError> {
    let mut errors = vec![];
    for f in fields {
        let value = values.get(&f.key).map(|v| v.trim()).unwrap_or("");
        let field = format!("action.fields.{}", f.key);
        if f.required && value.is_empty() {
            errors.push(FieldError {
                field,
                message: fill(tr("{} is required"), &[&f.label]),
            });
        } else if f.kind == FieldKind::Email && !value.is_empty() && !is_email(value) {
            errors.push(FieldError {
                field,
                message: tr("Enter a valid email address"),
            });
        } else if value.chars().count() > MAX_FIELD_CHARS {
            errors.push(FieldError {
                field,
                message: fill(tr("At most {} characters"), &[&MAX_FIELD_CHARS.to_string()]),
            });
        }
    }
    for key in values.keys() {
        if !fields.iter().any(|f| &f.key == key) {
            errors.push(FieldError {
                field: format!("action.fields.{key}"),
                message: tr("Unknown field"),
            });
        }
    }
    errors
}

/// The size in bytes of base64 `data` once decoded.
pub fn decoded_len(data: &str) -> u64 {
    (data.trim_end_matches('=').len() as u64 * 3) / 4
}

/// Errors for a support ticket's attachments against the marker's rules
/// (`action.attachments` for the count, `action.attachments.<i>` per file).
pub fn check_attachments(rules: &AttachmentRules, attachments: &[Attachment]) -> Vec<FieldError> {
    check_attachments_in(rules, attachments, &english)
}

/// [`check_attachments`], its messages through `tr`.
pub fn check_attachments_in(
    rules: &AttachmentRules,
    attachments: &[Attachment],
    tr: &dyn Fn(&'static str) -> String,
) -> Vec<FieldError> {
    let mut errors = vec![];
    if attachments.len() as u64 > u64::from(rules.max_files) {
        errors.push(FieldError {
            field: "action.attachments".into(),
            message: fill(tr("At most {} files"), &[&rules.max_files.to_string()]),
        });
    }
    for (i, a) in attachments.iter().enumerate() {
        let field = format!("action.attachments.{i}");
        if !rules.accepted_types.iter().any(|t| t == &a.mime) {
            errors.push(FieldError {
                field,
                message: fill(tr("{} is not an accepted file type"), &[&a.filename]),
            });
        } else if decoded_len(&a.data) > rules.max_size_bytes {
            errors.push(FieldError {
                field,
                message: fill(
                    tr("{} is larger than {} MB"),
                    &[&a.filename, &(rules.max_size_bytes / 1_048_576).to_string()],
                ),
            });
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(key: &str, kind: FieldKind, required: bool) -> FormField {
        FormField {
            key: key.into(),
            label: key.to_uppercase(),
            kind,
            required,
        }
    }

    #[test]
    fn fill_puts_values_in_order() {
        let f = |t: &str, v: &[&str]| fill(t.to_owned(), v);
        assert_eq!(f("{} of {}", &["3", "5"]), "3 of 5");
        assert_eq!(
            f("Remove {}", &["a {} b"]),
            "Remove a {} b",
            "a {{}} in a value stays"
        );
        assert_eq!(f("{} and {}", &["x"]), "x and {}", "too few values");
        assert_eq!(f("no {braces} here {", &["x"]), "no {braces} here {");
    }

    #[test]
    fn required_email_and_unknown_fields() {
        let fields = [
            f("name", FieldKind::Text, true),
            f("email", FieldKind::Email, true),
            f("phone", FieldKind::Tel, false),
        ];
        let values = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(
            check_fields(
                &fields,
                &values(&[("name", "Jane"), ("email", "jane@example.com")])
            )
            .is_empty()
        );
        let errors = check_fields(
            &fields,
            &values(&[("name", "  "), ("email", "jane@"), ("x", "1")]),
        );
        let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            named,
            [
                "action.fields.name",
                "action.fields.email",
                "action.fields.x"
            ]
        );
        assert_eq!(errors[0].message, "NAME is required");
        for bad in ["a@b", "@b.dk", "a b@c.dk", "a@.dk", "a@b.dk.", "a@b@c.dk"] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_email("jane.doe+chat@shop.example.com"));
    }

    #[test]
    fn attachments_follow_the_rules() {
        let rules = AttachmentRules {
            max_files: 1,
            max_size_bytes: 4,
            accepted_types: vec!["image/png".into()],
        };
        let file = |mime: &str, data: &str| Attachment {
            filename: "f".into(),
            mime: mime.into(),
            data: data.into(),
        };
        assert!(
            check_attachments(&rules, &[file("image/png", "AAAA")]).is_empty(),
            "3 bytes"
        );
        assert_eq!(
            check_attachments(&rules, &[file("image/png", "AAAAAAAA")])[0].field,
            "action.attachments.0",
            "6 bytes"
        );
        assert_eq!(
            check_attachments(&rules, &[file("text/html", "AA==")])[0].field,
            "action.attachments.0"
        );
        assert_eq!(
            check_attachments(
                &rules,
                &[file("image/png", "AA=="), file("image/png", "AA==")]
            )[0]
            .field,
            "action.attachments"
        );
    }
}
