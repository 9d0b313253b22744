// The SQL both engines share, one module per aggregate. Each engine module
// includes this file, so every query here is compiled once per engine, against
// that engine's types, and leans on what the engine module defines:
// `Db` (its store), `DbRow`, `Engine`, `map_err`, `backend`, `Db::read` and
// `Db::write`, `lock`, `relax_durability`, `id_list` and the `in_ids!`,
// `id_rows!`, `skip_locked!` fragments. Placeholders are `$N` on both engines.

#[macro_use]
#[path = "../sql/columns.rs"]
mod columns;
#[path = "../sql/access.rs"]
mod access;
#[path = "../sql/audit.rs"]
mod audit;
#[path = "../sql/directory.rs"]
mod directory;
#[path = "../sql/import.rs"]
mod import;
#[path = "../sql/invitations.rs"]
mod invitations;
#[path = "../sql/lockout.rs"]
mod lockout;
#[path = "../sql/mail.rs"]
mod mail;
#[path = "../sql/organizations.rs"]
mod organizations;
#[path = "../sql/rows.rs"]
mod rows;
#[path = "../sql/sessions.rs"]
mod sessions;
#[path = "../sql/settings.rs"]
mod settings;
#[path = "../sql/store.rs"]
mod store;
#[path = "../sql/tokens.rs"]
mod tokens;
#[path = "../sql/two_step.rs"]
mod two_step;
#[path = "../sql/users.rs"]
mod users;
