-- Tokens made by someone else than their owner keep the roles their owner had
-- then ("administrator user app_owner:<app id>"): such a token never gains
-- power when its owner is promoted. NULL for tokens owners made themselves.
ALTER TABLE api_tokens ADD COLUMN authority text;
UPDATE api_tokens t SET authority = COALESCE((SELECT string_agg(r.role, ' ' ORDER BY r.role) FROM user_roles r
    WHERE r.user_id = t.user_id), '')
WHERE t.created_by IS NOT NULL;
