-- People who signed in, one row per (provider, provider_user_id). The same shape as the
-- SQLite table, so the queries are shared.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    provider TEXT NOT NULL,
    provider_user_id TEXT NOT NULL,
    login TEXT NOT NULL,
    name TEXT,
    email TEXT,
    avatar_url TEXT,
    profile_url TEXT,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL,
    UNIQUE (provider, provider_user_id)
);
