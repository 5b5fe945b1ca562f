//! What every HTTP adapter shares: the seed's `ApiError` envelope ([`error`]), the extractors
//! for the three kinds of caller ([`auth`]: visitor token, chatbot API key, livechat session
//! token), the widget's static files ([`assets`]) and what browsers are told to enforce
//! ([`security`]: CSP, CORS, the client's address).

pub mod assets;
pub mod auth;
pub mod demo_shop;
pub mod error;
pub mod launcher;
pub mod security;
