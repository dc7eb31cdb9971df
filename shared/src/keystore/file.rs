//! The encrypted file for machines without a keyring: `keys.age` in the store folder, an age file
//! encrypted to a passphrase (scrypt), holding `{"profile": {"AccessKeyId", "SecretAccessKey"}}`.
//! Written atomically (0600) under a lock; the passphrase from
//! `AWS_COMPANIONS_KEY_STORE_PASSPHRASE` or a no-echo prompt on the terminal, asked twice when
//! the file is created.
//!
//! The scrypt work factor is 2^15 (about 0.1 s here) instead of age's one-second default: every
//! `credential_process` call opens the file, and a second per `aws` command is too slow to live
//! with. The passphrase still costs an attacker 2^15 scrypt rounds per guess.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;

use age::secrecy::SecretString;

use super::{KeyStore, Pair, StoredKey, store_error};
use crate::error::Error;
use crate::os::Env;
use crate::secret::Secret;

const WORK_FACTOR: u8 = 15;
const MAX_FILE: u64 = 4 * 1024 * 1024;

/// The passphrase-encrypted file.
pub struct EncryptedFile {
    path: PathBuf,
    env: Env,
    passphrase: std::cell::RefCell<Option<Secret>>,
}

impl EncryptedFile {
    /// The store file of this environment (not opened yet).
    pub fn new(env: &Env) -> Result<Self, Error> {
        Ok(EncryptedFile {
            path: super::folder(env)?.join("keys.age"),
            env: env.clone(),
            passphrase: std::cell::RefCell::new(None),
        })
    }

    fn name(&self) -> String {
        format!("encrypted file {}", self.path.display())
    }

    fn fix(&self) -> String {
        "check the passphrase (or AWS_COMPANIONS_KEY_STORE_PASSPHRASE); without it the keys in this file cannot be recovered".into()
    }

    /// The passphrase: the environment's, else asked on the terminal (twice for a new file).
    fn passphrase(&self, creating: bool) -> Result<Secret, Error> {
        if let Some(p) = self.passphrase.borrow().as_ref() {
            return Ok(p.clone());
        }
        let p = match self.env.get(crate::env_vars::AWS_COMPANIONS_KEY_STORE_PASSPHRASE) {
            Some(p) if !p.is_empty() => Secret::new(p),
            _ => {
                let ask = |prompt: &str| {
                    rpassword::prompt_password(prompt).map(Secret::new).map_err(|e| {
                        store_error(
                            &self.name(),
                            format!("needs a passphrase and none could be asked for ({e})"),
                            "set AWS_COMPANIONS_KEY_STORE_PASSPHRASE, or run this on a terminal",
                        )
                    })
                };
                let first = ask(&format!("Passphrase for {}: ", self.path.display()))?;
                if creating && ask("The same passphrase again: ")?.expose() != first.expose() {
                    return Err(store_error(&self.name(), "was not created: the passphrases differ", "run it again"));
                }
                first
            }
        };
        if p.expose().is_empty() {
            return Err(store_error(&self.name(), "needs a passphrase that is not empty", self.fix()));
        }
        *self.passphrase.borrow_mut() = Some(p.clone());
        Ok(p)
    }

