//! Usher's integration suite: one test binary, every test against a freshly
//! spawned server (port 0) on a fresh database. `USHER_TEST_DATABASE=postgres`
//! runs the same suite on PostgreSQL.

mod helpers;

mod audit;
mod auth;
mod browser;
mod errors;
mod passwords;
mod profile;
mod setup;
mod tokens;
