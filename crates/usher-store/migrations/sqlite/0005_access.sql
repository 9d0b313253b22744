-- Groups, apps, app-scoped roles and which groups may use which app (issue 4).
-- Deleting a user removes their memberships and app roles (ON DELETE CASCADE
-- from users) but never an app: apps hold no reference to users.

CREATE TABLE groups (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- Names are unique per organization, case-insensitively (name_key is the folded name).
CREATE UNIQUE INDEX groups_org_name_key ON groups (org_id, name_key);

CREATE TABLE group_members (
    group_id BLOB NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id, group_id);

CREATE TABLE apps (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    url         TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX apps_org_name_key ON apps (org_id, name_key);

-- App Owner and App Developer of one app.
CREATE TABLE app_roles (
    app_id     BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('app_owner', 'app_developer')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (app_id, role, user_id)
);
CREATE INDEX app_roles_user ON app_roles (user_id, app_id);

-- The groups whose members may use an app.
CREATE TABLE app_groups (
    app_id   BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    group_id BLOB NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (app_id, group_id)
);
CREATE INDEX app_groups_group ON app_groups (group_id, app_id);
