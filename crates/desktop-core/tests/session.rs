//! The desktop session against a real server: a login keeps its token in the
//! keyring and its account in the settings, the next start resumes it, logout
//! forgets it, and the bundled server's admin login is resumed rather than
//! repeated.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use herald_client::{Client, ClientOptions};
use herald_desktop_core::secrets::{SecretStorage, Secrets};
use herald_desktop_core::session::Session;
use herald_desktop_core::settings::AppSettings;
use herald_desktop_core::Error;
use herald_testkit::{password_of, TestServer};
use keyring_core::CredentialStore;

/// keyring-core's in-memory store, shared by the app's starts within a test.
fn mock_keyring() -> Arc<CredentialStore> {
    keyring_core::mock::Store::new().expect("mock keyring")
}

/// One start of the app: a session over a fresh client, the shared keyring and
/// the app's config dir.
async fn start(keyring: &Arc<CredentialStore>, dir: &Path) -> Session {
    let client = Client::open(ClientOptions::in_memory())
        .await
        .expect("client opens");
    let secrets = Secrets::new(Ok(keyring.clone()), dir);
    Session::new(client, secrets, dir.to_path_buf(), AppSettings::load(dir))
}

async fn online(session: &Session) {
    tokio::time::timeout(Duration::from_secs(30), session.client().settled())
        .await
        .expect("the client comes online");
}

#[tokio::test]
async fn a_login_is_kept_in_the_keyring_and_resumed_at_the_next_start() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let keyring = mock_keyring();
    let dir = tempfile::tempdir().unwrap();

    let first = start(&keyring, dir.path()).await;
    first
        .login(&server.url(), " alice ", &password_of("alice"), false)
        .await
        .expect("login");
    online(&first).await;
    let info = first.info(false);
    assert!(info.signed_in);
    assert_eq!(info.username.as_deref(), Some("alice"));
    assert_eq!(info.storage, SecretStorage::Keyring);
    let saved = AppSettings::load(dir.path());
    assert_eq!(saved.username.as_deref(), Some("alice"));
    assert_eq!(saved.server.as_deref(), Some(server.url().as_str()));
    drop(first);

    let next = start(&keyring, dir.path()).await;
    assert!(next.resume_saved().await.expect("resume"));
    online(&next).await;
    assert_eq!(
        next.client().user().map(|u| u.username).as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn logout_forgets_the_token_here_and_on_the_server() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let keyring = mock_keyring();
    let dir = tempfile::tempdir().unwrap();
    let session = start(&keyring, dir.path()).await;
    session
        .login(&server.url(), "alice", &password_of("alice"), false)
        .await
        .expect("login");
    online(&session).await;
    let token = session.client().credentials().expect("signed in").token;

    session.logout().await.expect("logout");
    assert!(!session.info(false).signed_in);
    let account = AppSettings::load(dir.path())
        .account()
        .expect("account kept");
    assert_eq!(session.secrets().load(&account).0, None);
    let me = server
        .anonymous()
        .with_token(&token)
        .get("/api/v1/me")
        .await;
    assert_eq!(me.status, 401, "the token is revoked: {}", me.body);
    // Nothing saved: the next start shows the login form.
    assert!(!start(&keyring, dir.path())
        .await
        .resume_saved()
        .await
        .unwrap());
}

#[tokio::test]
async fn the_local_server_signs_in_as_its_admin_once_then_resumes() {
    let server = TestServer::spawn().await;
    let keyring = mock_keyring();
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();

    let first = start(&keyring, dir.path()).await;
    first
        .sign_in_local(&url, Some(server.admin_password().to_string()))
        .await
        .expect("admin login");
    online(&first).await;
    assert!(AppSettings::load(dir.path()).local_server);
    drop(first);

    // The next start needs no password: the saved login is for this server.
    let next = start(&keyring, dir.path()).await;
    next.sign_in_local(&url, None).await.expect("resumed");
    online(&next).await;
    assert_eq!(
        next.client().user().map(|u| u.username).as_deref(),
        Some("admin")
    );

    // A local server at another address is a new login, which needs the password.
    let elsewhere = start(&keyring, dir.path()).await;
    assert!(matches!(
        elsewhere.sign_in_local("http://127.0.0.1:9", None).await,
        Err(Error::NoAdminPassword)
    ));
}
