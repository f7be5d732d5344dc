-- The business's message centre (失信提醒, and what concerns it): written in the transaction of the
-- change that causes it, exactly once (a source may give a key: `dedupe`). Banks' reads are read
-- from the audit log when the messages are listed. What a business has seen: `message_seen`.
CREATE TABLE message (
    id          bigserial PRIMARY KEY,
    uscc        text COLLATE "C" NOT NULL,
    kind        text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    dedupe      text,
    UNIQUE (uscc, dedupe)
);
CREATE INDEX message_uscc ON message (uscc, created_at DESC);
REVOKE DELETE, TRUNCATE ON message FROM xyd_app;

CREATE TABLE message_seen (
    uscc     text COLLATE "C" PRIMARY KEY,
    seen_at  timestamptz NOT NULL
);
