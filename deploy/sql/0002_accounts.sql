-- modebridge schema, step 2: one-time account tokens and the mail outbox.

-- Email verification, password reset and invitation tokens. Only the SHA-256 of a token is kept;
-- a token is used once (used_at) and refused after expires_at.
CREATE TABLE account_tokens (
    token_hash  text PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'invite')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- Mail waiting to be sent, written in the same transaction as the change it tells about, so a mail
-- server outage loses nothing and blocks no request. The message (which may carry a token link) is
-- sealed under MB_SECRET_KEY and erased once sent.
CREATE TABLE mail_outbox (
    id               bigserial PRIMARY KEY,
    recipient        text NOT NULL,
    kind             text NOT NULL,
    payload          text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    failed_at        timestamptz,
    last_error       text
);

CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE INDEX sessions_expiry ON sessions (expires_at);
