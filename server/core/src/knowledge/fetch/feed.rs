//! Product feeds into catalogue items: a Shopify shop's `products.json`, a Google Merchant
//! feed (RSS 2.0 or Atom with `g:` fields), or a JSON array of catalogue items. Relative links
//! are resolved against the feed's URL. A product without an id, a title or a price is left
//! out; a feed that is not what its format says is an error.

use serde_json::Value;

use super::FetchPolicy;
use super::guard::check_url;
use super::http::{BodyError, Session, body, hash, megabytes, validators};
use super::xml::{self, Record};
use crate::model::knowledge::{CatalogueItem, DocumentRecord, FeedFormat, MAX_FILE_BYTES};

/// A description is cut to this many characters: a product card shows a line or two.
const MAX_DESCRIPTION: usize = 600;
/// Shopify serves `products.json` 250 products a page at most; a shop is read to this page.
const MAX_SHOPIFY_PAGES: u32 = 40;

/// A product feed's bytes as catalogue items. `base` is the feed's URL: relative links and
/// Shopify's product pages (`{origin}/products/{handle}`) are made from it (a `base` that is no
/// URL, such as a file on the server's disk, leaves links as written).
pub fn products(
    format: FeedFormat,
    bytes: &[u8],
    base: &str,
) -> Result<Vec<CatalogueItem>, String> {
    let base = reqwest::Url::parse(base).ok();
    let mut items = match format {
        FeedFormat::Shopify => shopify(bytes, base.as_ref())?,
        FeedFormat::GoogleMerchant => merchant(bytes)?,
        FeedFormat::Json => serde_json::from_slice::<Vec<CatalogueItem>>(bytes)
            .map_err(|e| format!("not a JSON array of catalogue items ({e})"))?,
    };
    items.retain(|i| i.price.is_finite() && i.price >= 0.0 && !i.title.trim().is_empty());
    if let Some(base) = &base {
        for item in &mut items {
            item.url = absolute(base, &item.url);
            item.image = item.image.as_deref().map(|i| absolute(base, i));
        }
    }
    Ok(items)
}

fn absolute(base: &reqwest::Url, link: &str) -> String {
    base.join(link.trim())
        .map(String::from)
        .unwrap_or_else(|_| link.to_owned())
}

/// Shopify's `products.json`: `{"products": [{id, title, handle, body_html, product_type, tags,
/// vendor, variants: [{price}], images: [{src}]}]}`. It names no currency; the catalogue's
/// default (DKK) stands.
fn shopify(bytes: &[u8], base: Option<&reqwest::Url>) -> Result<Vec<CatalogueItem>, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    let list = value
        .get("products")
        .and_then(Value::as_array)
        .ok_or("not a Shopify products.json (no \"products\" list)")?;
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let mut out = vec![];
    for p in list {
        let (Some(id), Some(title)) = (text(&p["id"]), text(&p["title"])) else {
            continue;
        };
        let price = p["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| text(&v["price"])?.parse::<f64>().ok())
            .fold(None, |min: Option<f64>, p| {
                Some(min.map_or(p, |m| m.min(p)))
            });
        let Some(price) = price else { continue };
        let handle = text(&p["handle"]).unwrap_or_else(|| id.clone());
        let url = match base {
            Some(b) => format!("{}/products/{handle}", b.origin().ascii_serialization()),
            None => format!("/products/{handle}"),
        };
        let mut keywords: Vec<String> = match &p["tags"] {
            Value::Array(tags) => tags.iter().filter_map(text).collect(),
            Value::String(tags) => tags.split(',').map(|t| t.trim().to_owned()).collect(),
            _ => vec![],
        };
        keywords.extend(text(&p["vendor"]));
        keywords.retain(|k| !k.is_empty());
        let image = p["images"]
            .get(0)
            .and_then(|i| text(&i["src"]))
            .or_else(|| text(&p["image"]["src"]));
        out.push(CatalogueItem {
            id,
            title,
            category: text(&p["product_type"]).unwrap_or_default(),
            price,
            currency: "DKK".into(),
            description: text(&p["body_html"])
                .map(|h| html_text(&h))
                .filter(|d| !d.is_empty()),
            keywords,
            url,
            image,
        });
    }
    Ok(out)
}

/// A Google Merchant feed: RSS 2.0 `<item>`s (or Atom `<entry>`s) with `g:id`, `g:title` or
/// `title`, `g:description` or `description`, `g:link` or `link`, `g:image_link`, `g:price`
/// (`1299.00 DKK`; `g:sale_price` when there is one), `g:product_type` or
/// `g:google_product_category` (its last `>` step), `g:brand`.
fn merchant(bytes: &[u8]) -> Result<Vec<CatalogueItem>, String> {
    let text = String::from_utf8_lossy(bytes);
    let (records, error) = xml::records(&text, &["item", "entry"]);
    if let Some(error) = error {
        return Err(error);
    }
    let count = records.len();
    let out: Vec<CatalogueItem> = records.iter().filter_map(merchant_item).collect();
    if out.is_empty() && count > 0 {
        return Err(format!(
            "none of the feed's {count} items has an id, a title and a price"
        ));
    }
    Ok(out)
}

fn merchant_item(r: &Record) -> Option<CatalogueItem> {
    let g = |name: &str| r.get(name, true);
    let either = |name: &str| r.get(name, true).or(r.get(name, false));
    let id = g("id")?.to_owned();
    let title = either("title")?.to_owned();
    let (price, currency) = g("sale_price")
        .and_then(parse_price)
        .or_else(|| g("price").and_then(parse_price))?;
    let category = g("product_type")
        .or(g("google_product_category"))
        .and_then(|c| c.rsplit('>').next())
        .map(|c| c.trim().to_owned())
        .unwrap_or_default();
    let link = either("link").or(r.attr("link", "href")).unwrap_or("");
    Some(CatalogueItem {
        id,
        title,
        category,
        price,
        currency: currency.unwrap_or_else(|| "DKK".into()),
        description: either("description")
            .or(r.get("summary", false))
            .map(html_text)
            .filter(|d| !d.is_empty()),
        keywords: g("brand").map(|b| vec![b.to_owned()]).unwrap_or_default(),
        url: link.to_owned(),
        image: g("image_link").map(str::to_owned),
    })
}

