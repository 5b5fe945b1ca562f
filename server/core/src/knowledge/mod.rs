//! What a chatbot knows (issue 26). Sources a site owner adds (websites, files, curated
//! answers, product feeds) are fetched ([`fetch`]) into documents the store keeps; pages are
//! split into passages ([`extract`]) in their language ([`lang`]); each chatbot's documents
//! become a [`base::KnowledgeBase`] in memory, with BM25 retrieval ([`index`]) and product
//! search ([`products`]); [`sync`] keeps sources and bases up to date.

pub mod base;
pub mod extract;
pub mod fetch;
pub mod index;
pub mod lang;
pub mod products;
pub mod sync;
