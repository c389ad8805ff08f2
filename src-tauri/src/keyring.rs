//! The platform's secret service, for [`herald_desktop_core::secrets::Secrets`]:
//! Secret Service over D-Bus on Linux.

use std::sync::Arc;

use keyring_core::CredentialStore;

/// Opens the OS credential store, or says why there is none.
pub fn open_platform_store() -> Result<Arc<CredentialStore>, String> {
    #[cfg(target_os = "linux")]
    {
        let store = zbus_secret_service_keyring_store::Store::new().map_err(|e| e.to_string())?;
        Ok(store)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err("no keyring store is built in for this platform".into())
    }
}
