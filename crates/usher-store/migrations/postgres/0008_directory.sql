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

-- Each sort index also carries the search document, so a search that walks the
-- sort order tests rows in the index alone (an index-only scan); rows are read
-- only for the page found.
CREATE INDEX users_sort_user_id ON users (org_id, user_id_key, id) INCLUDE (search_doc);
CREATE INDEX users_sort_first_name ON users (org_id, first_name_key, id) INCLUDE (search_doc);
CREATE INDEX users_sort_last_name ON users (org_id, last_name_key, id) INCLUDE (search_doc);
CREATE INDEX users_sort_email ON users (org_id, email_sort, id) INCLUDE (search_doc);
CREATE INDEX users_sort_phone ON users (org_id, phone_sort, id) INCLUDE (search_doc);
CREATE INDEX users_sort_role ON users (org_id, role_rank, id) INCLUDE (search_doc);
CREATE INDEX users_sort_status ON users (org_id, status, id) INCLUDE (search_doc);
CREATE INDEX users_sort_created ON users (org_id, created_at, id) INCLUDE (search_doc);
CREATE INDEX users_sort_last_login ON users (org_id, last_login_sort, id) INCLUDE (search_doc);
CREATE INDEX users_search_doc ON users USING gin (search_doc gin_trgm_ops);

-- role_rank follows user_roles, whoever writes them (per statement, so bulk
-- writes update each user once; rows already right, such as imported ones, are
-- not rewritten).
CREATE FUNCTION users_refresh_role_rank() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A bulk import writes role_rank itself and says so for its transaction.
    IF current_setting('usher.import', true) = 'on' THEN
        RETURN NULL;
    END IF;
    UPDATE users u SET role_rank = r.rank
    FROM (SELECT c.user_id, COALESCE(MAX(CASE ur.role WHEN 'user' THEN 1 WHEN 'administrator' THEN 2
                                                      WHEN 'developer' THEN 3 WHEN 'user_manager' THEN 4
                                                      ELSE 0 END), 0) AS rank
          FROM (SELECT DISTINCT user_id FROM changed_roles) c
          LEFT JOIN user_roles ur ON ur.user_id = c.user_id
          GROUP BY c.user_id) r
    WHERE u.id = r.user_id AND u.role_rank <> r.rank;
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
    -- The value is in the key's index, so a walk tests a user's field without
    -- reading the row.
    PRIMARY KEY (user_id, field) INCLUDE (value_key)
);
CREATE INDEX user_metadata_entry ON user_metadata USING gin (value_key gin_trgm_ops);
