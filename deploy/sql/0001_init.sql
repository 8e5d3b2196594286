-- modebridge schema, step 1: accounts and their MODE link, sessions.
-- Applied once, in a transaction, by whichever instance holds the migration lock first.

CREATE TABLE users (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email                     text NOT NULL,
    -- Email addresses compare case-insensitively: the lower-cased form is the unique key.
    email_normalized          text NOT NULL,
    name                      text NOT NULL,
    -- Argon2id PHC string; NULL for an invited user who has not set a password yet.
    password_hash             text,
    status                    text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'invited')),
    email_verified_at         timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    -- The linked MODE user. The id is recorded as soon as MODE returns it, so a retry reuses it.
    mode_user_id              bigint,
    -- The MODE user key, AES-256-GCM sealed under MB_SECRET_KEY (user id as associated data), base64.
    mode_user_key             text,
    mode_linked_at            timestamptz,
    mode_link_attempts        integer NOT NULL DEFAULT 0,
    -- When the background linker may try next; also a lease, so instances never link one user twice.
    mode_link_next_attempt_at timestamptz,
    mode_link_last_error      text,
    CONSTRAINT users_email_normalized_key UNIQUE (email_normalized),
    CONSTRAINT users_mode_user_id_key UNIQUE (mode_user_id),
    CONSTRAINT users_linked_has_key CHECK (mode_linked_at IS NULL OR (mode_user_id IS NOT NULL AND mode_user_key IS NOT NULL))
);

CREATE INDEX users_mode_link_pending ON users (mode_link_next_attempt_at) WHERE mode_linked_at IS NULL;

CREATE TABLE sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the bearer token, hex; the token itself is never stored.
    token_hash    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    -- Absolute end of life; the idle timeout is checked against last_seen_at.
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    user_agent    text,
    ip            text,
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;
