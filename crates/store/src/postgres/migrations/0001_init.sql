-- Herald's first PostgreSQL schema: the SQLite schema (0001 + 0002) in
-- PostgreSQL's types. Timestamps are Unix milliseconds (bigint), as in SQLite.
-- Ids come from sequences, which do not hand values out in commit order: every
-- write takes the writer's advisory lock first, so ids and cursors still become
-- visible in order. Sequences leave gaps (a rolled-back job keeps its nextval);
-- nothing assumes contiguity.

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- "C": byte order, as SQLite sorts, whatever the cluster's locale.
    username text COLLATE "C" NOT NULL UNIQUE,
    display_name text COLLATE "C" NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'user')),
    disabled boolean NOT NULL DEFAULT false,
    created_at bigint NOT NULL,
    -- Every broadcast with id <= this is read for the user unless broadcast_state
    -- says otherwise, so "mark all broadcasts read" moves one number.
    broadcast_read_upto bigint NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('session', 'send')),
    name text NOT NULL,
    hash bytea NOT NULL UNIQUE,
    created_at bigint NOT NULL
);
CREATE INDEX tokens_by_user ON tokens(user_id);

CREATE TABLE notifications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('personal', 'broadcast')),
    category text,
    title text NOT NULL,
    content text NOT NULL,
    link text,
    priority smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
    desktop boolean NOT NULL,
    sender_id bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at bigint NOT NULL
);
CREATE INDEX notifications_broadcasts ON notifications(id) WHERE kind = 'broadcast';
CREATE INDEX notifications_by_time ON notifications(created_at);
CREATE INDEX notifications_by_sender ON notifications(sender_id);

-- One row per recipient of a personal notification; deleting is removing the row.
CREATE TABLE recipients (
    user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    notification_id bigint NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    read boolean NOT NULL DEFAULT false,
    PRIMARY KEY (user_id, notification_id)
);
CREATE INDEX recipients_unread ON recipients(user_id) WHERE NOT read;
CREATE INDEX recipients_by_notification ON recipients(notification_id);

-- Exceptions to users.broadcast_read_upto: a row only where a user changed a
-- broadcast's state, never one per user per broadcast at send time.
CREATE TABLE broadcast_state (
    user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    notification_id bigint NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    read boolean NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    PRIMARY KEY (user_id, notification_id)
);
CREATE INDEX broadcast_state_by_notification ON broadcast_state(notification_id);

-- The resumable stream. user_id NULL: an event for every user.
CREATE TABLE events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint,
    created_at bigint NOT NULL,
    payload text NOT NULL
);
CREATE INDEX events_by_user ON events(user_id, seq);
CREATE INDEX events_by_time ON events(created_at);

CREATE TABLE meta (
    key text PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO meta (key, value) VALUES ('purged_through', 0);

CREATE TABLE contacts (
    owner_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    contact_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
);
-- Presence goes to everyone who has the user as a contact.
CREATE INDEX contacts_by_contact ON contacts(contact_id);

CREATE TABLE conversations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('direct', 'room')),
    -- Rooms only.
    name text COLLATE "C",
    -- Rooms only: who manages the members.
    owner_id bigint REFERENCES users(id) ON DELETE SET NULL,
    -- Direct only: '<smaller user id>:<larger user id>', so a pair has exactly one
    -- conversation. Cleared when either user is deleted.
    direct_key text UNIQUE,
    created_at bigint NOT NULL
);

-- Deleting for everyone keeps a tombstone (deleted, content emptied), so ids are
-- never reused and a retried send still finds its client_id.
CREATE TABLE messages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    sender_id bigint REFERENCES users(id) ON DELETE SET NULL,
    client_id text NOT NULL,
    content text NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    created_at bigint NOT NULL
);
CREATE UNIQUE INDEX messages_by_client_id ON messages(sender_id, client_id);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX messages_by_sender ON messages(sender_id, id);

-- One row per member, denormalised so the conversation list and the unread
-- counts never scan history: each message updates its conversation's rows.
CREATE TABLE conversation_members (
    conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at bigint NOT NULL,
    -- Every message with id <= this is read.
    last_read_id bigint NOT NULL DEFAULT 0,
    -- Others' messages above last_read_id, neither deleted nor hidden by the member.
    unread_count bigint NOT NULL DEFAULT 0,
    -- The newest message the member can see (NULL: none).
    last_message_id bigint,
    -- The later of that message's time and joined_at: the list's sort key.
    last_time bigint NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_by_user ON conversation_members(user_id, last_time, conversation_id);

-- Messages a member deleted for themselves only.
CREATE TABLE hidden_messages (
    user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message_id bigint NOT NULL REFERENCES messages(id),
    PRIMARY KEY (user_id, message_id)
);
