-- Tokens made by someone else than their owner keep the roles their owner had
-- then ("administrator user app_owner:<app id>"): such a token never gains
-- power when its owner is promoted. NULL for tokens owners made themselves.
ALTER TABLE api_tokens ADD COLUMN authority TEXT;
UPDATE api_tokens SET authority = COALESCE((SELECT group_concat(r.role, ' ') FROM user_roles r
    WHERE r.user_id = api_tokens.user_id), '')
WHERE created_by IS NOT NULL;