/// `1299.00 DKK`, `DKK 1.299,00`, `49 kr` → the amount and the ISO currency when named.
pub(super) fn parse_price(s: &str) -> Option<(f64, Option<String>)> {
    let mut amount = None;
    let mut currency = None;
    for token in s.split_whitespace() {
        if token.len() == 3 && token.chars().all(|c| c.is_ascii_alphabetic()) {
            currency = Some(token.to_ascii_uppercase());
        } else if amount.is_none() && token.chars().any(|c| c.is_ascii_digit()) {
            amount = parse_amount(token);
        }
    }
    Some((amount?, currency))
}

/// A number written with `,` or `.` as the decimal mark, the other as thousands separator.
fn parse_amount(token: &str) -> Option<f64> {
    let digits: String = token
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '.' | ','))
        .collect();
    let decimal = match (digits.rfind('.'), digits.rfind(',')) {
        (Some(d), Some(c)) => Some(d.max(c)),
        (Some(at), None) | (None, Some(at)) => {
            // One mark followed by exactly three digits is a thousands separator (`1.299`).
            let after = digits.len() - at - 1;
            let marks = digits.matches(['.', ',']).count();
            (after != 3 && marks == 1).then_some(at)
        }
        (None, None) => None,
    };
    let mut plain = String::new();
    for (i, c) in digits.char_indices() {
        if c.is_ascii_digit() {
            plain.push(c);
        } else if Some(i) == decimal {
            plain.push('.');
        }
    }
    plain.parse().ok()
}

/// The text of an HTML fragment, white space collapsed, cut at [`MAX_DESCRIPTION`].
fn html_text(html: &str) -> String {
    let text = if html.contains(['<', '&']) {
        // Block ends part words; inline tags (`<b>W</b>ord`) do not.
        let mut spaced = html.to_owned();
        for end in [
            "<br", "</p", "</li", "</div", "</h", "</td", "</tr", "</dt", "</dd",
        ] {
            spaced = spaced.replace(end, &format!(" {end}"));
        }
        let fragment = scraper::Html::parse_fragment(&spaced);
        fragment.root_element().text().collect::<String>()
    } else {
        html.to_owned()
    };
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(MAX_DESCRIPTION) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text,
    }
}

/// Fetches a feed and returns it as one document: its URL, a title, the products. A Shopify
/// `products.json` given without `page` or `limit` is read page by page (250 a page).
pub async fn product_feed(
    http: &reqwest::Client,
    url: &str,
    format: FeedFormat,
    policy: &FetchPolicy,
) -> Result<DocumentRecord, String> {
    let start = check_url(url, policy).await?;
    let paged = format == FeedFormat::Shopify
        && !start
            .query_pairs()
            .any(|(k, _)| k == "page" || k == "limit");
    let mut session = Session::new(http, policy);
    let mut items: Vec<CatalogueItem> = vec![];
    let mut all_bytes = vec![];
    let mut validators_seen = (None, None);
    let pages = if paged { MAX_SHOPIFY_PAGES } else { 1 };
    for page in 1..=pages {
        let mut target = start.clone();
        if paged {
            target
                .query_pairs_mut()
                .append_pair("limit", "250")
                .append_pair("page", &page.to_string());
        }
        let mut response = session
            .get(&target, None)
            .await
            .map_err(|e| format!("the feed {url} could not be read: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the feed {url} answered HTTP {}", status.as_u16()));
        }
        if page == 1 {
            validators_seen = validators(&response);
        }
        let bytes = body(&mut response, MAX_FILE_BYTES)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge => format!(
                    "the feed {url} is larger than {}",
                    megabytes(MAX_FILE_BYTES)
                ),
                BodyError::Failed(e) => format!("the feed {url} could not be read: {e}"),
            })?;
        let found = products(format, &bytes, start.as_str())?;
        all_bytes.extend_from_slice(&bytes);
        let before = items.len();
        let full_page = found.len() >= 250;
        for item in found {
            if !items.iter().any(|p| p.id == item.id) {
                items.push(item);
            }
        }
        // A page with nothing new (a static file ignores `page`), or not full, is the last.
        if !full_page || items.len() == before {
            break;
        }
    }
    let host = start.host_str().unwrap_or("");
    Ok(DocumentRecord {
        url: start.to_string(),
        title: format!("Products of {host}"),
        etag: validators_seen.0,
        last_modified: validators_seen.1,
        hash: Some(hash(&all_bytes)),
        products: items,
        ..DocumentRecord::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_as_feeds_write_them() {
        assert_eq!(
            parse_price("1299.00 DKK"),
            Some((1299.0, Some("DKK".into())))
        );
        assert_eq!(
            parse_price("DKK 1.299,50"),
            Some((1299.5, Some("DKK".into())))
        );
        assert_eq!(
            parse_price("1,299.50 usd"),
            Some((1299.5, Some("USD".into())))
        );
        assert_eq!(parse_price("49,95 EUR"), Some((49.95, Some("EUR".into()))));
        assert_eq!(parse_price("1.299 kr"), Some((1299.0, None)));
        assert_eq!(parse_price("free"), None);
        assert_eq!(
            html_text("<p>Warm <b>l</b>ight</p><p>Oak</p>"),
            "Warm light Oak"
        );
    }
}
