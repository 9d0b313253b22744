-- A session opened by signing in with a password that had to be changed (a
-- temporary or expired one) remembers when that password was proved: it may
-- choose the new password without typing the old one again, for a little while.
-- NULL for every other session.
ALTER TABLE sessions ADD COLUMN forced_change_proof_at timestamptz;
