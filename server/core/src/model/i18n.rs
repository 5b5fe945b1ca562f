//! The widget's languages (issue 17): which language a visitor's chat is in, and the words the
//! widget shows in it.
//!
//! The catalogues are `server/locales/<language>.json`, one object per language from the
//! English text the widget is written in (`src/logic/i18n.rs`, gettext's way) to its translation;
//! `en.json` maps each string to itself and is the list of every string the widget shows (a
//! test checks it against the widget's source, and every catalogue against it). They are built
//! into the server; a visitor's configuration carries only their language's.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// Every catalogue, by language tag. English first: the fallback.
const CATALOGUES: [(&str, &str); 10] = [
    ("en", include_str!("../../../locales/en.json")),
    ("da", include_str!("../../../locales/da.json")),
    ("sv", include_str!("../../../locales/sv.json")),
    ("nb", include_str!("../../../locales/nb.json")),
    ("de", include_str!("../../../locales/de.json")),
    ("nl", include_str!("../../../locales/nl.json")),
    ("fr", include_str!("../../../locales/fr.json")),
    ("es", include_str!("../../../locales/es.json")),
    ("ar", include_str!("../../../locales/ar.json")),
    ("he", include_str!("../../../locales/he.json")),
];

type Catalogue = BTreeMap<String, String>;

fn catalogues() -> &'static BTreeMap<&'static str, Catalogue> {
    static PARSED: OnceLock<BTreeMap<&'static str, Catalogue>> = OnceLock::new();
    PARSED.get_or_init(|| {
        CATALOGUES
            .iter()
            .map(|(tag, text)| {
                let catalogue = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("server/locales/{tag}.json: {e}"));
                (*tag, catalogue)
            })
            .collect()
    })
}

/// The languages with a catalogue.
pub fn languages() -> impl Iterator<Item = &'static str> {
    CATALOGUES.iter().map(|(tag, _)| *tag)
}

/// Every string the widget shows, in English.
pub fn english() -> &'static Catalogue {
    &catalogues()["en"]
}

/// The catalogue of `language`, if there is one.
pub fn catalogue(language: &str) -> Option<&'static Catalogue> {
    catalogues().get(with_catalogue(language)?)
}

/// The catalogue that serves `tag`: `da-DK` → `da`; Norwegian (`no`, `nn`) → Bokmål.
fn with_catalogue(tag: &str) -> Option<&'static str> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    let primary = match primary.as_str() {
        "no" | "nn" => "nb",
        "iw" => "he",
        other => other,
    };
    languages().find(|l| *l == primary)
}

/// A configured language: `auto`, or a BCP 47 tag (`da`, `de-AT`, `pt-BR`): letters, digits
/// and `-`, starting with two or three letters.
pub fn is_language(tag: &str) -> bool {
    let primary = tag.split('-').next().unwrap_or("");
    tag == "auto"
        || ((2..=3).contains(&primary.len())
            && primary.bytes().all(|b| b.is_ascii_alphabetic())
            && tag.len() <= 35
            && tag.split('-').all(|s| {
                (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
            }))
}

/// The language of a visitor's chat: the chatbot's `language`; with `"auto"`, the first of the
/// visitor's `Accept-Language` (most wanted first) that has a catalogue, else `default`.
pub fn resolve(configured: &str, default: &str, accept_language: Option<&str>) -> String {
    if configured != "auto" {
        return configured.to_owned();
    }
    let mut wanted: Vec<(f32, usize, &str)> = accept_language
        .unwrap_or("")
        .split(',')
        .enumerate()
        .filter_map(|(i, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (q > 0.0 && tag != "*" && !tag.is_empty()).then_some((q, i, tag))
        })
        .collect();
    wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    wanted
        .into_iter()
        .find(|(_, _, tag)| with_catalogue(tag).is_some())
        .map_or_else(|| default.to_owned(), |(_, _, tag)| tag.to_owned())
}

/// `[chatbot.strings]`: overrides of the widget's words, keyed by the English text. A string
/// value applies in every language; a table (`[chatbot.strings.da]`) only in that one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Overrides(BTreeMap<String, Override>);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum Override {
    All(String),
    Language(BTreeMap<String, String>),
}

impl Overrides {
    /// The first override whose key is not a string the widget shows, or whose language table
    /// names an unknown language, as `(key, why)`.
    pub fn check(&self) -> Result<(), (String, String)> {
        let unknown = |k: &String| {
            (
                k.clone(),
                "is not a string the widget shows (server/locales/en.json lists them)".to_owned(),
            )
        };
        for (key, value) in &self.0 {
            match value {
                Override::All(_) if !english().contains_key(key) => return Err(unknown(key)),
                Override::All(_) => {}
                Override::Language(_) if !is_language(key) || key == "auto" => {
                    return Err((key.clone(), "is not a language tag like \"da\"".into()));
                }
                Override::Language(table) => {
                    if let Some(k) = table.keys().find(|k| !english().contains_key(*k)) {
                        return Err((format!("{key}.{k}"), unknown(k).1));
                    }
                }
            }
        }
        Ok(())
    }

