//! Seed 004: Dosti's Socket.IO events and REST pipeline bodies.
