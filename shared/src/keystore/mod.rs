//! Long-term access keys out of plaintext: a small store behind one trait, with two backends.
//!
//! - [`os::OsKeyring`]: the OS keyring through the `keyring` crate (Secret Service over D-Bus on
//!   Linux, the Keychain on macOS, the Credential Manager on Windows), one entry per profile
//!   under the service `aws-companions`. The default everywhere.
//! - [`file::EncryptedFile`]: an age file encrypted with a passphrase
//!   (`~/.aws/aws-companions/keys.age`, 0600, written atomically under a lock), for headless
//!   machines without a keyring. The passphrase comes from `AWS_COMPANIONS_KEY_STORE_PASSPHRASE`
//!   or a no-echo prompt on the terminal.
//!
//! The backend is `--key-store os|file`, else `AWS_COMPANIONS_KEY_STORE`, else `os`. Beside the
//! secrets an index (`~/.aws/aws-companions/keys.json`, 0600) records which profile's key lives
//! where, with the key id, its IAM user and creation date; it holds no secret, so listing keys and
//! `aws-keyaudit --local` never unlock anything.
//!
//! Threat model (also in the README): the store protects keys at rest from whoever reads the
//! home folder (backups, dotfile pushes, a package that greps `~/.aws/credentials`); it does not
//! protect them from code running as the user while the keyring is unlocked, nor from the
//! credentials a `credential_process` call hands out.

pub mod file;
pub mod os;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{CredentialError, Error};
use crate::os::Env;
use crate::secret::Secret;

/// Which store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The OS keyring.
    Os,
    /// The passphrase-encrypted file.
    File,
}

impl Backend {
    /// `os` / `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Os => "os",
            Backend::File => "file",
        }
    }

    /// The backend asked for: the flag, else `AWS_COMPANIONS_KEY_STORE`, else the OS keyring.
    pub fn choose(flag: Option<Backend>, env: &Env) -> Result<Backend, Error> {
        if let Some(b) = flag {
            return Ok(b);
        }
        match env.get(crate::env_vars::AWS_COMPANIONS_KEY_STORE) {
            None | Some("") | Some("os") => Ok(Backend::Os),
            Some("file") => Ok(Backend::File),
            Some(other) => Err(Error::usage(
                format!("AWS_COMPANIONS_KEY_STORE is `{}`, not `os` or `file`", crate::text::clip(other)),
                Some("set AWS_COMPANIONS_KEY_STORE=os (the OS keyring) or file (an encrypted file)".into()),
            )),
        }
    }

    /// Opens the store.
    pub fn open(self, env: &Env) -> Result<Box<dyn KeyStore>, Error> {
        Ok(match self {
            Backend::Os => Box::new(os::OsKeyring),
            Backend::File => Box::new(file::EncryptedFile::new(env)?),
        })
    }
}

/// An access key pair in the store.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// `AKIA...`.
    pub access_key_id: String,
    /// The secret (masked, zeroized).
    pub secret_access_key: Secret,
}

/// The store of one backend.
pub trait KeyStore {
    /// Which backend, for messages (`OS keyring (Secret Service)`, `encrypted file <path>`).
    fn describe(&self) -> String;
    /// The profile's key, if stored.
    fn get(&self, profile: &str) -> Result<Option<StoredKey>, Error>;
    /// Stores (or replaces) the profile's key.
    fn put(&self, profile: &str, key: &StoredKey) -> Result<(), Error>;
    /// Removes the profile's key; whether there was one.
    fn delete(&self, profile: &str) -> Result<bool, Error>;
}

/// The JSON a secret is stored as (both backends): the key id with its secret.
#[derive(Serialize, Deserialize)]
struct Pair {
    #[serde(rename = "AccessKeyId")]
    id: String,
    #[serde(rename = "SecretAccessKey")]
    secret: String,
}

impl Drop for Pair {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

/// A store error (exit 3) naming the backend and the way out.
pub fn store_error(backend: &str, message: impl Into<String>, fix: impl Into<String>) -> Error {
    CredentialError::KeyStore { backend: backend.into(), message: message.into(), fix: fix.into() }.into()
}

/// What the index records of a stored key (no secret).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyRecord {
    /// The profile the key serves.
    pub profile: String,
    /// `AKIA...`.
    pub access_key_id: String,
    /// Where its secret is.
    pub backend: Backend,
    /// Its IAM user, when it could be read.
    #[serde(default)]
    pub user: Option<String>,
    /// Its account.
    #[serde(default)]
    pub account: Option<String>,
    /// When IAM created it (`YYYY-MM-DDTHH:MM:SSZ`), when it could be read.
    #[serde(default)]
    pub created: Option<String>,
    /// When it was put in the store.
    pub stored: String,
}

