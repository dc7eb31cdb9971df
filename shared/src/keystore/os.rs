//! The OS keyring through the `keyring` crate: Secret Service over D-Bus on Linux and the BSDs,
//! the Keychain on macOS, the Credential Manager on Windows. One entry per profile (service
//! `aws-companions`, account = the profile name) holding `{"AccessKeyId", "SecretAccessKey"}`.

use super::{KeyStore, Pair, StoredKey, store_error};
use crate::error::Error;
use crate::secret::Secret;

/// The keyring service name of our entries.
pub const SERVICE: &str = "aws-companions";

/// The OS keyring.
#[derive(Debug, Clone, Copy)]
pub struct OsKeyring;

fn name() -> &'static str {
    if cfg!(target_os = "macos") {
        "macOS Keychain"
    } else if cfg!(windows) {
        "Windows Credential Manager"
    } else {
        "OS keyring (Secret Service over D-Bus)"
    }
}

fn fail(e: keyring::Error) -> Error {
    let fix = if cfg!(any(target_os = "macos", windows)) {
        "unlock it (log in to the desktop session), or keep the keys in the encrypted file instead: --key-store file (AWS_COMPANIONS_KEY_STORE=file)"
    } else {
        "start and unlock a Secret Service (GNOME Keyring or KeePassXC; headless: `dbus-run-session -- sh -c 'echo -n PASSWORD | gnome-keyring-daemon --unlock --components=secrets; ...'`), or keep the keys in the encrypted file instead: --key-store file (AWS_COMPANIONS_KEY_STORE=file)"
    };
    let what = match &e {
        keyring::Error::NoStorageAccess(_) => "is locked or refused access",
        keyring::Error::NoDefaultStore => "is not available (no keyring service is running)",
        keyring::Error::PlatformFailure(_) => "failed",
        _ => "refused the request",
    };
    store_error(name(), format!("{what}: {}", crate::text::clip(&e.to_string())), fix)
}

fn entry(profile: &str) -> Result<keyring::Entry, Error> {
    keyring::Entry::new(SERVICE, profile).map_err(fail)
}

impl KeyStore for OsKeyring {
    fn describe(&self) -> String {
        name().to_string()
    }

    fn get(&self, profile: &str) -> Result<Option<StoredKey>, Error> {
        let mut bytes = match entry(profile)?.get_secret() {
            Ok(b) => b,
            Err(keyring::Error::NoEntry) => return Ok(None),
            Err(e) => return Err(fail(e)),
        };
        let pair: Result<Pair, _> = serde_json::from_slice(&bytes);
        zeroize::Zeroize::zeroize(&mut bytes);
        let pair = pair.map_err(|_| {
            store_error(
                name(),
                format!("holds an entry for `{}` that is not ours", crate::text::clip(profile)),
                format!("remove it (service {SERVICE}) and run `aws-assume keys add {profile}` again"),
            )
        })?;
        Ok(Some(StoredKey { access_key_id: pair.id.clone(), secret_access_key: Secret::new(pair.secret.clone()) }))
    }

    fn put(&self, profile: &str, key: &StoredKey) -> Result<(), Error> {
        let pair = Pair { id: key.access_key_id.clone(), secret: key.secret_access_key.expose().to_string() };
        let mut bytes = serde_json::to_vec(&pair).map_err(|e| Error::usage(e.to_string(), None))?;
        let r = entry(profile)?.set_secret(&bytes);
        zeroize::Zeroize::zeroize(&mut bytes);
        r.map_err(fail)
    }

    fn delete(&self, profile: &str) -> Result<bool, Error> {
        match entry(profile)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(fail(e)),
        }
    }
}
