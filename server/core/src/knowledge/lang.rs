//! The languages the knowledge is analysed in: those the widget speaks that have a stemmer
//! (tantivy's Snowball stemmers and stop-word lists), and detecting a text's language
//! (`whatlang`).

use tantivy::tokenizer::Language as Stem;

/// A language a passage or a question is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    En,
    Da,
    Sv,
    Nb,
    De,
    Nl,
    Fr,
    Es,
    It,
    Pt,
    Fi,
    /// Arabic and Hebrew (which the widget speaks) and others: indexed language-blind.
    Other,
}

impl Lang {
    pub const ALL: [Lang; 12] = [
        Lang::En,
        Lang::Da,
        Lang::Sv,
        Lang::Nb,
        Lang::De,
        Lang::Nl,
        Lang::Fr,
        Lang::Es,
        Lang::It,
        Lang::Pt,
        Lang::Fi,
        Lang::Other,
    ];

    /// The BCP 47 primary tag (`other` for the rest).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Da => "da",
            Lang::Sv => "sv",
            Lang::Nb => "nb",
            Lang::De => "de",
            Lang::Nl => "nl",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::It => "it",
            Lang::Pt => "pt",
            Lang::Fi => "fi",
            Lang::Other => "other",
        }
    }

    /// A tag such as `da`, `de-DE`, `no`, `nn-NO` (an unknown one: [`Lang::Other`]); `None`
    /// for an empty tag.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        if primary.is_empty() {
            return None;
        }
        Some(match primary.as_str() {
            "en" => Lang::En,
            "da" => Lang::Da,
            "sv" => Lang::Sv,
            "nb" | "nn" | "no" => Lang::Nb,
            "de" => Lang::De,
            "nl" => Lang::Nl,
            "fr" => Lang::Fr,
            "es" => Lang::Es,
            "it" => Lang::It,
            "pt" => Lang::Pt,
            "fi" => Lang::Fi,
            _ => Lang::Other,
        })
    }

    /// Its stemmer and stop words, when it has them.
    pub fn stemmer(self) -> Option<Stem> {
        Some(match self {
            Lang::En => Stem::English,
            Lang::Da => Stem::Danish,
            Lang::Sv => Stem::Swedish,
            Lang::Nb => Stem::Norwegian,
            Lang::De => Stem::German,
            Lang::Nl => Stem::Dutch,
            Lang::Fr => Stem::French,
            Lang::Es => Stem::Spanish,
            Lang::It => Stem::Italian,
            Lang::Pt => Stem::Portuguese,
            Lang::Fi => Stem::Finnish,
            Lang::Other => return None,
        })
    }
}

/// [`detect`], only when the guess is a safe one (short texts often are not: "Do you offer gift
/// wrapping?" reads as German).
pub fn detect_reliable(text: &str) -> Option<Lang> {
    detect_with(text, true)
}

/// The language of `text`, among the languages we analyse (and Arabic, Hebrew and Russian, as
/// [`Lang::Other`]); `None` when it has no letters to tell.
pub fn detect(text: &str) -> Option<Lang> {
    detect_with(text, false)
}

fn detect_with(text: &str, reliable_only: bool) -> Option<Lang> {
    use whatlang::{Detector, Lang as W};
    static DETECTOR: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    let detector = DETECTOR.get_or_init(|| {
        Detector::with_allowlist(vec![
            W::Eng,
            W::Dan,
            W::Swe,
            W::Nob,
            W::Deu,
            W::Nld,
            W::Fra,
            W::Spa,
            W::Ita,
            W::Por,
            W::Fin,
            W::Ara,
            W::Heb,
            W::Rus,
        ])
    });
    // The best guess, however close: Danish and Norwegian are often a near thing, and either
    // stemmer serves the other well enough (a question is analysed for every language held).
    let info = detector
        .detect(text)
        .filter(|i| !reliable_only || i.is_reliable())?;
    Some(match info.lang() {
        W::Eng => Lang::En,
        W::Dan => Lang::Da,
        W::Swe => Lang::Sv,
        W::Nob => Lang::Nb,
        W::Deu => Lang::De,
        W::Nld => Lang::Nl,
        W::Fra => Lang::Fr,
        W::Spa => Lang::Es,
        W::Ita => Lang::It,
        W::Por => Lang::Pt,
        W::Fin => Lang::Fi,
        _ => Lang::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_detection() {
        assert_eq!(Lang::from_tag("de-DE"), Some(Lang::De));
        assert_eq!(Lang::from_tag("nn"), Some(Lang::Nb));
        assert_eq!(Lang::from_tag("ar"), Some(Lang::Other));
        assert_eq!(Lang::from_tag(""), None);
        assert_eq!(
            detect("Vi sender til hele Norden, og fragten er gratis over 500 kroner."),
            Some(Lang::Da)
        );
        assert_eq!(
            detect("Der Versand kostet 49 Kronen, ab 500 Kronen ist er kostenlos."),
            Some(Lang::De)
        );
        assert_eq!(
            detect("We deliver to the Nordic countries and the rest of the European Union."),
            Some(Lang::En)
        );
    }
}

#[cfg(test)]
mod reliable_tests {
    #[test]
    fn a_short_english_answer_is_not_taken_for_german() {
        let text = "Do you offer gift wrapping?\nYes: gift wrapping costs 25 kr and you choose it at checkout.";
        assert_ne!(super::detect_reliable(text), Some(super::Lang::De));
    }
}
