//! The records of an XML document, flat: each `<url>` of a sitemap, each `<item>` of an RSS
//! feed, as the list of its child elements with their text and attributes. Sitemaps and
//! merchant feeds need no more than that, and a streaming reader (quick-xml) keeps a 10 MB
//! feed cheap. Entities and CDATA are resolved; namespace prefixes are kept apart from the
//! local name, so `g:price` is found whatever the feed calls the prefix.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// One record element (`url`, `item`…).
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Record {
    /// Its local name.
    pub kind: String,
    pub fields: Vec<Field>,
}

/// One child element of a record: its text (that of its descendants included) and attributes.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Field {
    pub local: String,
    /// Whether its name has a namespace prefix (`g:price`).
    pub prefixed: bool,
    pub text: String,
    pub attrs: Vec<(String, String)>,
}

impl Record {
    /// The trimmed text of the first non-empty child named `local`, prefixed or not.
    pub fn get(&self, local: &str, prefixed: bool) -> Option<&str> {
        self.fields
            .iter()
            .filter(|f| f.local == local && f.prefixed == prefixed)
            .map(|f| f.text.trim())
            .find(|t| !t.is_empty())
    }

    /// An attribute of the first child named `local` (Atom's `<link href>`).
    pub fn attr(&self, local: &str, attr: &str) -> Option<&str> {
        self.fields
            .iter()
            .filter(|f| f.local == local)
            .find_map(|f| {
                f.attrs
                    .iter()
                    .find(|(k, _)| k == attr)
                    .map(|(_, v)| v.as_str())
            })
    }
}

fn split_name(qname: &str) -> (String, bool) {
    match qname.rsplit_once(':') {
        Some((_, local)) => (local.to_owned(), true),
        None => (qname.to_owned(), false),
    }
}

/// Every element whose local name is one of `kinds`, in document order (a record inside a
/// record is not looked for), and, when the XML is malformed, where: the records before the
/// fault are kept (a sitemap cut short still lists its first pages; a feed refuses them).
pub(super) fn records(text: &str, kinds: &[&str]) -> (Vec<Record>, Option<String>) {
    let mut reader = Reader::from_str(text);
    let mut out = vec![];
    let mut depth = 0usize;
    // The open record and its depth, and the open field.
    let mut record: Option<(Record, usize)> = None;
    let mut field: Option<Field> = None;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let at = reader.error_position();
                return (
                    out,
                    Some(format!("not well-formed XML (at byte {at}: {e})")),
                );
            }
        };
        match event {
            Event::Start(e) => {
                depth += 1;
                let (local, prefixed) = split_name(e.name().as_ref());
                match &record {
                    None if kinds.contains(&local.as_str()) => {
                        record = Some((
                            Record {
                                kind: local,
                                fields: vec![],
                            },
                            depth,
                        ));
                    }
                    Some((_, at)) if depth == at + 1 => {
                        field = Some(Field {
                            local,
                            prefixed,
                            text: String::new(),
                            attrs: attributes(&e),
                        });
                    }
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if let Some((r, at)) = &mut record
                    && depth == *at
                {
                    let (local, prefixed) = split_name(e.name().as_ref());
                    r.fields.push(Field {
                        local,
                        prefixed,
                        text: String::new(),
                        attrs: attributes(&e),
                    });
                }
            }
            Event::Text(t) => {
                if let Some(f) = &mut field {
                    f.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(f) = &mut field {
                    f.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(f) = &mut field {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => f.text.push(c),
                        _ => match &*r {
                            "amp" => f.text.push('&'),
                            "lt" => f.text.push('<'),
                            "gt" => f.text.push('>'),
                            "quot" => f.text.push('"'),
                            "apos" => f.text.push('\''),
                            other => {
                                f.text.push('&');
                                f.text.push_str(other);
                                f.text.push(';');
                            }
                        },
                    }
                }
            }
            Event::End(_) => {
                match &mut record {
                    Some((r, at)) if depth == *at + 1 => {
                        if let Some(f) = field.take() {
                            r.fields.push(f);
                        }
                    }
                    Some((_, at)) if depth == *at => {
                        if let Some((r, _)) = record.take() {
                            out.push(r);
                        }
                    }
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if record.is_some() {
        return (
            out,
            Some("not well-formed XML (it ends inside an element)".into()),
        );
    }
    (out, None)
}

fn attributes(e: &quick_xml::events::BytesStart) -> Vec<(String, String)> {
    e.attributes()
        .flatten()
        .map(|a| {
            let (local, _) = split_name(a.key.as_ref());
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_default();
            (local, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_with_prefixes_entities_and_cdata() {
        let xml = r#"<?xml version="1.0"?><rss xmlns:g="http://base.google.com/ns/1.0"><channel>
            <title>Shop</title>
            <item><g:id>1</g:id><title>Lamp &amp; shade &#xE6;</title>
              <description><![CDATA[<p>Warm</p>]]></description><link href="/a"/></item>
            <item><g:id>2</g:id></item></channel></rss>"#;
        let (items, error) = records(xml, &["item"]);
        assert_eq!(error, None);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].get("id", true), Some("1"));
        assert_eq!(items[0].get("id", false), None);
        assert_eq!(items[0].get("title", false), Some("Lamp & shade æ"));
        assert_eq!(items[0].get("description", false), Some("<p>Warm</p>"));
        assert_eq!(items[0].attr("link", "href"), Some("/a"));
        assert_eq!(items[1].get("id", true), Some("2"));
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        for bad in [
            "<a><b></a>",
            "<urlset><url><loc>x</loc>",
            "\u{0}<<>>&&",
            "<a b=\"></a>",
        ] {
            let _ = records(bad, &["url"]);
        }
        assert!(records("<a><b></a>", &["b"]).1.is_some());
        let (cut, error) = records("<u><url><loc>a</loc></url><url><loc>b", &["url"]);
        assert_eq!((cut.len(), error.is_some()), (1, true));
    }
}
