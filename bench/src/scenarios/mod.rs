//! One module per group of targets; each takes a running target and returns
//! what it measured.

pub mod broadcast;
pub mod chat;
pub mod crash;
pub mod durable;
pub mod idle;
pub mod login;
pub mod personal;
