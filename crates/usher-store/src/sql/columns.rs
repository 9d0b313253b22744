//! Column lists several queries select, as macros so they join `concat!`.

/// The columns of a user, with roles folded into one text column.
macro_rules! user_columns {
    () => {
        "u.id, u.org_id, u.user_id, u.email, u.first_name, u.last_name, u.phone, \
         u.contact_person, u.company, u.language, u.timezone, u.status, u.must_change_password, \
         u.password_changed_at, u.created_at, u.updated_at, u.last_login_at, u.metadata, \
         (SELECT string_agg(role, ',') FROM user_roles r WHERE r.user_id = u.id) AS roles"
    };
}

/// The columns of a token (`t`), prefixed where they would clash with a user's.
macro_rules! token_columns {
    () => {
        "t.id AS t_id, t.user_id AS t_user_id, t.org_id AS t_org_id, t.description, t.client, t.scopes, t.digest, \
         t.first_chars, t.last_chars, t.created_at AS t_created_at, t.expires_at AS t_expires_at, t.revoked_at, \
         t.last_used_at, t.created_by, t.authority"
    };
}

/// The columns of a session (`s`), prefixed where they would clash with a user's.
macro_rules! session_columns {
    () => {
        "s.id AS s_id, s.user_id AS s_user_id, s.secret_digest, s.created_at AS s_created_at, s.last_active_at, \
         s.expires_at AS s_expires_at, s.address, s.client, s.forced_change_proof_at"
    };
}
