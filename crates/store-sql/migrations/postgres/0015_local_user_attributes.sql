-- LocalAttributeStore (oauth-core): the attributes placed locally for users who live in a
-- connected user store (an LDAP directory, a SCIM service, a configuration file). Not
-- `user_attributes`: those users have no `users` row (no password here), values are any JSON,
-- and the connected store's name is part of the key.
CREATE TABLE local_user_attributes (
    store TEXT NOT NULL,
    subject TEXT NOT NULL,
    name TEXT NOT NULL,
    -- the value as JSON text
    value TEXT NOT NULL,
    -- the value itself when it is a string of at most 1024 bytes (lookups), else NULL
    lookup TEXT,
    PRIMARY KEY (store, subject, name)
);
CREATE INDEX local_user_attributes_lookup ON local_user_attributes (store, name, lookup);
