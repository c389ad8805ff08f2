-- Chat: contacts, conversations (direct pairs and rooms), messages and each
-- member's state of them.

CREATE TABLE contacts (
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
) WITHOUT ROWID;
-- Presence goes to everyone who has the user as a contact.
CREATE INDEX contacts_by_contact ON contacts(contact_id);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('direct', 'room')),
    -- Rooms only.
    name TEXT,
    -- Rooms only: who manages the members.
    owner_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- Direct only: '<smaller user id>:<larger user id>', so a pair has exactly one
    -- conversation. Cleared when either user is deleted, so a reused id never
    -- inherits it.
    direct_key TEXT UNIQUE,
    created_at INTEGER NOT NULL
);

-- Deleting for everyone keeps a tombstone (deleted = 1, content emptied), so ids
-- are never reused and a retried send still finds its client_id.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    sender_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    client_id TEXT NOT NULL,
    content TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_by_client_id ON messages(sender_id, client_id);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX messages_by_sender ON messages(sender_id, id);

-- One row per member, denormalised so the conversation list and the unread
-- counts never scan history: each message updates its conversation's rows.
CREATE TABLE conversation_members (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at INTEGER NOT NULL,
    -- Every message with id <= this is read.
    last_read_id INTEGER NOT NULL DEFAULT 0,
    -- Others' messages above last_read_id, neither deleted nor hidden by the member.
    unread_count INTEGER NOT NULL DEFAULT 0,
    -- The newest message the member can see (NULL: none).
    last_message_id INTEGER,
    -- The later of that message's time and joined_at: the list's sort key.
    last_time INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON conversation_members(user_id, last_time, conversation_id);

-- Messages a member deleted for themselves only. (Message rows are never
-- deleted, so no index by message_id is needed for the foreign key.)
CREATE TABLE hidden_messages (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    PRIMARY KEY (user_id, message_id)
) WITHOUT ROWID;
