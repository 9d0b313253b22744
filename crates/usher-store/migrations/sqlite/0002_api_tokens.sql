-- Personal API tokens: only a SHA-256 digest of the secret is kept.
CREATE TABLE api_tokens (
    id           BLOB PRIMARY KEY,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id       BLOB NOT NULL REFERENCES organizations (id),
    description  TEXT NOT NULL,
    client       TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    digest       BLOB NOT NULL UNIQUE,
    first_chars  TEXT NOT NULL,
    last_chars   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT,
    created_by   BLOB
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);
CREATE INDEX api_tokens_expiry ON api_tokens (expires_at) WHERE revoked_at IS NULL;
