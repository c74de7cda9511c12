//! One integration-test binary (every top-level file in tests/ would be its own crate).
//! Every test talks HTTP to a real server on a random loopback port.

mod binary;
mod chat;
mod concurrency;
mod control;
mod conversations;
mod dates;
mod emulator;
mod errors;
mod helpers;
mod media;
mod messages;
mod pagination;
mod participants;
mod persistence;
mod sdk;
mod services;
mod tenancy;
