-- Secrets shown once after a redirect (a new token's secret, a temporary
-- password, an invitation link): sealed with a key that only the browser's
-- cookie holds, bound to the session that made them, taken (deleted) by the
-- one page view that shows them, and purged when they expire unseen.
CREATE TABLE reveals (
    id          uuid PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    sealed      bytea NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX reveals_session ON reveals (session_id);
CREATE INDEX reveals_expires ON reveals (expires_at);
