//! A page into passages (issue 26): the main content of an HTML page, without navigation,
//! headers, footers, sidebars, forms and cookie banners, split at its headings into passages that
//! keep the page's title, their heading path and the `#anchor` that leads to them. Markdown and
//! plain text become passages the same way (a Markdown heading is a heading; plain text is one
//! passage per blank-line-separated block run under the file's title).

use scraper::{ElementRef, Html, Node, Selector};

/// One section of a page: what a cited answer quotes and links to.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The headings above it, outermost first (the page title is not one of them).
    pub headings: Vec<String>,
    /// The anchor of its heading (`id` of the heading, of an `<a name>` or `<a id>` in it, or of
    /// the section element it opens), without `#`; `None` for the text before the first
    /// heading or a heading without one.
    pub anchor: Option<String>,
    /// Its text: paragraphs, list items, table cells, separated by new lines.
    pub text: String,
}

impl Section {
    /// What the section is about: the page's title and the headings above it, joined with ` › `
    /// (a first heading that repeats the title once).
    pub fn heading_line(&self, title: &str) -> String {
        let mut parts: Vec<&str> = vec![];
        if !title.is_empty() {
            parts.push(title);
        }
        for (i, h) in self.headings.iter().enumerate() {
            if i == 0 && h == title {
                continue;
            }
            parts.push(h);
        }
        parts.join(" › ")
    }
}

/// A page read for its content.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub title: String,
    /// The page's `<html lang>` (`da`, `de-DE`), when it says.
    pub lang: Option<String>,
    pub sections: Vec<Section>,
}

/// A passage's text stays under this many characters: a longer section is cut at a paragraph.
pub const MAX_PASSAGE_CHARS: usize = 1_800;

/// Elements whose content is never the page's content.
const SKIPPED: &[&str] = &[
    "nav", "header", "footer", "aside", "script", "style", "noscript", "template", "form",
    "button", "select", "option", "textarea", "svg", "iframe", "object", "canvas", "dialog",
    "head", "menu",
];

/// Roles, and words in ids and classes, of the page's furniture.
const SKIPPED_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "dialog",
    "alertdialog",
];
const FURNITURE: &[&str] = &[
    "cookie",
    "consent",
    "gdpr",
    "breadcrumb",
    "sidebar",
    "skip-link",
    "skiplink",
    "navbar",
    "site-header",
    "site-footer",
    "newsletter",
    "popup",
    "modal",
    "toc",
    "navfooter",
    "navheader",
];

/// Elements that end a line of text.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "dt",
    "dd",
    "tr",
    "pre",
    "blockquote",
    "section",
    "article",
    "br",
    "td",
    "th",
    "figcaption",
    "caption",
    "table",
    "ul",
    "ol",
    "dl",
    "main",
    "body",
];

fn heading_level(name: &str) -> Option<usize> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

fn is_furniture(el: &ElementRef) -> bool {
    let e = el.value();
    if SKIPPED.contains(&e.name()) {
        return true;
    }
    if e.attr("hidden").is_some() || e.attr("aria-hidden") == Some("true") {
        return true;
    }
    if e.attr("role").is_some_and(|r| SKIPPED_ROLES.contains(&r)) {
        return true;
    }
    let names = format!(
        "{} {}",
        e.attr("id").unwrap_or(""),
        e.attr("class").unwrap_or("")
    )
    .to_ascii_lowercase();
    FURNITURE.iter().any(|w| names.contains(w))
}

