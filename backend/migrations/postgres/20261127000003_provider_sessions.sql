-- Which person an identity provider's session (OpenID Connect `sid`) belongs to, for
-- back-channel logout tokens that name only the session.
CREATE TABLE provider_sessions (
    provider TEXT NOT NULL,
    sid TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (provider, sid)
);
