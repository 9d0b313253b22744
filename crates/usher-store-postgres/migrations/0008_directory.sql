-- The directory (issue 5): search, sort and custom metadata at millions of users.
--
-- Sorting: every sortable column has a NOT NULL key and an index (org_id, key, id),
-- so a page anywhere in the list is one index range scan from its cursor (the key
-- and id of the last row seen). Keys compare byte-wise (COLLATE "C"), as on
-- SQLite, whatever the database's locale. Names sort and search by case-folded
-- keys written by the store (Unicode folding is done in Rust, identically on
-- both engines); nullable columns sort through generated keys.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE users ALTER COLUMN user_id_key TYPE text COLLATE "C";
ALTER TABLE users ALTER COLUMN email_key TYPE text COLLATE "C";
ALTER TABLE users ADD COLUMN first_name_key text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name_key text COLLATE "C" NOT NULL DEFAULT '';
-- A user's place when sorting by role: User 1, Administrator 2, Developer 3,
-- User Manager 4 (the reference order); several roles sort by the last of them.
ALTER TABLE users ADD COLUMN role_rank smallint NOT NULL DEFAULT 0;
-- Custom metadata values by field name.
ALTER TABLE users ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN email_sort text COLLATE "C" GENERATED ALWAYS AS (COALESCE(email_key, '')) STORED;
ALTER TABLE users ADD COLUMN phone_sort text COLLATE "C" GENERATED ALWAYS AS (COALESCE(phone, '')) STORED;
ALTER TABLE users ADD COLUMN last_login_sort timestamptz
    GENERATED ALWAYS AS (COALESCE(last_login_at, '1970-01-01 00:00:00+00'::timestamptz)) STORED;
-- What plain-text search looks into: "first_name_key \x01 last_name_key \x01 phone".
ALTER TABLE users ADD COLUMN search_doc text COLLATE "C"
    GENERATED ALWAYS AS (first_name_key || E'\x01' || last_name_key || E'\x01' || COALESCE(phone, '')) STORED;

-- Existing rows (the database's lower(); the store writes Rust's Unicode folds).
UPDATE users SET first_name_key = lower(btrim(COALESCE(first_name, ''))),
                 last_name_key = lower(btrim(COALESCE(last_name, '')));

CREATE INDEX users_sort_first_name ON users (org_id, first_name_key, id);
CREATE INDEX users_sort_last_name ON users (org_id, last_name_key, id);
CREATE INDEX users_sort_email ON users (org_id, email_sort, id);
CREATE INDEX users_sort_phone ON users (org_id, phone_sort, id);
CREATE INDEX users_sort_role ON users (org_id, role_rank, id);
CREATE INDEX users_sort_status ON users (org_id, status, id);
CREATE INDEX users_sort_created ON users (org_id, created_at, id);
CREATE INDEX users_sort_last_login ON users (org_id, last_login_sort, id);
-- (org_id, user_id_key) is unique already: it sorts by user ID.
CREATE INDEX users_search_doc ON users USING gin (search_doc gin_trgm_ops);

-- role_rank follows user_roles, whoever writes them (per statement, so bulk
-- writes update each user once).
CREATE FUNCTION users_refresh_role_rank() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users u SET role_rank = COALESCE((
        SELECT MAX(CASE r.role WHEN 'user' THEN 1 WHEN 'administrator' THEN 2
                               WHEN 'developer' THEN 3 WHEN 'user_manager' THEN 4 ELSE 0 END)
        FROM user_roles r WHERE r.user_id = u.id), 0)
    WHERE u.id IN (SELECT DISTINCT user_id FROM changed_roles);
    RETURN NULL;
END
$$;
CREATE TRIGGER user_roles_rank_insert AFTER INSERT ON user_roles
    REFERENCING NEW TABLE AS changed_roles FOR EACH STATEMENT EXECUTE FUNCTION users_refresh_role_rank();
CREATE TRIGGER user_roles_rank_delete AFTER DELETE ON user_roles
    REFERENCING OLD TABLE AS changed_roles FOR EACH STATEMENT EXECUTE FUNCTION users_refresh_role_rank();
UPDATE users u SET role_rank = COALESCE((
    SELECT MAX(CASE r.role WHEN 'user' THEN 1 WHEN 'administrator' THEN 2
                           WHEN 'developer' THEN 3 WHEN 'user_manager' THEN 4 ELSE 0 END)
    FROM user_roles r WHERE r.user_id = u.id), 0);

-- Custom metadata, one row per user and field, for `field:text` search: value_key
-- is the value as text, case-folded, under a trigram index (the field is checked
-- on the row).
CREATE TABLE user_metadata (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id    uuid NOT NULL,
    field     text COLLATE "C" NOT NULL,
    value_key text COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, field)
);
CREATE INDEX user_metadata_entry ON user_metadata USING gin (value_key gin_trgm_ops);