    /// The widget's words in `language`: its catalogue (nothing for English, whose words are
    /// the keys), then the overrides for every language, then those for this language.
    pub fn strings(&self, language: &str) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = catalogue(language)
            .into_iter()
            .flatten()
            .filter(|(k, v)| k != v)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let primary = language.split('-').next().unwrap_or("");
        for (key, value) in &self.0 {
            if let Override::All(text) = value {
                out.insert(key.clone(), text.clone());
            }
        }
        for (key, value) in &self.0 {
            if let Override::Language(table) = value
                && (key.eq_ignore_ascii_case(language) || key.eq_ignore_ascii_case(primary))
            {
                out.extend(table.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        out
    }
}

/// `starter_prompts`: questions the widget offers as chips before the visitor's first message.
/// A list applies in every language (`starter_prompts = ["…"]`); a table of lists
/// (`[chatbot.starter_prompts]` with `en = ["…"]`, `da = ["…"]`) per language.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StarterPrompts {
    All(Vec<String>),
    Language(BTreeMap<String, Vec<String>>),
}

impl Default for StarterPrompts {
    fn default() -> Self {
        StarterPrompts::All(vec![])
    }
}

impl StarterPrompts {
    /// The most prompts offered at once.
    pub const MAX: usize = 6;
    /// The longest prompt, in characters.
    pub const MAX_CHARS: usize = 120;

    /// The first mistake, as `(field, why)`: the field is `[2]` or `da[2]` (an index into
    /// the list), or `da` (the language or its list).
    pub fn check(&self) -> Result<(), (String, String)> {
        let list = |at: String, prompts: &[String]| -> Result<(), (String, String)> {
            if prompts.len() > Self::MAX {
                return Err((at, format!("at most {} prompts", Self::MAX)));
            }
            for (i, p) in prompts.iter().enumerate() {
                let n = p.trim().chars().count();
                if n == 0 || n > Self::MAX_CHARS {
                    return Err((
                        format!("{at}[{i}]"),
                        format!("1 to {} characters", Self::MAX_CHARS),
                    ));
                }
            }
            Ok(())
        };
        match self {
            StarterPrompts::All(prompts) => list(String::new(), prompts),
            StarterPrompts::Language(table) => {
                for (tag, prompts) in table {
                    if !is_language(tag) || tag == "auto" {
                        return Err((tag.clone(), "is not a language tag like \"da\"".into()));
                    }
                    list(tag.clone(), prompts)?;
                }
                Ok(())
            }
        }
    }

    /// The prompts for a visitor whose chat is in `language`: that language's (`da-DK`, else
    /// `da`), else those of `default` (the chatbot's default language), else none.
    pub fn for_language(&self, language: &str, default: &str) -> Vec<String> {
        let table = match self {
            StarterPrompts::All(prompts) => return trimmed(prompts),
            StarterPrompts::Language(table) => table,
        };
        let find = |tag: &str| {
            let primary = tag.split(['-', '_']).next().unwrap_or("");
            table
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(tag))
                .or_else(|| table.iter().find(|(k, _)| k.eq_ignore_ascii_case(primary)))
                .map(|(_, prompts)| trimmed(prompts))
        };
        find(language).or_else(|| find(default)).unwrap_or_default()
    }
}

