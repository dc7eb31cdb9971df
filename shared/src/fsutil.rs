//! Safe file writes: a temporary file in the same folder, fsync, permissions set before the
//! rename, then an atomic rename, so a reader (or a crash at any point, SIGKILL included) sees the
//! old file or the new one, never half of one. Writers take an exclusive lock on a sibling
//! `<name>.lock` file so concurrent runs serialise instead of losing each other's changes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Creates `dir` (and parents) with mode 0700 where it does not exist yet.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Atomically replaces `path` with `bytes`. `mode` sets the permissions of the new file; None keeps
/// those of the file being replaced (0600 for a new file).
pub fn atomic_write(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    // Never write through a symlink planted where a cache file should be: replace the link itself.
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let keep =
            std::fs::symlink_metadata(path).ok().filter(|m| m.is_file()).map(|m| m.permissions().mode() & 0o7777);
        let mode = mode.or(keep).unwrap_or(0o600);
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// An exclusive lock on `<path>.lock`, released on drop.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Blocks until the lock on `<path>.lock` is ours.
    pub fn acquire(path: &Path) -> std::io::Result<Self> {
        let lock_path = lock_path(path);
        if let Some(dir) = lock_path.parent() {
            create_private_dir(dir)?;
        }
        let mut opts = OpenOptions::new();
        opts.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(&lock_path)?;
        file.lock()?;
        Ok(Self { file, path: lock_path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_sets_modes_and_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub/cache.json");
        atomic_write(&f, b"one", Some(0o600)).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(f.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
            atomic_write(&f, b"two", None).unwrap();
            assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o644);
        }
        assert_eq!(std::fs::read_dir(f.parent().unwrap()).unwrap().count(), 1, "no temp file left behind");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("cache.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        atomic_write(&link, b"new", Some(0o600)).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(!std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    }

    #[test]
    fn lock_is_exclusive_across_handles() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        let first = FileLock::acquire(&target).unwrap();
        let f = OpenOptions::new().write(true).open(first.path()).unwrap();
        assert!(f.try_lock().is_err(), "a second handle cannot take the lock");
        drop(first);
        assert!(f.try_lock().is_ok());
    }
}
