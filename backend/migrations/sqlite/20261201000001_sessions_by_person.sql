-- Sessions are listed per person by provider identity ("github:583231"), the same on
-- every instance and in every users database, instead of by the local user id; and
-- found by the provider's own session (OpenID Connect `sid`) for back-channel logout,
-- which no longer needs the provider_sessions table.
DROP INDEX sessions_user;
ALTER TABLE sessions ADD COLUMN person TEXT;
ALTER TABLE sessions ADD COLUMN provider_sid TEXT;
UPDATE sessions
   SET person = json_extract(data, '$.user.provider') || ':' || json_extract(data, '$.user.provider_user_id')
 WHERE json_extract(data, '$.user.provider') IS NOT NULL;
UPDATE sessions
   SET provider_sid = json_extract(data, '$.user.provider') || ' ' || json_extract(data, '$.provider_sid')
 WHERE json_extract(data, '$.provider_sid') IS NOT NULL;
ALTER TABLE sessions DROP COLUMN user_id;
-- Partial indexes: a pre-auth session (most writes) pays for neither.
CREATE INDEX sessions_person ON sessions (person) WHERE person IS NOT NULL;
CREATE INDEX sessions_provider_sid ON sessions (provider_sid) WHERE provider_sid IS NOT NULL;
DROP TABLE provider_sessions;