/// The text of an element, white space collapsed.
fn text_of(el: ElementRef) -> String {
    collapse(&el.text().collect::<String>())
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The anchor of a heading: its own id, an `<a name|id>` inside it, or the id of the element it
/// opens (DocBook's `<div class="section" id="…"><h2>`, a `<section id>`).
fn anchor_of(heading: ElementRef) -> Option<String> {
    if let Some(id) = heading.value().attr("id") {
        return Some(id.to_owned());
    }
    // The last one: `<h2><a id="x"/>…</h2>` (XHTML's empty anchor, as DocBook writes it) opens
    // an `<a>` that HTML parsing carries on into the following content, so the next heading
    // holds a copy of it before its own.
    let anchors = Selector::parse("a[id], a[name]").expect("a selector");
    if let Some(a) = heading.select(&anchors).last() {
        return a
            .value()
            .attr("id")
            .or(a.value().attr("name"))
            .map(str::to_owned);
    }
    // The heading opens its parent when nothing with text comes before it there.
    let parent = heading.parent().and_then(ElementRef::wrap)?;
    let first = parent
        .children()
        .find(|c| match c.value() {
            Node::Text(t) => !t.trim().is_empty(),
            Node::Element(_) => true,
            _ => false,
        })
        .map(|c| c.id());
    if first == Some(heading.id()) {
        if let Some(id) = parent.value().attr("id") {
            return Some(id.to_owned());
        }
        // DocBook nests the title: `<div class="section"><div class="titlepage"><div><div><h2>`.
        let mut up = parent;
        for _ in 0..4 {
            let Some(next) = up.parent().and_then(ElementRef::wrap) else {
                break;
            };
            if let Some(id) = next.value().attr("id") {
                return Some(id.to_owned());
            }
            up = next;
        }
    }
    None
}

/// Walks the content in document order, cutting it at headings.
struct Splitter {
    sections: Vec<Section>,
    /// `(level, text)` of the headings above the current point.
    path: Vec<(usize, String)>,
    anchor: Option<String>,
    text: String,
}

impl Splitter {
    fn new() -> Self {
        Splitter {
            sections: vec![],
            path: vec![],
            anchor: None,
            text: String::new(),
        }
    }

    fn flush(&mut self) {
        let text = tidy(&self.text);
        self.text.clear();
        if text.is_empty() {
            return;
        }
        let headings: Vec<String> = self.path.iter().map(|(_, h)| h.clone()).collect();
        for chunk in chunks(&text) {
            self.sections.push(Section {
                headings: headings.clone(),
                anchor: self.anchor.clone(),
                text: chunk,
            });
        }
    }

    fn heading(&mut self, level: usize, text: String, anchor: Option<String>) {
        self.flush();
        while self.path.last().is_some_and(|(l, _)| *l >= level) {
            self.path.pop();
        }
        if !text.is_empty() {
            self.path.push((level, text));
        }
        self.anchor = anchor;
    }

    fn walk(&mut self, el: ElementRef) {
        for child in el.children() {
            match child.value() {
                Node::Text(t) => self.text.push_str(t),
                Node::Element(_) => {
                    let Some(child) = ElementRef::wrap(child) else {
                        continue;
                    };
                    if is_furniture(&child) {
                        continue;
                    }
                    let name = child.value().name();
                    if let Some(level) = heading_level(name) {
                        self.heading(level, text_of(child), anchor_of(child));
                        continue;
                    }
                    let block = BLOCKS.contains(&name);
                    if block {
                        self.text.push('\n');
                    }
                    if name == "li" {
                        self.text.push_str("- ");
                    }
                    self.walk(child);
                    if block {
                        self.text.push('\n');
                    } else if matches!(name, "td" | "th") {
                        self.text.push_str(" | ");
                    }
                }
                _ => {}
            }
        }
    }
}

/// Lines trimmed and white space collapsed, empty lines dropped.
fn tidy(text: &str) -> String {
    text.lines()
        .map(collapse)
        .filter(|l| !l.is_empty() && l != "-")
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` in pieces of at most [`MAX_PASSAGE_CHARS`], cut between lines (a single longer line is
/// cut between words).
fn chunks(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut current = String::new();
    let mut push = |current: &mut String| {
        if !current.is_empty() {
            out.push(std::mem::take(current));
        }
    };
    for line in text.lines() {
        if current.len() + line.len() + 1 > MAX_PASSAGE_CHARS {
            push(&mut current);
        }
        if line.len() > MAX_PASSAGE_CHARS {
            for word in line.split(' ') {
                if current.len() + word.len() + 1 > MAX_PASSAGE_CHARS {
                    push(&mut current);
                }
                if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(word);
            }
            continue;
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    }
    push(&mut current);
    out
}

/// The page's main content: `<main>`, else the only `<article>`, else `[role=main]`, else
/// `#content` / `.content`, else `<body>`.
fn content_root(doc: &Html) -> Option<ElementRef<'_>> {
    for css in [
        "main",
        "[role=main]",
        "article",
        "#content",
        ".content",
        "body",
    ] {
        let selector = Selector::parse(css).expect("a selector");
        let mut found = doc.select(&selector);
        if let Some(first) = found.next()
            && (css != "article" || found.next().is_none())
        {
            return Some(first);
        }
    }
    None
}

/// Read an HTML page.
pub fn html(source: &str) -> Page {
    let doc = Html::parse_document(source);
    let title_sel = Selector::parse("title").expect("a selector");
    let h1 = Selector::parse("h1").expect("a selector");
    let title = doc
        .select(&title_sel)
        .next()
        .map(text_of)
        .filter(|t| !t.is_empty())
        .or_else(|| doc.select(&h1).next().map(text_of))
        .unwrap_or_default();
    let lang = doc
        .root_element()
        .value()
        .attr("lang")
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned);
    let mut splitter = Splitter::new();
    if let Some(root) = content_root(&doc) {
        splitter.walk(root);
    }
    splitter.flush();
    Page {
        title,
        lang,
        sections: splitter.sections,
    }
}

