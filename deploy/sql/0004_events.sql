-- modebridge schema, step 4: device events received from MODE's Webhooks Smart Module.

CREATE SEQUENCE events_seq AS bigint;

-- seq orders the events; the writers take a transaction-scoped advisory lock around each batch, so seq
-- values become visible in increasing order: a reader who has seen seq N will never later find a new
-- event below N.
CREATE TABLE events (
    seq          bigint PRIMARY KEY,
    -- SHA-256 of the signed body: the same delivery twice is stored once.
    body_hash    text NOT NULL,
    home_id      bigint NOT NULL,
    event_type   text NOT NULL,
    -- The event object as readers receive it (without type and seq).
    payload      text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    -- Whether it has reached Redis; the relay republishes the others in seq order.
    published    boolean NOT NULL DEFAULT false,
    CONSTRAINT events_body_hash_key UNIQUE (body_hash)
);

CREATE INDEX events_home_seq ON events (home_id, seq);
CREATE INDEX events_unpublished ON events (seq) WHERE NOT published;
