-- The password history gets the explicit insertion order PostgreSQL's table has
-- (`seq`), so both engines keep and prune it with the same SQL. An INTEGER
-- PRIMARY KEY is SQLite's rowid under a name: the old rowids carry over.
CREATE TABLE password_history_seq (
    seq        INTEGER PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO password_history_seq (seq, user_id, hash, created_at)
    SELECT rowid, user_id, hash, created_at FROM password_history;
DROP TABLE password_history;
ALTER TABLE password_history_seq RENAME TO password_history;
CREATE INDEX password_history_user ON password_history (user_id, created_at);
