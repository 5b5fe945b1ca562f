//! Which URLs belong to a website source, and one spelling of each: the start URL's host and
//! the directory it is in, narrowed by the owner's `include` and `exclude` path prefixes; a
//! URL without its fragment, tracking parameters or trailing `index.html`; and the links of an
//! HTML page.

use reqwest::Url;
use scraper::{Html, Selector};

/// The part of a site a crawl reads.
#[derive(Debug, Clone)]
pub(super) struct Scope {
    /// The start URL's scheme, host and port, at `/`.
    origin: Url,
    scheme: String,
    host: String,
    port: Option<u16>,
    /// The start URL's directory, with its trailing `/` (`/docs/` for `/docs/guide.html`; a
    /// last segment without a dot is a directory too: `/help` covers `/help` and `/help/…`).
    dir: String,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Scope {
    pub fn new(start: &Url, include: &[String], exclude: &[String]) -> Scope {
        let path = start.path();
        let last = path.rsplit('/').next().unwrap_or("");
        let dir = if last.contains('.') || last.is_empty() {
            path[..path.len() - last.len()].to_owned()
        } else {
            format!("{path}/")
        };
        let mut origin = start.clone();
        origin.set_path("/");
        origin.set_query(None);
        origin.set_fragment(None);
        Scope {
            origin,
            scheme: start.scheme().to_owned(),
            host: start.host_str().unwrap_or("").to_ascii_lowercase(),
            port: start.port(),
            dir,
            include: prefixes(include),
            exclude: prefixes(exclude),
        }
    }

    pub fn origin(&self) -> &Url {
        &self.origin
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether `url` is on the crawled host (the other scheme of the same host counts).
    pub fn same_host(&self, url: &Url) -> bool {
        url.host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case(&self.host))
            && if url.scheme() == self.scheme {
                url.port() == self.port
            } else {
                url.port().is_none() && self.port.is_none()
            }
    }

    /// `url` as the crawl spells it, when it is on the host and under the start's directory
    /// (`include`/`exclude` are [`Scope::wanted`]'s).
    pub fn admit(&self, url: &Url) -> Option<Url> {
        if !self.same_host(url) || !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        let mut url = canonical(url);
        if url.scheme() != self.scheme {
            url.set_scheme(&self.scheme).ok()?;
            url.set_port(self.port).ok()?;
        }
        let path = url.path();
        let under = path.starts_with(&self.dir) || format!("{path}/") == self.dir;
        under.then_some(url)
    }

    /// Whether the owner wants this page among the documents (`include`, `exclude`).
    pub fn wanted(&self, url: &Url) -> bool {
        let path = url.path();
        (self.include.is_empty() || self.include.iter().any(|p| path.starts_with(p.as_str())))
            && !self.exclude.iter().any(|p| path.starts_with(p.as_str()))
    }
}

/// Path prefixes as the owner wrote them (`blog`, `/blog/`, `https://x.dk/blog`) with a leading
/// `/`.
fn prefixes(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| match Url::parse(p) {
            Ok(u) if u.has_host() => u.path().to_owned(),
            _ if p.starts_with('/') => p.to_owned(),
            _ => format!("/{p}"),
        })
        .collect()
}

/// Query parameters that only track a visit: dropped, so that one page has one URL.
fn tracking(name: &str) -> bool {
    name.starts_with("utm_")
        || matches!(
            name,
            "fbclid" | "gclid" | "dclid" | "msclkid" | "mc_cid" | "mc_eid" | "_ga" | "_gl"
        )
}

/// One spelling of a page's URL: no fragment, no tracking parameters (other parameters are
/// kept: `?page=faq` may be the page), `…/index.html` as `…/`.
pub(super) fn canonical(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let kept: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| !tracking(k)).collect();
        if kept.is_empty() {
            url.set_query(None);
        } else if kept.len() < pairs.len() {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    let path = url.path().to_owned();
    for index in ["index.html", "index.htm"] {
        if let Some(dir) = path.strip_suffix(index)
            && dir.ends_with('/')
        {
            url.set_path(dir);
            break;
        }
    }
    url
}

/// The pages an HTML page links to: every `<a href>` resolved against the page (or its
/// `<base href>`), http and https only. Links marked `rel="nofollow"` are left: a site marks
/// so its log-in, basket and sort links, which are no knowledge and sometimes endless.
pub(super) fn links(html: &str, page: &Url) -> Vec<Url> {
    let doc = Html::parse_document(html);
    let base_sel = Selector::parse("base[href]").expect("a selector");
    let base = doc
        .select(&base_sel)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page.join(href.trim()).ok())
        .unwrap_or_else(|| page.clone());
    let a_sel = Selector::parse("a[href]").expect("a selector");
    let mut out = vec![];
    for a in doc.select(&a_sel) {
        let el = a.value();
        if el.attr("rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|w| w.eq_ignore_ascii_case("nofollow"))
        }) {
            continue;
        }
        let href = el.attr("href").unwrap_or("").trim();
        if href.is_empty() || href.starts_with('#') {
            continue;
        }
        if let Ok(url) = base.join(href)
            && matches!(url.scheme(), "http" | "https")
        {
            out.push(url);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn one_spelling_per_page() {
        let c = |s: &str| canonical(&url(s)).to_string();
        assert_eq!(c("https://x.dk/a/index.html#top"), "https://x.dk/a/");
        assert_eq!(c("https://x.dk/?utm_source=mail&fbclid=1"), "https://x.dk/");
        assert_eq!(c("https://x.dk/p?id=4&utm_medium=x"), "https://x.dk/p?id=4");
        assert_eq!(c("https://X.DK:443/p?id=4"), "https://x.dk/p?id=4");
        assert_eq!(c("https://x.dk/myindex.html"), "https://x.dk/myindex.html");
    }

    #[test]
    fn the_start_directory_and_the_owners_prefixes() {
        let scope = Scope::new(
            &url("https://x.dk/docs/guide.html"),
            &[],
            &["/docs/old".into()],
        );
        assert!(scope.admit(&url("https://x.dk/docs/faq")).is_some());
        assert!(scope.admit(&url("https://x.dk/blog/")).is_none());
        assert!(scope.admit(&url("https://y.dk/docs/faq")).is_none());
        assert_eq!(
            scope.admit(&url("http://x.dk/docs/a#b")).unwrap().as_str(),
            "https://x.dk/docs/a"
        );
        assert!(!scope.wanted(&url("https://x.dk/docs/old/a")));
        let help = Scope::new(&url("https://x.dk/help"), &["help/faq".into()], &[]);
        assert!(help.admit(&url("https://x.dk/help")).is_some());
        assert!(help.admit(&url("https://x.dk/help/a")).is_some());
        assert!(help.admit(&url("https://x.dk/helpdesk")).is_none());
        assert!(help.wanted(&url("https://x.dk/help/faq/1")));
        assert!(!help.wanted(&url("https://x.dk/help/a")));
    }

    #[test]
    fn links_resolve_against_the_base() {
        let page = url("https://x.dk/a/b.html");
        let found = links(
            r##"<base href="/root/"><a href="c">c</a><a href="mailto:a@x.dk">m</a>
            <a href="javascript:void(0)">j</a><a href="#top">t</a><a rel="nofollow" href="/cart">n</a>
            <a href="https://y.dk/z">z</a><area href="/area">"##,
            &page,
        );
        let found: Vec<&str> = found.iter().map(Url::as_str).collect();
        assert_eq!(found, ["https://x.dk/root/c", "https://y.dk/z"]);
    }
}
