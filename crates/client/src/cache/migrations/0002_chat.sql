-- Version 2: chat. Contacts, the conversation list and recent messages of each
-- conversation, searched like notifications. Like notifications, conversations
-- keep the server's values (`server_*`) apart from what the user sees, which has
-- pending actions (a read mark not sent yet) applied on top.

CREATE TABLE contacts (
    username TEXT PRIMARY KEY,
    online   INTEGER NOT NULL DEFAULT 0,
    data     TEXT    NOT NULL -- the server's Contact, as JSON
) WITHOUT ROWID;

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind IN ('direct', 'room')),
    title             TEXT    NOT NULL, -- the peer's username or the room's name
    server_unread     INTEGER NOT NULL DEFAULT 0,
    unread_count      INTEGER NOT NULL DEFAULT 0,
    server_read_up_to INTEGER NOT NULL DEFAULT 0,
    read_up_to        INTEGER NOT NULL DEFAULT 0,
    peer_read_up_to   INTEGER,
    last_message_id   INTEGER,
    last_time         INTEGER NOT NULL, -- unix milliseconds
    -- The peer (a User) or the room (a Room) as the server last described it;
    -- `{}` for a conversation first seen through a message, until the list is
    -- fetched again.
    data              TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX conversations_recent ON conversations (last_time DESC, id DESC);

-- Recent messages of each conversation, plus messages written here and not
-- delivered yet. `local_id` exists because those have no server id; their
-- `client_id` is the key that makes sending them again safe.
CREATE TABLE messages (
    local_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    id              INTEGER UNIQUE, -- the server's id; NULL until delivered
    conversation_id INTEGER,        -- NULL for a first message to `peer` not delivered yet
    peer            TEXT,
    client_id       TEXT    NOT NULL,
    sender          TEXT,
    content         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'sent' CHECK (state IN ('sent', 'pending', 'failed')),
    hidden          INTEGER NOT NULL DEFAULT 0 -- deleted here, delete not confirmed yet
);
CREATE INDEX messages_history ON messages (conversation_id, id);
CREATE INDEX messages_client ON messages (client_id);

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages', content_rowid = 'local_id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.local_id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
    VALUES ('delete', old.local_id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
    VALUES ('delete', old.local_id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.local_id, new.content);
END;
