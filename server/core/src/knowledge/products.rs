//! Product search over a chatbot's catalogue (its product feeds and catalogue files): the
//! products a question names, or of a named category or keyword, within a price limit when one
//! is given ("under 800 kr", "cheapest").

use std::collections::HashSet;

pub use crate::model::knowledge::CatalogueItem;

/// Words that say nothing about the topic.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "i", "you", "we", "my", "your", "our", "is", "are", "do", "does", "can",
    "to", "of", "in", "on", "for", "and", "or", "it", "me", "what", "how", "when", "which", "with",
    "have", "has", "be", "there", "this", "that", "at", "from", "any", "about", "please", "hi",
    "hello", "much", "long", "take", "get",
];

/// Lower-cased words of `text`, with a plural `s` dropped ("lamps" → "lamp").
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
                w[..w.len() - 1].to_owned()
            } else {
                w.to_owned()
            }
        })
        .collect()
}

fn content_words(text: &str) -> HashSet<String> {
    words(text)
        .into_iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

/// Products for `question`: those named, or of a named category or keyword, within a price
/// limit if one is given, cheapest first; "cheapest"/"most expensive" pick one. `None` when
/// the question is not about products.
pub fn search_products<'a>(
    catalogue: &'a [CatalogueItem],
    question: &str,
) -> Option<Vec<&'a CatalogueItem>> {
    let asked = content_words(question);
    let q = question.to_lowercase();
    let limit = price_limit(&q);
    let named = |item: &CatalogueItem| {
        let name = content_words(&item.title);
        asked.contains(&item.id)
            || name
                .iter()
                .any(|w| asked.contains(w) && !GENERIC.contains(&w.as_str()))
    };
    let mut items: Vec<&CatalogueItem> = catalogue.iter().filter(|i| named(i)).collect();
    if items.is_empty() {
        // The products sharing the most words with the question ("floor lamp": the floor lamp,
        // not every lamp).
        let shared = |i: &CatalogueItem| {
            let words = content_words(&format!(
                "{} {} {}",
                i.category,
                i.keywords.join(" "),
                i.title
            ));
            asked.intersection(&words).count()
        };
        let best = catalogue.iter().map(shared).max().unwrap_or(0);
        if best > 0 {
            items = catalogue.iter().filter(|i| shared(i) == best).collect();
        }
    }
    let about_products = !items.is_empty() || shopping(&asked, &q);
    if !about_products {
        return None;
    }
    if items.is_empty() {
        items = catalogue.iter().collect();
    }
    if let Some(max) = limit {
        items.retain(|i| i.price <= max);
    }
    items.sort_by(|a, b| a.price.total_cmp(&b.price));
    if asked.contains("cheapest") {
        items.truncate(1);
    } else if q.contains("most expensive") {
        items = items.into_iter().last().into_iter().collect();
    }
    Some(items)
}

/// Words that ask for products rather than about something.
const SHOPPING: &[&str] = &[
    "product",
    "recommend",
    "buy",
    "sell",
    "cheapest",
    "expensive",
    "catalogue",
];

fn shopping(asked: &HashSet<String>, lower: &str) -> bool {
    price_limit(lower).is_some() || SHOPPING.iter().any(|w| asked.contains(*w))
}

/// Whether `question` asks to be shown products ("which lamps do you recommend?", "lamps under
/// 800 kr"), not only names one ("the warranty on the Aurora lamp").
pub fn asks_for_products(question: &str) -> bool {
    shopping(&content_words(question), &question.to_lowercase())
}

/// What makes a catalogue unusable: a product id used twice, a price that is not a number of
/// zero or more.
pub fn check_catalogue(items: &[CatalogueItem]) -> Result<(), String> {
    let mut ids = HashSet::new();
    for item in items {
        if !ids.insert(item.id.as_str()) {
            return Err(format!("the product id {:?} is used twice", item.id));
        }
        if !(item.price.is_finite() && item.price >= 0.0) {
            return Err(format!("product {:?} has no valid price", item.id));
        }
    }
    Ok(())
}

/// Title words too generic to name one product ("lamp" names a category, not the Aurora).
const GENERIC: &[&str] = &[
    "lamp", "table", "floor", "wall", "pendant", "throw", "cushion", "curtain", "wool", "linen",
];

/// "under 800", "below 1.000 kr", "less than 1000", "max 500", "up to 700": the upper price.
pub fn price_limit(q: &str) -> Option<f64> {
    for marker in [
        "under",
        "below",
        "less than",
        "max",
        "up to",
        "cheaper than",
        "at most",
    ] {
        if let Some(i) = q.find(marker) {
            let rest = &q[i + marker.len()..];
            let digits: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
                .filter(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse::<f64>() {
                return Some(n);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Vec<CatalogueItem> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/catalogue.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn product_search_by_name_category_and_price() {
        let catalogue = demo();
        let ids = |q: &str| {
            search_products(&catalogue, q)
                .map(|items| items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>())
        };
        assert_eq!(ids("Tell me about the Skagen"), Some(vec!["skagen"]));
        assert_eq!(ids("Do you have a floor lamp?"), Some(vec!["skagen"]));
        assert_eq!(
            ids("Which lamps do you have?"),
            Some(vec!["fjord", "lys", "aurora", "skagen"])
        );
        assert_eq!(
            ids("Show me textiles"),
            Some(vec!["bolge", "hygge", "nord"])
        );
        assert_eq!(ids("lamps under 1000 kr"), Some(vec!["fjord", "lys"]));
        assert_eq!(
            ids("What can I buy below 600?"),
            Some(vec!["bolge", "hygge"])
        );
        assert_eq!(ids("What is your cheapest product?"), Some(vec!["bolge"]));
        assert_eq!(ids("your most expensive lamp"), Some(vec!["skagen"]));
        assert_eq!(ids("How long does shipping take?"), None);
    }

    #[test]
    fn bad_catalogues_name_the_problem() {
        let mut items = demo();
        assert_eq!(check_catalogue(&items), Ok(()));
        items[1].price = f64::NAN;
        assert!(check_catalogue(&items).unwrap_err().contains("price"));
        items[1] = items[0].clone();
        assert!(check_catalogue(&items).unwrap_err().contains("twice"));
        let err = serde_json::from_str::<Vec<CatalogueItem>>(
            r#"[{"id":"x","title":"X","category":"C","url":"/x","price":1,"colour":"red"}]"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
