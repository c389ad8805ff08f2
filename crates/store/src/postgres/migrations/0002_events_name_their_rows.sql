-- Events name the row they announce instead of copying it (see the SQLite
-- migration of the same name): notification.created, message.created and
-- room.updated are rebuilt on replay; `payload` holds what to send once that
-- row is gone. Events written before keep their full payload.
ALTER TABLE events
    ADD COLUMN notification_id bigint,
    ADD COLUMN message_id bigint,
    ADD COLUMN room_id bigint;
