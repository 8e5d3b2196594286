-- modebridge schema, step 5: when each user's list of homes was last read from MODE.
--
-- MODE decides who is in which home; home_members is a copy of what it said. While MODE cannot be
-- reached, that copy may still serve, but only while it is younger than MB_MEMBERSHIP_MAX_AGE.
CREATE TABLE member_lists (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    read_at timestamptz NOT NULL
);
