-- oauth-core AttemptLimiter: one fixed window per key, counted by one upsert.
CREATE TABLE oauth_attempts (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    window_end INTEGER NOT NULL,
    count INTEGER NOT NULL
);
-- sweep
CREATE INDEX oauth_attempts_window_end ON oauth_attempts (window_end);
