-- The directory (issue 5): search, sort and custom metadata at millions of users.
--
-- Sorting: every sortable column has a NOT NULL key and an index (org_id, key, id),
-- so a page anywhere in the list is one index range scan from its cursor (the key
-- and id of the last row seen). Names sort and search by their case-folded keys,
-- written by the store (Unicode folding is done in Rust, identically on both
-- engines); nullable columns sort through generated keys ('' for none).

ALTER TABLE users ADD COLUMN first_name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name_key TEXT NOT NULL DEFAULT '';
-- A user's place when sorting by role: User 1, Administrator 2, Developer 3,
-- User Manager 4 (the reference order); several roles sort by the last of them.
ALTER TABLE users ADD COLUMN role_rank INTEGER NOT NULL DEFAULT 0;
-- Custom metadata values by field name, as a JSON object.
ALTER TABLE users ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN email_sort TEXT GENERATED ALWAYS AS (COALESCE(email_key, '')) VIRTUAL;
ALTER TABLE users ADD COLUMN phone_sort TEXT GENERATED ALWAYS AS (COALESCE(phone, '')) VIRTUAL;
ALTER TABLE users ADD COLUMN last_login_sort TEXT GENERATED ALWAYS AS (COALESCE(last_login_at, '')) VIRTUAL;

-- Existing rows (ASCII folding here; the store writes full Unicode folds).
UPDATE users SET first_name_key = lower(trim(COALESCE(first_name, ''))),
                 last_name_key = lower(trim(COALESCE(last_name, '')));

-- Each sort index also carries the searched name and phone keys, so a search
-- that walks the sort order tests rows on the index alone (SQLite reads a table
-- row only for the rows that match).
CREATE INDEX users_sort_user_id ON users (org_id, user_id_key, id, first_name_key, last_name_key, phone_sort);
CREATE INDEX users_sort_first_name ON users (org_id, first_name_key, id, last_name_key, phone_sort);
CREATE INDEX users_sort_last_name ON users (org_id, last_name_key, id, first_name_key, phone_sort);
CREATE INDEX users_sort_email ON users (org_id, email_sort, id, first_name_key, last_name_key, phone_sort);
CREATE INDEX users_sort_phone ON users (org_id, phone_sort, id, first_name_key, last_name_key);
CREATE INDEX users_sort_role ON users (org_id, role_rank, id, first_name_key, last_name_key, phone_sort);
CREATE INDEX users_sort_status ON users (org_id, status, id, first_name_key, last_name_key, phone_sort);
CREATE INDEX users_sort_created ON users (org_id, created_at, id, first_name_key, last_name_key, phone_sort);
CREATE INDEX users_sort_last_login ON users (org_id, last_login_sort, id, first_name_key, last_name_key, phone_sort);

-- role_rank follows user_roles, whoever writes them (rows already right, such as
-- imported ones, are not rewritten).
CREATE TRIGGER user_roles_rank_insert AFTER INSERT ON user_roles
BEGIN
    UPDATE users SET role_rank = (
        SELECT COALESCE(MAX(CASE role WHEN 'user' THEN 1 WHEN 'administrator' THEN 2
                                      WHEN 'developer' THEN 3 WHEN 'user_manager' THEN 4 ELSE 0 END), 0)
        FROM user_roles WHERE user_id = NEW.user_id)
    WHERE id = NEW.user_id AND role_rank IS NOT (
        SELECT COALESCE(MAX(CASE role WHEN 'user' THEN 1 WHEN 'administrator' THEN 2
                                      WHEN 'developer' THEN 3 WHEN 'user_manager' THEN 4 ELSE 0 END), 0)
        FROM user_roles WHERE user_id = NEW.user_id);
END;
CREATE TRIGGER user_roles_rank_delete AFTER DELETE ON user_roles
BEGIN
    UPDATE users SET role_rank = (
        SELECT COALESCE(MAX(CASE role WHEN 'user' THEN 1 WHEN 'administrator' THEN 2
                                      WHEN 'developer' THEN 3 WHEN 'user_manager' THEN 4 ELSE 0 END), 0)
        FROM user_roles WHERE user_id = OLD.user_id)
    WHERE id = OLD.user_id;
