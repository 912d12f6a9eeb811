-- Users: oauth-core ClaimsSource, PasswordVerifier and UserLookup. Passwords as PHC strings
-- ($argon2id$... ; legacy $pbkdf2-sha256$... verified and rehashed on login).
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    subject TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    -- the user's claims as a JSON object
    claims TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- UserLookup (account association by attribute): the string-valued claims of each user,
-- written with the user.
CREATE TABLE user_attributes (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    PRIMARY KEY (name, value, username)
);
CREATE INDEX user_attributes_username ON user_attributes (username);
