-- Invitations by email. The link's secret is never stored, only its SHA-256 digest.
-- closed_at is set when an invitation stops counting as pending (accepted,
-- withdrawn, or expired and replaced), so at most one per address is pending.
CREATE TABLE invitations (
    id               BLOB PRIMARY KEY,
    org_id           BLOB NOT NULL REFERENCES organizations (id),
    email            TEXT NOT NULL,
    email_key        TEXT NOT NULL,
    user_id          BLOB REFERENCES users (id) ON DELETE CASCADE,
    roles            TEXT NOT NULL,
    invited_by       BLOB REFERENCES users (id) ON DELETE SET NULL,
    invited_by_name  TEXT,
    digest           BLOB NOT NULL UNIQUE,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    accepted_at      TEXT,
    accepted_user_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    withdrawn_at     TEXT,
    closed_at        TEXT
);
CREATE UNIQUE INDEX invitations_pending ON invitations (org_id, email_key) WHERE closed_at IS NULL;
CREATE INDEX invitations_org ON invitations (org_id, id);
CREATE INDEX invitations_user ON invitations (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX invitations_invited_by ON invitations (invited_by) WHERE invited_by IS NOT NULL;
CREATE INDEX invitations_accepted_user ON invitations (accepted_user_id) WHERE accepted_user_id IS NOT NULL;

-- Password-reset links: digest only, valid 1 day, single use.
CREATE TABLE password_resets (
    digest     BLOB PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);
