//! The one implementation of [`crate::Store`], shared by the backends.
//!
//! Each method names the store rule that serves it and how that rule runs:
//! - `run_read!(self, db => rule)` on a pooled read connection;
//! - `run_snapshot!(self, db => rule)` in one read transaction, for rules whose
//!   statements must agree with each other (counts and their cursor, a
//!   conversation list and the messages it names);
//! - `run_write!(self, db, events => rule)` in the writer's next group commit,
//!   answered once it is durable; `events` collects what the rule emits.
//!
//! A backend defines those three macros for its connections (SQLite runs a rule
//! to its end on the thread at hand, PostgreSQL awaits it), keeps an
//! `access: AccessFeed` for announcing changes to users and tokens, and invokes
//! `impl_store!(ItsStore)`; inserting a notification goes through the backend's
//! own `insert`, since PostgreSQL gathers personal ones into batches.

macro_rules! impl_store {
    ($store:ty) => {
        // A block of its own, so the names below need no imports where it is used.
        const _: () = {
        use herald_protocol::{
            Conversation, ConversationId, Counts, Cursor, DeleteRequest, FoundUser, Message,
            MessageId, Notification, Page, Room, TokenInfo, TokenKind, User, UserId,
        };
        use $crate::chat::{conversations, messages, rooms};
        use $crate::{
            contacts, events, notifications, retention, users, AccessChange, ContactEntry, ConversationFilter, DeleteScope,
            HistoryRange, Inserted, ListFilter, MarkTarget, MessageView, NewMessage,
            NewNotification, NewUser, Principal, PurgeStats, Result, Retention, RoomChange, Sent,
            StoredEvent, StreamBounds, UserChanges, UserRecord,
        };

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            async fn user_count(&self) -> Result<i64> {
                run_read!(self, db => users::count(db))
            }

            async fn create_user(&self, new: NewUser) -> Result<User> {
                run_write!(self, db, _events => users::create(db, &new))
            }

            async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
                let username = username.to_owned();
                run_read!(self, db => users::by_name(db, &username))
            }

            async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
                run_read!(self, db => users::by_id(db, id))
            }

            async fn search_users(
                &self,
                viewer: UserId,
                prefix: &str,
                limit: u32,
            ) -> Result<Vec<FoundUser>> {
                let prefix = prefix.to_owned();
                run_read!(self, db => users::search(db, viewer, &prefix, limit))
            }

            async fn update_user(&self, id: UserId, changes: UserChanges) -> Result<Option<User>> {
                let change = if $crate::rules::ends_sessions(&changes) {
                    AccessChange::SessionsEnded { user: id, token: None }
                } else {
                    AccessChange::Changed { user: id }
                };
                let updated = run_write!(self, db, _events => users::update(db, id, &changes))?;
                if updated.is_some() {
                    self.access.announce(change);
                }
                Ok(updated)
            }

            async fn delete_user(&self, id: UserId) -> Result<bool> {
                let deleted = run_write!(self, db, events => users::delete(db, events, id))?;
                if deleted {
                    self.access.announce(AccessChange::SessionsEnded { user: id, token: None });
                }
                Ok(deleted)
            }

            async fn create_token(
                &self,
                user_id: UserId,
                kind: TokenKind,
                name: &str,
                hash: Vec<u8>,
            ) -> Result<TokenInfo> {
                let name = name.to_owned();
                run_write!(self, db, _events => users::create_token(db, user_id, kind, &name, &hash))
            }

            async fn authenticate(&self, hash: Vec<u8>) -> Result<Option<Principal>> {
                run_read!(self, db => users::authenticate(db, &hash))
            }

            async fn list_tokens(&self, user_id: UserId) -> Result<Vec<TokenInfo>> {
                run_read!(self, db => users::list_tokens(db, user_id))
            }

            async fn delete_token(&self, user_id: UserId, token_id: i64) -> Result<bool> {
                let deleted =
                    run_write!(self, db, _events => users::delete_token(db, user_id, token_id))?;
                if deleted {
                    self.access.announce(AccessChange::SessionsEnded {
                        user: user_id,
                        token: Some(token_id),
                    });
                }
                Ok(deleted)
            }

            fn access_changes(&self) -> u64 {
                self.access.announced()
            }

            async fn insert_notification(&self, new: NewNotification) -> Result<Inserted> {
                self.insert(new).await
            }

            async fn list_notifications(
                &self,
                user_id: UserId,
                filter: ListFilter,
            ) -> Result<Page<Notification>> {
                run_read!(self, db => notifications::list(db, user_id, &filter))
            }

            async fn counts(&self, user_id: UserId) -> Result<(Counts, Cursor)> {
                run_snapshot!(self, db => notifications::counts(db, user_id))
            }

            async fn mark(&self, user_id: UserId, target: MarkTarget, read: bool) -> Result<i64> {
                run_write!(self, db, events => notifications::mark(db, events, user_id, &target, read))
            }

            async fn delete_notifications(
                &self,
                user_id: UserId,
                request: DeleteRequest,
            ) -> Result<i64> {
                run_write!(self, db, events => notifications::delete(db, events, user_id, &request.ids))
            }

            async fn add_contact(
                &self,
                owner: UserId,
                username: &str,
            ) -> Result<(ContactEntry, bool)> {
                let username = username.to_owned();
                run_write!(self, db, _events => contacts::add(db, owner, &username))
            }

            async fn remove_contact(&self, owner: UserId, username: &str) -> Result<bool> {
                let username = username.to_owned();
                run_write!(self, db, _events => contacts::remove(db, owner, &username))
            }

            async fn list_contacts(&self, owner: UserId) -> Result<Vec<ContactEntry>> {
                run_read!(self, db => contacts::list(db, owner))
            }

            async fn contact_owners(&self, user: UserId) -> Result<Vec<UserId>> {
                run_read!(self, db => contacts::owners(db, user))
            }

            async fn send_message(&self, new: NewMessage) -> Result<Sent> {
                run_write!(self, db, events => messages::send(db, events, &new))
            }

            async fn conversations(
                &self,
                user: UserId,
                filter: ConversationFilter,
            ) -> Result<Page<Conversation>> {
                run_snapshot!(self, db => conversations::conversations(db, user, filter))
            }

            async fn history(
                &self,
                user: UserId,
                conversation: ConversationId,
                range: HistoryRange,
            ) -> Result<Page<Message>> {
                run_snapshot!(self, db => messages::history(db, user, conversation, range))
            }

            async fn mark_conversation_read(
                &self,
                user: UserId,
                conversation: ConversationId,
                up_to: MessageId,
            ) -> Result<i64> {
                run_write!(self, db, events => messages::mark_read(db, events, user, conversation, up_to))
            }

            async fn delete_messages(
                &self,
                user: UserId,
                ids: Vec<MessageId>,
                scope: DeleteScope,
            ) -> Result<i64> {
                run_write!(self, db, events => messages::delete(db, events, user, &ids, scope))
            }

            async fn message_list(
                &self,
                user: UserId,
                view: MessageView,
                before: Option<MessageId>,
                limit: u32,
            ) -> Result<Page<Message>> {
                run_read!(self, db => messages::message_list(db, user, view, before, limit))
            }

            async fn create_room(
                &self,
                creator: UserId,
                name: String,
                members: Vec<String>,
            ) -> Result<Room> {
                run_write!(self, db, events => rooms::create_room(db, events, creator, &name, &members))
            }

            async fn change_room(
                &self,
                actor: UserId,
                room: ConversationId,
                change: RoomChange,
            ) -> Result<Room> {
                run_write!(self, db, events => rooms::change_room(db, events, actor, room, &change))
            }

            async fn rooms(&self, user: UserId) -> Result<Vec<Room>> {
                run_snapshot!(self, db => rooms::rooms(db, user))
            }

            async fn events_since(
                &self,
                user_id: UserId,
                since: Cursor,
                limit: u32,
            ) -> Result<Vec<StoredEvent>> {
                run_read!(self, db => events::since(db, user_id, since, limit))
            }

            async fn events_between(
                &self,
                after: Cursor,
                through: Option<Cursor>,
                limit: u32,
            ) -> Result<Vec<StoredEvent>> {
                run_read!(self, db => events::between(db, after, through, limit))
            }

            async fn stream_bounds(&self) -> Result<StreamBounds> {
                run_snapshot!(self, db => events::bounds(db))
            }

            fn writer_status(&self) -> $crate::WriterStatus {
                self.writer.health().status()
            }

            async fn probe_write(&self) -> Result<()> {
                run_write!(self, db, _events => events::probe(db))
            }

            async fn purge_chunk(&self, retention: &Retention) -> Result<PurgeStats> {
                let retention = *retention;
                run_write!(self, db, _events => retention::purge_chunk(db, &retention))
            }
        }
        };
    };
}

pub(crate) use impl_store;
