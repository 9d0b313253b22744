-- Invitations by email. The link's secret is never stored, only its SHA-256 digest.
-- closed_at is set when an invitation stops counting as pending (accepted,
-- withdrawn, or expired and replaced), so at most one per address is pending.
CREATE TABLE invitations (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL REFERENCES organizations (id),
    email            text NOT NULL,
    email_key        text NOT NULL,
    user_id          uuid REFERENCES users (id) ON DELETE CASCADE,
    roles            text NOT NULL,
    invited_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    invited_by_name  text,
    digest           bytea NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    accepted_at      timestamptz,
    accepted_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    withdrawn_at     timestamptz,
    closed_at        timestamptz
);
CREATE UNIQUE INDEX invitations_pending ON invitations (org_id, email_key) WHERE closed_at IS NULL;
CREATE INDEX invitations_org ON invitations (org_id, id);
CREATE INDEX invitations_user ON invitations (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX invitations_invited_by ON invitations (invited_by) WHERE invited_by IS NOT NULL;
CREATE INDEX invitations_accepted_user ON invitations (accepted_user_id) WHERE accepted_user_id IS NOT NULL;

-- Password-reset links: digest only, valid 1 day, single use.
CREATE TABLE password_resets (
    digest     bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);
