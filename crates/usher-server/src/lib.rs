//! Usher's HTTP server: the REST API (`api`), the web UI (`web`), configuration
//! and start-up. Handlers are thin: they extract, call one `usher-core` service
//! and map the result.

pub mod api;
pub mod app;
pub mod config;
pub mod error;
pub mod export;
pub mod extract;
pub mod jobs;
pub mod mail;
pub mod web;

pub use app::{Server, ServerBuilder, build, open_store, open_usher};
pub use config::{Config, Overrides};
