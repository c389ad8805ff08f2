//! What each request means, apart from how it arrived (REST or WebSocket).

pub mod accounts;
pub mod chat;
pub mod contacts;
pub mod events;
pub mod notifications;
pub mod principals;
pub mod rooms;
pub mod secrets;
pub mod tokens;
