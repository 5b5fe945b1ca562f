//! Seed 001: the frames of DGbot's WebSocket (`/ws`).
