//! Seed 003: WebChatAgent's `POST /api/chat` bodies and `/api/livechat` WebSocket events.
