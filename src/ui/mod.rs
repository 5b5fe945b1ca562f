//! The views: one component per file, reading the narrow state handles they need
//! (`state::expect`). Above `state`; nothing imports `ui` but `lib.rs`.
//!
//! - [`app`]: the app: the page's state, host commands, the window drawn once.
//! - window chrome: [`header`], [`log`] (with [`delivery`] under each message), [`composer`],
//!   [`controls`] (rating and deletion), [`popup`] (beside the closed launcher).
//! - [`parts`]: one renderer per part type; [`markers`]: the parts that ask the visitor for
//!   something; [`livechat`]: the livechat's views.
//! - [`answer_actions`]: under an answer, feedback, copy, ask again, read aloud, follow-ups;
//!   under the last question, edit; [`chips`]: questions to click (starter prompts,
//!   follow-ups); [`when`]: a message's time and day; [`voice`]: dictation.
//! - [`chunk`]: drawing what a lazily loaded chunk draws; [`stars`]: a five-star rating.

pub mod answer_actions;
pub mod app;
pub mod chips;
pub mod chunk;
pub mod composer;
pub mod controls;
pub mod delivery;
pub mod header;
pub mod livechat;
pub mod log;
pub mod markers;
pub mod parts;
pub mod popup;
pub mod stars;
pub mod voice;
pub mod when;
