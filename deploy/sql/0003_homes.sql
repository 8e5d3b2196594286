-- modebridge schema, step 3: which of our users belongs to which MODE home, and home invitations.

-- Kept up to date from every home create, member add or remove, and list the gateway sees, so the
-- live event stream knows whom each home's events are for.
CREATE TABLE home_members (
    home_id     bigint NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL DEFAULT 'member',
    -- When the member was told (mail, live message); NULL until then, so a retried add still tells them.
    notified_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (home_id, user_id)
);

CREATE INDEX home_members_user ON home_members (user_id);

-- Invitations of the confirm-first member flow: the membership is made when the invitee accepts.
-- token_hash is also the invitee's account token (purpose 'invite') when the invitee is a new user.
CREATE TABLE home_invitations (
    token_hash   text PRIMARY KEY,
    home_id      bigint NOT NULL,
    invitee_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inviter_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    role         text NOT NULL DEFAULT 'member',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz
);

CREATE INDEX home_invitations_invitee ON home_invitations (invitee_id) WHERE accepted_at IS NULL;