END;
UPDATE users SET role_rank = (
    SELECT COALESCE(MAX(CASE role WHEN 'user' THEN 1 WHEN 'administrator' THEN 2
                                  WHEN 'developer' THEN 3 WHEN 'user_manager' THEN 4 ELSE 0 END), 0)
    FROM user_roles WHERE user_id = users.id);

-- Substring search: FTS5 trigram indexes. Each user has one integer handle
-- (user_search.id, an INTEGER PRIMARY KEY so VACUUM keeps it) that is the rowid
-- of their document "first_name_key \x01 last_name_key \x01 phone" in
-- user_search_fts. Triggers keep it in step with users, whoever writes them.
CREATE TABLE user_search (
    id      INTEGER PRIMARY KEY,
    user_id BLOB NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE
);
CREATE VIRTUAL TABLE user_search_fts USING fts5(
    doc, content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
);
-- Bigger in-memory batches before FTS5 writes a segment: fewer merges in bulk imports.
INSERT INTO user_search_fts (user_search_fts, rank) VALUES ('hashsize', 16777216);
CREATE TRIGGER user_search_delete AFTER DELETE ON user_search
BEGIN
    DELETE FROM user_search_fts WHERE rowid = OLD.id;
END;
CREATE TRIGGER users_search_insert AFTER INSERT ON users
BEGIN
    INSERT INTO user_search (user_id) VALUES (NEW.id);
    INSERT INTO user_search_fts (rowid, doc) VALUES (
        last_insert_rowid(),
        NEW.first_name_key || char(1) || NEW.last_name_key || char(1) || COALESCE(NEW.phone, ''));
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF first_name_key, last_name_key, phone ON users
BEGIN
    DELETE FROM user_search_fts WHERE rowid = (SELECT id FROM user_search WHERE user_id = NEW.id);
    INSERT INTO user_search_fts (rowid, doc) VALUES (
        (SELECT id FROM user_search WHERE user_id = NEW.id),
        NEW.first_name_key || char(1) || NEW.last_name_key || char(1) || COALESCE(NEW.phone, ''));
END;
INSERT INTO user_search (user_id) SELECT id FROM users;
INSERT INTO user_search_fts (rowid, doc)
    SELECT s.id, u.first_name_key || char(1) || u.last_name_key || char(1) || COALESCE(u.phone, '')
    FROM user_search s JOIN users u ON u.id = s.user_id;

-- Custom metadata, one row per user and field, for `field:text` search: value_key
-- is the value as text, case-folded, indexed by user_metadata_fts (the field is
-- checked on the row).
CREATE TABLE user_metadata (
    id        INTEGER PRIMARY KEY,
    user_id   BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id    BLOB NOT NULL,
    field     TEXT NOT NULL,
    value_key TEXT NOT NULL
);
-- One row per (user_id, field): the store replaces a user's rows as a whole.
-- The index holds the value, so a search that walks the sort order tests a
-- user's field without reading the row.
CREATE INDEX user_metadata_user_field ON user_metadata (user_id, field, value_key);
CREATE VIRTUAL TABLE user_metadata_fts USING fts5(
    value_key, content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
);
INSERT INTO user_metadata_fts (user_metadata_fts, rank) VALUES ('hashsize', 16777216);
CREATE TRIGGER user_metadata_insert AFTER INSERT ON user_metadata
BEGIN
    INSERT INTO user_metadata_fts (rowid, value_key) VALUES (NEW.id, NEW.value_key);
END;
CREATE TRIGGER user_metadata_delete AFTER DELETE ON user_metadata
BEGIN
    DELETE FROM user_metadata_fts WHERE rowid = OLD.id;
END;
CREATE TRIGGER user_metadata_update AFTER UPDATE ON user_metadata
BEGIN
    DELETE FROM user_metadata_fts WHERE rowid = OLD.id;
    INSERT INTO user_metadata_fts (rowid, value_key) VALUES (NEW.id, NEW.value_key);
END;
