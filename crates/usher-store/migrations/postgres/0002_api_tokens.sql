-- Personal API tokens: only a SHA-256 digest of the secret is kept.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id       uuid NOT NULL REFERENCES organizations (id),
    description  text NOT NULL,
    client       text NOT NULL,
    scopes       text NOT NULL,
    digest       bytea NOT NULL UNIQUE,
    first_chars  text NOT NULL,
    last_chars   text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    created_by   uuid
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);
CREATE INDEX api_tokens_expiry ON api_tokens (expires_at) WHERE revoked_at IS NULL;
