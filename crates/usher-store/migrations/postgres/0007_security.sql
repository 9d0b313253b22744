-- Two-step verification, sign-in tickets, sign-in protection, password-expiry
-- reminders and session listing (issue 6). Same tables as on SQLite.

-- A user's TOTP authenticator. The secret is encrypted (ChaCha20-Poly1305 under
-- the key in server_secrets, bound to the user id); confirmed_at is NULL while
-- enrolment waits for a first code. last_step is the last accepted time step, so
-- a code is accepted once.
CREATE TABLE mfa_totp (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    last_step    bigint
);

-- Single-use recovery codes: SHA-256 digests of high-entropy codes.
CREATE TABLE mfa_recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest     bytea NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, digest)
);

-- The ticket between a correct password and the second step: short-lived,
-- single use, only its digest stored.
CREATE TABLE login_tickets (
    digest     bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0
);
CREATE INDEX login_tickets_user ON login_tickets (user_id);
CREATE INDEX login_tickets_expires ON login_tickets (expires_at);

-- Failed sign-ins per account (u:<id>, or l:<digest of organization and login>
-- for names no account has, so they lock the same way) and per client address
-- (a:<address>). Rows, not memory: every node sees the same counts and locks.
CREATE TABLE login_throttle (
    key             text PRIMARY KEY,
    failures        integer NOT NULL,
    window_start    timestamptz NOT NULL,
    last_failure_at timestamptz NOT NULL,
    locked_until    timestamptz
);
CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure_at);

-- Keys the server makes once and shares between nodes (the TOTP encryption key).
CREATE TABLE server_secrets (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

-- Which password a user was reminded about (its change time), so each reminder
-- goes out once; batch marks the rows one pass claimed.
CREATE TABLE password_reminders (
    user_id             uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_changed_at timestamptz NOT NULL,
    batch               uuid NOT NULL,
    reminded_at         timestamptz NOT NULL
);
CREATE INDEX password_reminders_batch ON password_reminders (batch);

CREATE INDEX users_org_password_changed ON users (org_id, password_changed_at);
CREATE INDEX sessions_user_id ON sessions (user_id, id);
CREATE INDEX settings_key ON settings (key, org_id);
