//! One integration-test binary (every top-level file in tests/ would be its own crate).
//! Every test talks HTTP to a real server on a random loopback port, except the few that
//! drive the application in-process (paused time, a shutdown held in hand).
//!
//! Conventions: test names are sentences. A blank line separates a test's set-up, what it
//! does and what it checks, without Arrange/Act/Assert labels: most tests run a table, or
//! both URL forms, in a loop where acting and checking alternate, and a label would mislead
//! there. Each row of a table names its case, and the failure message prints it.

mod address_configurations;
mod binary;
mod bindings;
mod chat;
mod chat_bindings;
mod chat_invites;
mod chat_members;
mod chat_roles;
mod chat_services;
mod chat_users;
mod concurrency;
mod control;
mod conversation_webhooks;
mod conversation_with_participants;
mod conversations;
mod credentials;
mod dates;
mod edge;
mod emulator;
mod errors;
mod helpers;
mod inspector;
mod links;
mod media;
mod memory;
mod messages;
mod operator;
mod oversized_bodies;
mod pagination;
mod participant_conversations;
mod participants;
mod persistence;
mod proxy;
mod receiver;
mod request_bodies;
mod roles;
mod sdk;
mod services;
mod spec_paths;
mod tenancy;
mod timers;
mod users;
mod webhook_configuration;
mod webhook_persistence;
mod webhooks;