/// The folder of our own files beside the AWS CLI's: `~/.aws/aws-companions` (0700).
pub fn folder(env: &Env) -> Result<PathBuf, Error> {
    if let Some(dir) = env.get(crate::env_vars::AWS_COMPANIONS_KEY_STORE_DIR).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = env.home().ok_or_else(|| {
        Error::usage("no home folder (HOME is not set)", Some("set HOME, or AWS_COMPANIONS_KEY_STORE_DIR".into()))
    })?;
    Ok(home.join(".aws").join("aws-companions"))
}

/// The index of stored keys.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Index {
    /// One record per profile.
    pub keys: Vec<KeyRecord>,
}

impl Index {
    fn path(env: &Env) -> Result<PathBuf, Error> {
        Ok(folder(env)?.join("keys.json"))
    }

    /// Reads the index (empty when there is none).
    pub fn load(env: &Env) -> Result<Index, Error> {
        let path = Index::path(env)?;
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::usage(
                    format!("{} is not a key index: {e}", path.display()),
                    Some("move it aside; `aws-assume keys add` writes a new one".into()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(Error::Io { context: format!("reading {}", path.display()), source: e }),
        }
    }

    /// Changes the index under its lock: read, `change`, write atomically (0600).
    pub fn update<T>(env: &Env, change: impl FnOnce(&mut Index) -> T) -> Result<T, Error> {
        let path = Index::path(env)?;
        let dir = folder(env)?;
        crate::fsutil::create_private_dir(&dir)
            .map_err(|e| Error::Io { context: format!("creating {}", dir.display()), source: e })?;
        let _lock = crate::fsutil::FileLock::acquire(&path, &crate::fsutil::LockWait::new("the key index", env))?;
        let mut index = Index::load(env)?;
        let out = change(&mut index);
        let bytes = serde_json::to_vec_pretty(&index).map_err(|e| Error::usage(e.to_string(), None))?;
        crate::fsutil::atomic_write(&path, &bytes, Some(0o600))
            .map_err(|e| Error::Io { context: format!("writing {}", path.display()), source: e })?;
        Ok(out)
    }

    /// The record of a profile.
    pub fn get(&self, profile: &str) -> Option<&KeyRecord> {
        self.keys.iter().find(|k| k.profile == profile)
    }

    /// Adds or replaces a profile's record.
    pub fn upsert(&mut self, record: KeyRecord) {
        self.keys.retain(|k| k.profile != record.profile);
        self.keys.push(record);
        self.keys.sort_by(|a, b| a.profile.cmp(&b.profile));
    }

    /// Removes a profile's record; whether it had one.
    pub fn remove(&mut self, profile: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|k| k.profile != profile);
        before != self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_follows_the_flag_then_the_environment() {
        assert_eq!(Backend::choose(None, &Env::default()).unwrap(), Backend::Os);
        let env = Env::from_pairs([("AWS_COMPANIONS_KEY_STORE", "file")]);
        assert_eq!(Backend::choose(None, &env).unwrap(), Backend::File);
        assert_eq!(Backend::choose(Some(Backend::Os), &env).unwrap(), Backend::Os);
        assert!(Backend::choose(None, &Env::from_pairs([("AWS_COMPANIONS_KEY_STORE", "vault")])).is_err());
    }

    #[test]
    fn the_index_keeps_one_record_per_profile_and_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("AWS_COMPANIONS_KEY_STORE_DIR", dir.path().to_str().unwrap())]);
        let rec = |p: &str, id: &str| KeyRecord {
            profile: p.into(),
            access_key_id: id.into(),
            backend: Backend::File,
            user: Some("u".into()),
            account: None,
            created: None,
            stored: "2026-11-28T00:00:00Z".into(),
        };
        Index::update(&env, |i| i.upsert(rec("b", "AKIA1"))).unwrap();
        Index::update(&env, |i| i.upsert(rec("a", "AKIA2"))).unwrap();
        Index::update(&env, |i| i.upsert(rec("b", "AKIA3"))).unwrap();
        let index = Index::load(&env).unwrap();
        assert_eq!(index.keys.iter().map(|k| k.access_key_id.as_str()).collect::<Vec<_>>(), ["AKIA2", "AKIA3"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("keys.json")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(Index::update(&env, |i| i.remove("a")).unwrap());
        assert!(!Index::update(&env, |i| i.remove("a")).unwrap());
    }
}
