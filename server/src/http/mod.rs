//! What every HTTP adapter shares: the seed's `ApiError` envelope ([`error`]), the extractors
//! for the three kinds of caller ([`auth`]: visitor token, chatbot API key, livechat session
//! token) and the widget's static files ([`assets`]).

pub mod assets;
pub mod auth;
pub mod error;
