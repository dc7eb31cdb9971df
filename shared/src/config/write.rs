//! Edits of the user's AWS files (`~/.aws/config`, `~/.aws/credentials`, the alias file) as
//! lossless documents, through the one write path ([`crate::fsutil::edit_file`]): locked, checked
//! against concurrent changes, atomic, with a rolling backup. `--dry-run` uses [`preview`], which
//! neither writes nor takes the write lock.
//!
//! It owns the glue between bytes and [`Document`]; the document owns the edits and the value
//! checks, `fsutil` owns locking, temp files and renames.

use std::path::Path;

use super::doc::Document;
use crate::error::{ConfigError, Error};
use crate::fsutil::{EditError, EditOptions, Edited, LockWait, edit_file};
use crate::os::Env;

fn decode(path: &Path, bytes: &[u8]) -> Result<String, Error> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let line = bytes[..e.utf8_error().valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        ConfigError::NotUtf8 { path: path.into(), line }.into()
    })
}

/// Applies `edit` to the document at `path` and writes the result if it changed. `purpose` is
/// recorded in the lock file ("syncing sso-session corp") for anyone who has to wait.
pub fn edit(
    path: &Path,
    env: &Env,
    purpose: &str,
    mut edit: impl FnMut(&mut Document) -> Result<(), Error>,
) -> Result<Edited, Error> {
    let opts = EditOptions { lock: LockWait::new(purpose, env), new_mode: 0o600 };
    let result = edit_file(path, &opts, |bytes| {
        let old = decode(path, bytes)?;
        let mut doc = Document::parse(&old);
        edit(&mut doc)?;
        let new = doc.render();
        debug_assert_eq!(Document::parse(&new).render(), new, "a rendered document parses back to itself");
        Ok::<_, Error>((new != old).then(|| new.into_bytes()))
    });
    match result {
        Ok(e) => Ok(e),
        Err(EditError::Edit(e)) => Err(e),
        Err(EditError::Write(e)) => Err(e.into()),
    }
}

/// What [`edit`] would do, without a lock or a write: (the current text, the text after the edit).
pub fn preview(
    path: &Path,
    mut edit: impl FnMut(&mut Document) -> Result<(), Error>,
) -> Result<(String, String), Error> {
    let target = crate::fsutil::final_target(path).unwrap_or_else(|_| path.to_path_buf());
    let old = match std::fs::read(&target) {
        Ok(b) => decode(path, &b)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(ConfigError::Read { path: path.into(), source: e }.into()),
    };
    let mut doc = Document::parse(&old);
    edit(&mut doc)?;
    Ok((old, doc.render()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_through_the_write_path_and_previews_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config");
        std::fs::write(&f, "# mine\n[default]\nregion = us-east-1\n").unwrap();
        let env = Env::default();
        let (old, new) = preview(&f, |d| Ok(d.set("profile x", "region", "eu-west-1")?)).unwrap();
        assert_eq!(old, std::fs::read_to_string(&f).unwrap());
        assert!(new.ends_with("[profile x]\nregion = eu-west-1\n"));
        assert!(!f.with_file_name("config.lock").exists(), "a preview takes no lock");
        edit(&f, &env, "test", |d| Ok(d.set("profile x", "region", "eu-west-1")?)).unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), new);
        let e = edit(&f, &env, "test", |d| Ok(d.set("profile x", "region", "a\nb")?)).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), new, "a refused value writes nothing");
        std::fs::write(&f, b"[p]\nx = \xff\n").unwrap();
        let e = edit(&f, &env, "test", |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }
}
