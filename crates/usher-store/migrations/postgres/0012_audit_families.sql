-- The audit log read by family of actions (the first word of the action code:
-- `auth`, `user`, `token`, ...), newest first, without sorting. The expression
-- is the store's `action_family!()`, written the same way.
CREATE INDEX audit_events_family ON audit_events (org_id, split_part(action, '.', 1), id);