fn trimmed(prompts: &[String]) -> Vec<String> {
    prompts.iter().map(|p| p.trim().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_takes_the_first_wanted_language_with_a_catalogue() {
        let r = |accept| resolve("auto", "en", accept);
        assert_eq!(r(Some("da-DK,da;q=0.9,en;q=0.8")), "da-DK");
        assert_eq!(r(Some("pt-BR,pt;q=0.9,sv;q=0.5")), "sv");
        assert_eq!(r(Some("en;q=0.5,de;q=0.9")), "de", "by quality, not order");
        assert_eq!(r(Some("nn")), "nn", "Nynorsk readers get the Bokmål words");
        assert_eq!(r(Some("fi,*;q=0.1")), "en");
        assert_eq!(r(None), "en");
        assert_eq!(
            resolve("auto", "da", Some("ja")),
            "da",
            "the chatbot's default"
        );
        assert_eq!(
            resolve("de", "en", Some("fr")),
            "de",
            "a fixed language stays"
        );
    }

    #[test]
    fn strings_come_from_the_catalogue_then_the_overrides() {
        assert!(Overrides::default().strings("en").is_empty());
        let da = Overrides::default().strings("da-DK");
        assert_eq!(da["Send message"], catalogue("da").unwrap()["Send message"]);
        assert_eq!(catalogue("no"), catalogue("nb"));
        let o: Overrides = toml::from_str(
            "\"Write a message…\" = \"Ask us anything…\"\n[da]\n\"Write a message…\" = \"Spørg os om alt…\"\n",
        )
        .unwrap();
        o.check().unwrap();
        assert_eq!(o.strings("en")["Write a message…"], "Ask us anything…");
        assert_eq!(o.strings("da")["Write a message…"], "Spørg os om alt…");
        assert_eq!(o.strings("sv")["Write a message…"], "Ask us anything…");
        let typo: Overrides = toml::from_str("\"Write a mesage…\" = \"x\"\n").unwrap();
        assert_eq!(typo.check().unwrap_err().0, "Write a mesage…");
        let typo: Overrides = toml::from_str("[xx-]\n\"Send\" = \"x\"\n").unwrap();
        assert!(typo.check().is_err());
    }

    #[test]
    fn starter_prompts_follow_the_visitors_language_then_the_default() {
        #[derive(Deserialize)]
        struct File {
            starter_prompts: StarterPrompts,
        }
        let parse = |text: &str| toml::from_str::<File>(text).unwrap().starter_prompts;
        let all = parse("starter_prompts = [\" Shipping? \", \"Returns?\"]\n");
        all.check().unwrap();
        assert_eq!(all.for_language("de", "en"), ["Shipping?", "Returns?"]);
        let table = parse(
            "[starter_prompts]\nen = [\"How long does shipping take?\"]\nda = [\"Hvad koster fragt?\"]\nde-AT = [\"Servus?\"]\n",
        );
        table.check().unwrap();
        assert_eq!(table.for_language("da-DK", "en"), ["Hvad koster fragt?"]);
        assert_eq!(table.for_language("de-AT", "en"), ["Servus?"]);
        assert_eq!(
            table.for_language("sv", "en"),
            ["How long does shipping take?"]
        );
        assert!(table.for_language("sv", "fi").is_empty());
        assert!(
            StarterPrompts::default()
                .for_language("en", "en")
                .is_empty()
        );
        let seven = parse("starter_prompts = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\"]\n");
        assert_eq!(seven.check().unwrap_err().0, "");
        let blank = parse("[starter_prompts]\nda = [\"Hej\", \"  \"]\n");
        assert_eq!(blank.check().unwrap_err().0, "da[1]");
        let long = parse(&format!("starter_prompts = [\"{}\"]\n", "x".repeat(121)));
        assert_eq!(long.check().unwrap_err().0, "[0]");
        let tag = parse("[starter_prompts]\nDanish = [\"Hej\"]\n");
        assert_eq!(tag.check().unwrap_err().0, "Danish");
    }

    /// Every catalogue translates exactly the strings the widget shows, and keeps each `{}`.
    #[test]
    fn every_catalogue_has_every_string_and_its_placeholders() {
        for language in languages() {
            let c = catalogue(language).unwrap();
            let missing: Vec<_> = english().keys().filter(|k| !c.contains_key(*k)).collect();
            let extra: Vec<_> = c.keys().filter(|k| !english().contains_key(*k)).collect();
            assert!(missing.is_empty(), "{language}.json lacks {missing:?}");
            assert!(extra.is_empty(), "{language}.json has unknown {extra:?}");
            for (k, v) in c {
                assert_eq!(
                    k.matches("{}").count(),
                    v.matches("{}").count(),
                    "{language}.json: {k:?} → {v:?} keeps its {{}}s"
                );
                assert!(!v.trim().is_empty(), "{language}.json: {k:?} is empty");
                if language != "en" && k.split_whitespace().count() > 1 {
                    // A sentence left in English is not translated (one word may be the same:
                    // "Chat" in German).
                    assert!(k != v, "{language}.json: {k:?} is English");
                }
            }
        }
        for (k, v) in english() {
            assert_eq!(k, v, "en.json maps each string to itself");
        }
    }

    /// `en.json` is exactly the strings the widget's source passes to `t` and `t_with`.
    #[test]
    fn the_english_catalogue_is_the_widgets_strings() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        // Every file of the widget's source, in its folders too.
        let mut files = vec![];
        let mut dirs = vec![root.join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        files.push(root.join("protocol/src/forms.rs"));
        files.push(root.join("server/src/http/launcher.rs"));
        let mut used = std::collections::BTreeSet::new();
        for path in files {
            let text = std::fs::read_to_string(path).unwrap();
            for call in ["t(\"", "t_with(\"", "tr(\""] {
                for (at, _) in text.match_indices(call) {
                    // `t(` itself, not `set(` or `.t(`.
                    let before = text[..at].chars().next_back().unwrap_or(' ');
                    if before.is_alphanumeric() || before == '_' || before == '.' {
                        continue;
                    }
                    let rest = &text[at + call.len()..];
                    used.insert(rest[..rest.find('"').unwrap()].to_owned());
                }
            }
        }
        let known: std::collections::BTreeSet<_> = english().keys().cloned().collect();
        let missing: Vec<_> = used.difference(&known).collect();
        let unused: Vec<_> = known.difference(&used).collect();
        assert!(
            missing.is_empty(),
            "add to server/locales/*.json: {missing:?}"
        );
        assert!(unused.is_empty(), "no longer in the widget: {unused:?}");
    }
}
