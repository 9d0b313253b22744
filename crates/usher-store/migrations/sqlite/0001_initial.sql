-- Usher on SQLite: organizations, users, passwords, sessions, settings, audit log.
-- UUIDs are 16-byte BLOBs (v7: time-ordered), times RFC 3339 UTC text.

CREATE TABLE organizations (
    id          BLOB PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX organizations_one_default ON organizations (is_default) WHERE is_default = 1;

CREATE TABLE users (
    id                  BLOB PRIMARY KEY,
    org_id              BLOB NOT NULL REFERENCES organizations (id),
    user_id             TEXT NOT NULL,
    user_id_key         TEXT NOT NULL,
    email               TEXT,
    email_key           TEXT,
    first_name          TEXT,
    last_name           TEXT,
    phone               TEXT,
    contact_person      TEXT,
    company             TEXT,
    language            TEXT NOT NULL DEFAULT 'en',
    timezone            TEXT NOT NULL DEFAULT 'UTC',
    status              TEXT NOT NULL,
    password_hash       TEXT,
    password_changed_at TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    last_login_at       TEXT
);
CREATE UNIQUE INDEX users_org_user_id_key ON users (org_id, user_id_key);
CREATE UNIQUE INDEX users_org_email_key ON users (org_id, email_key);

CREATE TABLE user_roles (
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role ON user_roles (role, user_id);

CREATE TABLE password_history (
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, created_at);

CREATE TABLE sessions (
    id              BLOB PRIMARY KEY,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_digest   BLOB NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    last_active_at  TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    address         TEXT,
    client          TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE settings (
    org_id     BLOB NOT NULL REFERENCES organizations (id),
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, key)
);

-- No foreign keys to users: entries outlive the people they name.
CREATE TABLE audit_events (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL,
    at          TEXT NOT NULL,
    action      TEXT NOT NULL,
    actor_id    BLOB,
    actor_name  TEXT,
    target_id   BLOB,
    target_name TEXT,
    address     TEXT,
    client      TEXT,
    details     TEXT NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, id);
CREATE INDEX audit_events_action ON audit_events (org_id, action, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_target ON audit_events (target_id, id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE setup_tokens (
    digest     BLOB PRIMARY KEY,
    org_id     BLOB NOT NULL REFERENCES organizations (id),
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
