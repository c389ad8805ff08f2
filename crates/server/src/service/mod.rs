//! What each request means, apart from how it arrived (REST or WebSocket).

pub mod accounts;
pub mod events;
pub mod notifications;
pub mod secrets;
