-- Usher on PostgreSQL: organizations, users, passwords, sessions, settings, audit log.
-- Same tables and rules as the SQLite schema, in native types: uuid ids (v7:
-- time-ordered), timestamptz times, bytea digests, boolean flags, jsonb values.

CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    name        text NOT NULL,
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX organizations_one_default ON organizations (is_default) WHERE is_default;

CREATE TABLE users (
    id                   uuid PRIMARY KEY,
    org_id               uuid NOT NULL REFERENCES organizations (id),
    user_id              text NOT NULL,
    user_id_key          text NOT NULL,
    email                text,
    email_key            text,
    first_name           text,
    last_name            text,
    phone                text,
    contact_person       text,
    company              text,
    language             text NOT NULL DEFAULT 'en',
    timezone             text NOT NULL DEFAULT 'UTC',
    status               text NOT NULL,
    password_hash        text,
    password_changed_at  timestamptz,
    must_change_password boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    last_login_at        timestamptz
);
-- The store maps conflicts by these names: "user_id" → users_user_id, "email" → users_email.
CREATE UNIQUE INDEX users_org_user_id_key ON users (org_id, user_id_key);
CREATE UNIQUE INDEX users_org_email_key ON users (org_id, email_key);

CREATE TABLE user_roles (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    text NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role ON user_roles (role, user_id);

-- seq orders entries written at the same instant (SQLite uses its rowid).
CREATE TABLE password_history (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, created_at);

CREATE TABLE sessions (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_digest   bytea NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL,
    last_active_at  timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    address         text,
    client          text
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE settings (
    org_id     uuid NOT NULL REFERENCES organizations (id),
    key        text NOT NULL,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, key)
);

-- No foreign keys to users: entries outlive the people they name.
CREATE TABLE audit_events (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL,
    at          timestamptz NOT NULL,
    action      text NOT NULL,
    actor_id    uuid,
    actor_name  text,
    target_id   uuid,
    target_name text,
    address     text,
    client      text,
    details     jsonb NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, id);
CREATE INDEX audit_events_action ON audit_events (org_id, action, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_target ON audit_events (target_id, id);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE setup_tokens (
    digest     bytea PRIMARY KEY,
    org_id     uuid NOT NULL REFERENCES organizations (id),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
