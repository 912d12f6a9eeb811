-- oauth-core GrantStore::grants_by_subject (a password update ends the user's grants).
CREATE INDEX oauth_grants_subject ON oauth_grants (subject, created_at);
