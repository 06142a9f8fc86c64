-- Which account an allow-listed login (GITHUB_ALLOWED_USERS) belongs to: the first one
-- seen with it. A login given up in a rename and taken by someone else stays tied to
-- its first account.
CREATE TABLE allowed_logins (
    provider TEXT NOT NULL,
    login TEXT NOT NULL,
    provider_user_id TEXT NOT NULL,
    PRIMARY KEY (provider, login)
);