/// Read a Markdown document: `#` headings cut it; the first `# Title` is the page's title.
pub fn markdown(source: &str, fallback_title: &str) -> Page {
    use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
    let mut splitter = Splitter::new();
    let mut title = None;
    let mut in_heading: Option<(usize, String)> = None;
    for event in Parser::new(source) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                let level = match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    HeadingLevel::H3 => 3,
                    HeadingLevel::H4 => 4,
                    HeadingLevel::H5 => 5,
                    HeadingLevel::H6 => 6,
                };
                in_heading = Some((level, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, text)) = in_heading.take() {
                    let text = collapse(&text);
                    if level == 1 && title.is_none() {
                        title = Some(text);
                        splitter.flush();
                    } else {
                        let anchor = slug(&text);
                        splitter.heading(level, text, Some(anchor));
                    }
                }
            }
            Event::Text(t) | Event::Code(t) => match &mut in_heading {
                Some((_, h)) => h.push_str(&t),
                None => splitter.text.push_str(&t),
            },
            Event::SoftBreak => splitter.text.push(' '),
            Event::HardBreak | Event::End(TagEnd::Paragraph) | Event::End(TagEnd::Item) => {
                splitter.text.push('\n')
            }
            Event::Start(Tag::Item) => splitter.text.push_str("\n- "),
            _ => {}
        }
    }
    splitter.flush();
    Page {
        title: title.unwrap_or_else(|| fallback_title.to_owned()),
        lang: None,
        sections: splitter.sections,
    }
}

/// Plain text: one page, cut into passages at blank lines when long.
pub fn plain(source: &str, title: &str) -> Page {
    let mut splitter = Splitter::new();
    splitter.text = source.replace("\r\n", "\n");
    splitter.flush();
    Page {
        title: title.to_owned(),
        lang: None,
        sections: splitter.sections,
    }
}

