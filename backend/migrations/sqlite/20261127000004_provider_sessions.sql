-- Which person an identity provider's session (OpenID Connect `sid`) belongs to, for
-- back-channel logout tokens that name only the session.
CREATE TABLE provider_sessions (
    provider TEXT NOT NULL,
    sid TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (provider, sid)
);
