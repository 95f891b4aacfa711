"""Tables every service has in its own schema: the transactional outbox and the inbox.

Used by each service's first migration so the definitions live in one place.
"""

OUTBOX_AND_INBOX = """
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    message_id    text        NOT NULL UNIQUE,
    topic         text        NOT NULL,
    message_key   text        NOT NULL,
    event_code    text        NOT NULL,
    sequence      bigint      NOT NULL,
    payload       bytea       NOT NULL,
    trace_context jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    UNIQUE (message_key, sequence)
);
-- The relay only ever looks for unsent rows.
CREATE INDEX outbox_unsent ON outbox (id) WHERE published_at IS NULL;

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- NOTIFY is delivered at commit; one per transaction is enough to wake the relay.
    PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_wake_relay AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE inbox (
    message_id  text        PRIMARY KEY,
    topic       text        NOT NULL,
    event_code  text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
"""

# A message id is its sender's: the inbox key becomes (sender, message id), with a digest of the
# content to tell a repeat from a reused id (see shared/messaging/inbox.py). Existing rows keep an
# empty sender and no digest; the inbox still counts a redelivery of one of them as a repeat.
SENDER_SCOPED_INBOX = """
ALTER TABLE inbox ADD COLUMN sender text NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN content_digest text;
ALTER TABLE inbox DROP CONSTRAINT inbox_pkey;
ALTER TABLE inbox ADD PRIMARY KEY (sender, message_id);
ALTER TABLE inbox ALTER COLUMN sender DROP DEFAULT;
"""
UNSCOPED_INBOX = """
DELETE FROM inbox a USING inbox b WHERE a.message_id = b.message_id AND a.ctid > b.ctid;
ALTER TABLE inbox DROP CONSTRAINT inbox_pkey;
ALTER TABLE inbox ADD PRIMARY KEY (message_id);
ALTER TABLE inbox DROP COLUMN content_digest;
ALTER TABLE inbox DROP COLUMN sender;
"""

DROP_OUTBOX_AND_INBOX = "DROP TABLE inbox; DROP TABLE outbox; DROP FUNCTION outbox_notify();"

# The relay numbers a key's events as it publishes them (shared/messaging/outbox_relay.py), so a
# writer inserts its row without a sequence and without waiting for the key's other writers.
# Rows numbered before keep their numbers; the downgrade numbers the rows still waiting, in order.
SEQUENCE_AT_PUBLICATION = "ALTER TABLE outbox ALTER COLUMN sequence DROP NOT NULL;"
SEQUENCE_AT_INSERT = """
UPDATE outbox SET sequence = numbered.sequence
FROM (
    SELECT waiting.id,
           (SELECT coalesce(max(sequence), 0) FROM outbox o
            WHERE o.message_key = waiting.message_key)
           + row_number() OVER (PARTITION BY waiting.message_key ORDER BY waiting.id) AS sequence
    FROM outbox waiting WHERE waiting.sequence IS NULL
) numbered
WHERE outbox.id = numbered.id;
ALTER TABLE outbox ALTER COLUMN sequence SET NOT NULL;
"""

# The relay marks a row sent by writing its sequence and published_at
# (shared/messaging/outbox_relay.py):
# not in place (both are indexed), but PostgreSQL logs a new row version on the row's own page as
# the bytes that differ from the old one's start and end. Moved to the row's end, the two columns
# are all the mark logs, given room on the page (fillfactor 50: a row is ~1-2 KB, mostly its
# payload); before, each mark logged the whole row, payload included, on another page. Columns
# cannot move in place: new ones take their values and names, the old ones are dropped (with the
# unique key and the index on them, made again on the new ones). Rows written before keep their
# pages; the downgrade leaves the columns where they are.
OUTBOX_MARK_AT_ROW_END = """
ALTER TABLE outbox RENAME COLUMN sequence TO sequence_moved;
ALTER TABLE outbox RENAME COLUMN published_at TO published_at_moved;
ALTER TABLE outbox ADD COLUMN sequence bigint, ADD COLUMN published_at timestamptz;
UPDATE outbox SET sequence = sequence_moved, published_at = published_at_moved;
ALTER TABLE outbox DROP COLUMN sequence_moved, DROP COLUMN published_at_moved;
ALTER TABLE outbox ADD CONSTRAINT outbox_message_key_sequence_key UNIQUE (message_key, sequence);
CREATE INDEX outbox_unsent ON outbox (id) WHERE published_at IS NULL;
ALTER TABLE outbox SET (fillfactor = 50);
"""
OUTBOX_MARK_PACKED = "ALTER TABLE outbox RESET (fillfactor);"

# Nothing looks an outbox row up by its message id, and every message the services build gets a
# new random id (shared/fhir/envelope.py): the unique index on it only cost each row an index
# entry at its insert and another at its mark (the mark is not an in-place update, so every
# index gets an entry for the row's new version). A message published twice is still dropped by
# its consumers' inboxes.
OUTBOX_MESSAGE_ID_UNINDEXED = "ALTER TABLE outbox DROP CONSTRAINT outbox_message_id_key;"
OUTBOX_MESSAGE_ID_UNIQUE = (
    "ALTER TABLE outbox ADD CONSTRAINT outbox_message_id_key UNIQUE (message_id);"
)

# The outbox's NOTIFY goes only to another process (shared/messaging/outbox_leader.py): when the
# process whose relay leads writes a row, the trigger tells only the writing connection (a
# NOTICE; the pool wakes its relay when the connection is released, after the commit), so its
# commit neither takes the cluster's NOTIFY lock nor wakes every listening backend. The leader
# names its pool's instance (a connection setting) in ``outbox_leader`` when it takes the lead,
# then waits for every transaction that read the old name (they hold the shared lock below).
OUTBOX_WAKES_ITS_WRITER = """
CREATE TABLE outbox_leader (instance text);
INSERT INTO outbox_leader VALUES (NULL);
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    here text := coalesce(current_setting('fasttrack.instance', true), '');
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('outbox_leader_' || TG_TABLE_SCHEMA));
    IF here <> '' AND EXISTS (SELECT FROM outbox_leader WHERE instance = here) THEN
        RAISE NOTICE 'fasttrack: outbox written';
    ELSE
        PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, '');
    END IF;
    RETURN NULL;
END $$;
"""
OUTBOX_ALWAYS_NOTIFIES = """
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END $$;
DROP TABLE outbox_leader;
"""
