//! The `sources` of an answer (seed 003): the answer's own `sources` part (the pages, with the
//! cited section's `#anchor`, and the products it used), else the products it shows. Sources
//! with no page (a file sent with no URL) are left out: every source listed is a link.

use dgbot_protocol::message::{Message, Part, Source};

/// The sources of `message`, in the order the answer gives them, each once.
pub fn sources_of(message: &Message) -> Vec<Source> {
    let mut sources: Vec<Source> = Vec::new();
    for part in &message.parts {
        match part {
            Part::Sources(s) => sources.extend(s.sources.iter().cloned()),
            Part::Products(p) => sources.extend(p.products.iter().map(|product| Source {
                kind: dgbot_protocol::message::SourceKind::Product,
                title: product.title.clone(),
                url: product.url.clone(),
            })),
            _ => {}
        }
    }
    let mut seen = std::collections::HashSet::new();
    sources.retain(|s| !s.url.is_empty() && seen.insert(s.url.clone()));
    sources
}
