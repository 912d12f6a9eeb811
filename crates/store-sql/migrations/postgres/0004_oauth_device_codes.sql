-- oauth-core DeviceCodeStore (RFC 8628): poll and decide are compare-and-set on version.
CREATE TABLE oauth_device_codes (
    device_code BYTEA PRIMARY KEY,
    user_code BYTEA NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    retain_until BIGINT NOT NULL,
    -- bumped by every write; a write names the version it read
    version BIGINT NOT NULL,
    -- the DeviceAuthorization as JSON
    body TEXT NOT NULL
);
-- sweep
CREATE INDEX oauth_device_codes_retain_until ON oauth_device_codes (retain_until);
