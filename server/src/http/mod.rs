//! What every HTTP adapter shares:
//!
//! - [`error`]: the seed's `ApiError` envelope, core errors mapped to seed 002's codes and
//!   English messages, the JSON body extractor.
//! - [`auth`]: the extractors for the three kinds of caller (visitor token, chatbot API key,
//!   livechat session token) and the tokens themselves.
//! - [`origin`]: whether a host page's origin is one the chatbot allows.
//! - [`security`]: what browsers are told to enforce (CSP, CORS, framing) and the client's
//!   address behind trusted proxies.
//! - [`language`]: the visitor's language from the request.
//! - [`assets`]: the widget's static files, the demo pages and the agent console.
//! - [`launcher`]: the launcher's look (`GET /launcher/{chatbot_id}`).
//! - [`demo_shop`]: the demo shop's own backend (its order lookup, for custom actions).

pub mod assets;
pub mod auth;
pub mod demo_shop;
pub mod error;
pub mod language;
pub mod launcher;
pub mod origin;
pub mod security;
