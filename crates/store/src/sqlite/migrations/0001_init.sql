-- Herald's first SQLite schema.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    -- Every broadcast with id <= this is read for the user unless broadcast_state
    -- says otherwise, so "mark all broadcasts read" moves one number.
    broadcast_read_upto INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('session', 'send')),
    name TEXT NOT NULL,
    hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX tokens_by_user ON tokens(user_id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('personal', 'broadcast')),
    category TEXT,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    link TEXT,
    priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    desktop INTEGER NOT NULL,
    sender_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_broadcasts ON notifications(id) WHERE kind = 'broadcast';
CREATE INDEX notifications_by_time ON notifications(created_at);
CREATE INDEX notifications_by_sender ON notifications(sender_id);

-- One row per recipient of a personal notification; deleting is removing the row.
CREATE TABLE recipients (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    read INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, notification_id)
) WITHOUT ROWID;
CREATE INDEX recipients_unread ON recipients(user_id) WHERE read = 0;
CREATE INDEX recipients_by_notification ON recipients(notification_id);

-- Exceptions to users.broadcast_read_upto: a row only where a user changed a
-- broadcast's state, never one per user per broadcast at send time.
CREATE TABLE broadcast_state (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    read INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, notification_id)
) WITHOUT ROWID;
CREATE INDEX broadcast_state_by_notification ON broadcast_state(notification_id);

-- The resumable stream. AUTOINCREMENT keeps cursors growing even after a purge
-- empties the table. user_id NULL: an event for every user.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER,
    created_at INTEGER NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX events_by_user ON events(user_id, seq);
CREATE INDEX events_by_time ON events(created_at);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('purged_through', 0);
