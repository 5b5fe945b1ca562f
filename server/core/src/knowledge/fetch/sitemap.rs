//! The pages a site lists in its sitemaps: `/sitemap.xml` and those robots.txt names, sitemap
//! indexes followed (on the site's own host only), and text sitemaps (one URL a line). A page
//! that nothing links to is found this way, and after a sync whose pages answered
//! `304 Not Modified` (no links read) the sitemap still lists the new ones.

use std::collections::{HashSet, VecDeque};

use reqwest::Url;

use super::http::{Session, body};
use super::xml;
use crate::model::knowledge::MAX_FILE_BYTES;

/// At most this many sitemap files are read for one crawl (an index of indexes stops here).
const MAX_SITEMAPS: usize = 50;

/// A sitemap's page URLs and the sitemaps it points to (a sitemap index), as written.
pub(super) fn parse(text: &str) -> (Vec<String>, Vec<String>) {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if !trimmed.starts_with('<') {
        let pages = trimmed
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
            .map(str::to_owned)
            .collect();
        return (pages, vec![]);
    }
    let (mut pages, mut sitemaps) = (vec![], vec![]);
    // A sitemap cut short still lists the pages before the cut.
    let (records, _malformed) = xml::records(trimmed, &["url", "sitemap"]);
    for record in records {
        let Some(loc) = record.get("loc", false).or(record.get("loc", true)) else {
            continue;
        };
        match record.kind.as_str() {
            "sitemap" => sitemaps.push(loc.to_owned()),
            _ => pages.push(loc.to_owned()),
        }
    }
    (pages, sitemaps)
}

/// The pages listed by the sitemaps at `roots` and the sitemaps they index, at most `limit`
/// of them; a sitemap elsewhere than `on_host` allows, missing, or not XML is passed over.
pub(super) async fn pages(
    session: &mut Session<'_>,
    roots: Vec<Url>,
    on_host: impl Fn(&Url) -> bool,
    limit: usize,
) -> Vec<Url> {
    let mut queue: VecDeque<Url> = VecDeque::new();
    let mut seen = HashSet::new();
    for root in roots {
        if seen.insert(root.to_string()) {
            queue.push_back(root);
        }
    }
    let mut out = vec![];
    let mut read = 0;
    while let Some(url) = queue.pop_front() {
        if read >= MAX_SITEMAPS || out.len() >= limit {
            break;
        }
        // Gzipped sitemaps would need a decompressor for little gain: sites serve both.
        if !on_host(&url) || url.path().ends_with(".gz") {
            continue;
        }
        read += 1;
        let Ok(mut response) = session.get(&url, None).await else {
            continue;
        };
        if !response.status().is_success() {
            continue;
        }
        let Ok(bytes) = body(&mut response, MAX_FILE_BYTES).await else {
            continue;
        };
        let (pages, sitemaps) = parse(&String::from_utf8_lossy(&bytes));
        for page in pages {
            if out.len() >= limit {
                break;
            }
            if let Ok(page) = url.join(&page) {
                out.push(page);
            }
        }
        for sitemap in sitemaps {
            if let Ok(sitemap) = url.join(&sitemap)
                && seen.insert(sitemap.to_string())
            {
                queue.push_back(sitemap);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlsets_indexes_and_text_sitemaps() {
        let (pages, maps) = parse(
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <url><loc> https://x.dk/a </loc><lastmod>2024-01-01</lastmod></url>
              <url><loc>https://x.dk/b?x=1&amp;y=2</loc></url>
            </urlset>"#,
        );
        assert_eq!(pages, ["https://x.dk/a", "https://x.dk/b?x=1&y=2"]);
        assert!(maps.is_empty());
        let (pages, maps) =
            parse("<sitemapindex><sitemap><loc>https://x.dk/s1.xml</loc></sitemap></sitemapindex>");
        assert!(pages.is_empty());
        assert_eq!(maps, ["https://x.dk/s1.xml"]);
        let (pages, _) = parse("https://x.dk/a\n\nnot a url\nhttps://x.dk/b\n");
        assert_eq!(pages, ["https://x.dk/a", "https://x.dk/b"]);
        let (pages, _) =
            parse("<urlset><url><loc>https://x.dk/a</loc></url><url><loc>https://x.dk/b");
        assert_eq!(pages, ["https://x.dk/a"]);
        assert_eq!(parse("\u{0}<<\u{fffd}"), (vec![], vec![]));
    }
}
