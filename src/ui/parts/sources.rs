//! `sources`: where a grounded answer comes from, as a short list of links under it (the page
//! with the cited section's `#anchor`, or a product page). Links open in a new tab, so the
//! visitor keeps the page they are on; only web links are drawn as links.

use dgbot_protocol::message::{Source, is_safe_link};
use leptos::prelude::*;

use crate::logic::i18n::t;

pub fn sources_view(sources: Vec<Source>) -> AnyView {
    let web = |u: &str| {
        let lower = u.to_ascii_lowercase();
        (lower.starts_with("https://") || lower.starts_with("http://")) && is_safe_link(u)
    };
    let items: Vec<_> = sources
        .into_iter()
        .map(|s| {
            let href = Some(s.url.clone()).filter(|u| web(u));
            view! {
                <li>
                    {match href {
                        Some(href) => view! {
                            <a href=href target="_blank" rel="noopener noreferrer" data-testid="source">{s.title}</a>
                        }.into_any(),
                        None => view! { <span data-testid="source">{s.title}</span> }.into_any(),
                    }}
                </li>
            }
        })
        .collect();
    view! {
        // A group, not a `nav` landmark: every grounded answer has one, and landmarks must
        // differ by name (axe-core's landmark-unique).
        <div class="sources" role="group" data-part="sources" aria-label=t("Sources")>
            <span>{t("Sources")}</span>
            <ul>{items}</ul>
        </div>
    }
    .into_any()
}