/// A heading as a URL fragment, the way GitHub and most Markdown sites make them: lower case,
/// letters and digits kept, spaces to `-`.
pub fn slug(heading: &str) -> String {
    let mut out = String::new();
    for c in heading.trim().to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if (c == ' ' || c == '-') && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = r#"<!doctype html><html lang="da"><head><title>Levering | Nordlys</title>
        <style>.x{}</style></head><body>
        <header><nav><a href="/">Forside</a> <a href="/levering">Levering</a></nav></header>
        <div id="cookie-banner">Vi bruger cookies. <button>OK</button></div>
        <main>
          <h1>Levering</h1>
          <p>Vi sender til hele Norden.</p>
          <h2 id="fragt">Hvad koster fragt?</h2>
          <p>Fragt koster <b>49 kr</b>, gratis over 500 kr.</p>
          <ul><li>Pakkeshop</li><li>Hjemmelevering</li></ul>
          <section id="usa"><h2>Sender I til USA?</h2><p>Nej, kun til Norden og EU.</p></section>
          <h3><a name="retur"></a>Returnering</h3><p>30 dages returret.</p>
          <form><label>Email</label><input></form>
        </main>
        <aside>Populære produkter</aside>
        <footer>© Nordlys · CVR 12345678</footer>
        <script>var tracking = 1;</script>
        </body></html>"#;

    #[test]
    fn html_keeps_the_content_and_cuts_it_at_headings() {
        let page = html(SHOP);
        assert_eq!(page.title, "Levering | Nordlys");
        assert_eq!(page.lang.as_deref(), Some("da"));
        let all: String = page.sections.iter().map(|s| s.text.clone()).collect();
        for furniture in ["Forside", "cookies", "CVR", "tracking", "Populære", "Email"] {
            assert!(!all.contains(furniture), "{furniture} left in: {all}");
        }
        assert_eq!(
            page.sections,
            [
                Section {
                    headings: vec!["Levering".into()],
                    anchor: None,
                    text: "Vi sender til hele Norden.".into()
                },
                Section {
                    headings: vec!["Levering".into(), "Hvad koster fragt?".into()],
                    anchor: Some("fragt".into()),
                    text: "Fragt koster 49 kr, gratis over 500 kr.\n- Pakkeshop\n- Hjemmelevering"
                        .into()
                },
                Section {
                    headings: vec!["Levering".into(), "Sender I til USA?".into()],
                    anchor: Some("usa".into()),
                    text: "Nej, kun til Norden og EU.".into()
                },
                Section {
                    headings: vec![
                        "Levering".into(),
                        "Sender I til USA?".into(),
                        "Returnering".into()
                    ],
                    anchor: Some("retur".into()),
                    text: "30 dages returret.".into()
                },
            ]
        );
    }

    #[test]
    fn docbook_titles_take_the_id_of_their_section() {
        let page = html(
            r#"<html><body><div class="section"><div class="titlepage"><div><div>
            <h2 class="title"><a id="_users"></a>2.1. Users</h2></div></div></div>
            <p>Add one with adduser.</p></div>
            <div class="section" id="_groups"><div class="titlepage"><div><div>
            <h2 class="title">2.2. Groups</h2></div></div></div><p>Groups hold users.</p></div>
            </body></html>"#,
        );
        let anchors: Vec<_> = page.sections.iter().map(|s| s.anchor.clone()).collect();
        assert_eq!(anchors, [Some("_users".into()), Some("_groups".into())]);
        assert_eq!(page.sections[1].headings, ["2.2. Groups"]);
    }

    #[test]
    fn xhtml_empty_anchors_name_their_own_heading() {
        let page = html(
            r#"<html><body><h2><a id="_one"/>One</h2><p>First.</p>
            <p><a id="table_x"/></p><h2><a id="_two"/>Two</h2><p>Second.</p></body></html>"#,
        );
        let anchors: Vec<_> = page.sections.iter().map(|s| s.anchor.clone()).collect();
        assert_eq!(anchors, [Some("_one".into()), Some("_two".into())]);
        assert_eq!(page.sections[1].heading_line("Two"), "Two");
        assert_eq!(page.sections[1].heading_line("Guide"), "Guide › Two");
    }

    #[test]
    fn long_sections_are_cut_between_lines() {
        let line = "word ".repeat(100);
        let page = plain(&format!("{line}\n{line}\n{line}\n{line}\n{line}"), "Long");
        assert!(page.sections.len() >= 2);
        assert!(
            page.sections
                .iter()
                .all(|s| s.text.len() <= MAX_PASSAGE_CHARS)
        );
        let huge = plain(&"w ".repeat(3_000), "One line");
        assert!(
            huge.sections
                .iter()
                .all(|s| s.text.len() <= MAX_PASSAGE_CHARS)
        );
    }

    #[test]
    fn markdown_headings_cut_it_with_slugs() {
        let page = markdown(
            "# Shipping\nkeywords: a\n\nWe ship in **2–4** days.\n\n## To the USA\n\nNot yet.\n",
            "shipping",
        );
        assert_eq!(page.title, "Shipping");
        assert_eq!(page.sections[1].headings, ["To the USA"]);
        assert_eq!(page.sections[1].anchor.as_deref(), Some("to-the-usa"));
        assert!(page.sections[0].text.contains("We ship in 2–4 days."));
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("  What does shipping cost? "),
            "what-does-shipping-cost"
        );
        assert_eq!(slug("Ændring af ordre"), "ændring-af-ordre");
    }
}
