-- The email outbox: messages are delivered by the server's worker, which leases a
-- batch (lease_owner, lease_until) so several nodes never send one message twice.
CREATE TABLE outbox (
    id              BLOB PRIMARY KEY,
    org_id          BLOB NOT NULL REFERENCES organizations (id),
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_owner     BLOB,
    lease_until     TEXT,
    sent_at         TEXT,
    failed_at       TEXT,
    last_error      TEXT
);
-- The claim path: pending messages by due time.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- Token expiry reminders: when one was queued and for which expiry, so each expiry
-- is reminded once (a token whose expiry is pushed back is reminded again). The
-- reminder query reads api_tokens_expiry (expires_at, for unrevoked tokens).
ALTER TABLE api_tokens ADD COLUMN expiry_reminded_at TEXT;
ALTER TABLE api_tokens ADD COLUMN expiry_reminded_for TEXT;