    /// Every key in the file (none when there is no file yet).
    fn read_all(&self) -> Result<BTreeMap<String, Pair>, Error> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(Error::Io { context: format!("reading {}", self.path.display()), source: e }),
        };
        if meta.len() > MAX_FILE {
            return Err(store_error(&self.name(), "is larger than a key store can be", "move it aside"));
        }
        let cipher = std::fs::read(&self.path)
            .map_err(|e| Error::Io { context: format!("reading {}", self.path.display()), source: e })?;
        let pass = self.passphrase(false)?;
        let decryptor = age::Decryptor::new_buffered(&cipher[..])
            .map_err(|e| store_error(&self.name(), format!("is not an age file: {e}"), "move it aside"))?;
        let mut identity = age::scrypt::Identity::new(SecretString::from(pass.expose().to_string()));
        identity.set_max_work_factor(22);
        let mut plain = Vec::new();
        decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .and_then(|mut r| r.read_to_end(&mut plain).map_err(age::DecryptError::from))
            .map_err(|e| {
                *self.passphrase.borrow_mut() = None;
                store_error(&self.name(), format!("could not be opened: {e} (a wrong passphrase?)"), self.fix())
            })?;
        let keys = serde_json::from_slice(&plain);
        zeroize::Zeroize::zeroize(&mut plain);
        keys.map_err(|e| store_error(&self.name(), format!("holds no key store: {e}"), "move it aside"))
    }

    /// Changes the file under its lock: open, `change`, encrypt, write atomically (0600).
    fn change<T>(&self, change: impl FnOnce(&mut BTreeMap<String, Pair>) -> T) -> Result<T, Error> {
        let dir = super::folder(&self.env)?;
        crate::fsutil::create_private_dir(&dir)
            .map_err(|e| Error::Io { context: format!("creating {}", dir.display()), source: e })?;
        let _lock =
            crate::fsutil::FileLock::acquire(&self.path, &crate::fsutil::LockWait::new("the key store", &self.env))?;
        let creating = !self.path.exists();
        if creating {
            self.passphrase(true)?;
        }
        let mut keys = self.read_all()?;
        let out = change(&mut keys);
        let mut plain = serde_json::to_vec(&keys).map_err(|e| Error::usage(e.to_string(), None))?;
        let pass = self.passphrase(creating)?;
        let mut recipient = age::scrypt::Recipient::new(SecretString::from(pass.expose().to_string()));
        recipient.set_work_factor(WORK_FACTOR);
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .map_err(|e| store_error(&self.name(), format!("could not be encrypted: {e}"), self.fix()))?;
        let mut cipher = Vec::new();
        let written = encryptor
            .wrap_output(&mut cipher)
            .and_then(|mut w| w.write_all(&plain).and_then(|()| w.finish().map(|_| ())));
        zeroize::Zeroize::zeroize(&mut plain);
        written.map_err(|e| Error::Io { context: "encrypting the key store".into(), source: e })?;
        crate::fsutil::atomic_write(&self.path, &cipher, Some(0o600))
            .map_err(|e| Error::Io { context: format!("writing {}", self.path.display()), source: e })?;
        Ok(out)
    }
}

impl KeyStore for EncryptedFile {
    fn describe(&self) -> String {
        self.name()
    }

    fn get(&self, profile: &str) -> Result<Option<StoredKey>, Error> {
        Ok(self
            .read_all()?
            .get(profile)
            .map(|p| StoredKey { access_key_id: p.id.clone(), secret_access_key: Secret::new(p.secret.clone()) }))
    }

    fn put(&self, profile: &str, key: &StoredKey) -> Result<(), Error> {
        let pair = Pair { id: key.access_key_id.clone(), secret: key.secret_access_key.expose().to_string() };
        self.change(|keys| {
            keys.insert(profile.to_string(), pair);
        })
    }

    fn delete(&self, profile: &str) -> Result<bool, Error> {
        if !self.path.exists() {
            return Ok(false);
        }
        self.change(|keys| keys.remove(profile).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_a_wrong_passphrase_is_a_store_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let env = Env::from_pairs([
            ("AWS_COMPANIONS_KEY_STORE_DIR", d),
            ("AWS_COMPANIONS_KEY_STORE_PASSPHRASE", "correct horse"),
        ]);
        let store = EncryptedFile::new(&env).unwrap();
        let key = StoredKey { access_key_id: "AKIAEXAMPLE".into(), secret_access_key: Secret::new("s3cr3t") };
        store.put("dev", &key).unwrap();
        store.put("ops", &key).unwrap();
        let got = store.get("dev").unwrap().unwrap();
        assert_eq!((got.access_key_id.as_str(), got.secret_access_key.expose()), ("AKIAEXAMPLE", "s3cr3t"));
        let raw = std::fs::read(dir.path().join("keys.age")).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"s3cr3t") && !raw.windows(11).any(|w| w == b"AKIAEXAMPLE"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("keys.age")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(store.delete("ops").unwrap());
        assert!(store.get("ops").unwrap().is_none());
        let wrong =
            Env::from_pairs([("AWS_COMPANIONS_KEY_STORE_DIR", d), ("AWS_COMPANIONS_KEY_STORE_PASSPHRASE", "wrong")]);
        let e = EncryptedFile::new(&wrong).unwrap().get("dev").unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("wrong passphrase"), "{e}");
        assert!(!e.to_string().contains("s3cr3t"));
    }
}
