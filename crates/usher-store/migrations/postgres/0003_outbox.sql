-- The email outbox: messages are delivered by the server's worker, which leases a
-- batch (lease_owner, lease_until) so several nodes never send one message twice.
CREATE TABLE outbox (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organizations (id),
    to_address      text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_owner     uuid,
    lease_until     timestamptz,
    sent_at         timestamptz,
    failed_at       timestamptz,
    last_error      text
);
-- The claim path: pending messages by due time.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- Token expiry reminders: when one was queued and for which expiry, so each expiry
-- is reminded once (a token whose expiry is pushed back is reminded again). The
-- reminder query reads api_tokens_expiry (expires_at, for unrevoked tokens).
ALTER TABLE api_tokens ADD COLUMN expiry_reminded_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN expiry_reminded_for timestamptz;
