//! What a chatbot knows (issue 26): pages split into passages ([`extract`]), the passages'
//! languages ([`lang`]), and retrieval over them ([`index`]).
//!
//! This is the knowledge's foundation; sources that a site owner adds (websites, files, Q&A,
//! product feeds), keeping the passages in the store and answering from them with citations
//! build on it.

pub mod extract;
pub mod index;
pub mod lang;
