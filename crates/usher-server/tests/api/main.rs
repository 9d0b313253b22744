//! Usher's integration suite: one test binary, every test against a freshly
//! spawned server (port 0) on a fresh database. `USHER_TEST_DATABASE=postgres`
//! runs the same suite on PostgreSQL.

mod helpers;
mod mailbox;
mod matrix;

mod access;
mod audit;
mod audit_export;
mod auth;
mod authority;
mod authz;
mod browser;
mod conflicts;
mod database;
mod directory;
mod edges;
mod errors;
mod expiry;
mod forced_change;
mod import;
mod input;
mod invitations;
mod lockout;
mod lockout_burst;
mod mail;
mod metadata;
mod mfa;
mod openapi;
mod passwords;
mod profile;
mod recovery;
mod sessions;
mod setup;
mod tokens;
mod users;
mod web_authz;
