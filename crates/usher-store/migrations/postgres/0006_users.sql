-- Administration of users: a user's last failed sign-ins (the details page) are
-- read from the audit log by target and action, newest first.
CREATE INDEX audit_events_target_action ON audit_events (target_id, action, id);
