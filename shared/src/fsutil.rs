//! The one write path for every file we own or edit, and the locks around it.
//!
//! - [`edit_file`]: for files that belong to the user (`~/.aws/config`, `~/.aws/credentials`, the
//!   AWS CLI alias file): lock; read; edit; write a temp file beside the real target; fsync; check
//!   the file is still what was read (size, mtime, content hash) and redo the edit if not; keep one
//!   rolling backup; rename onto the target. Symlinks are followed and their final target written
//!   (the link stays a link); a hard-linked file is rewritten in place so every name sees the new
//!   text; the mode and owner are kept; anything that is not a regular file is refused, and so is
//!   a file without write permission (0444 means "do not touch", even for root). Stale temp files
//!   of our own naming are removed on the next run.
//! - [`atomic_write`]: for cache files that are ours alone: temp file, fsync, mode, rename; a
//!   symlink planted where a cache file should be is replaced, never followed.
//! - [`FileLock`]: an exclusive lock on `<file>.lock` that records who holds it; a waiter says so
//!   after a second (which tool, which pid, why) and gives up after a limit.
//!
//! It does not parse anything: the INI document is `config::doc`, the edit of `~/.aws/config` as a
//! document is `config::write`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// The marker in the names of our temp files (`.<name>.aws-companions-tmp.<pid>.<random>`).
const TMP_MARK: &str = ".aws-companions-tmp.";
/// How long a lock waiter waits before saying who holds the lock.
const ANNOUNCE_AFTER: Duration = Duration::from_secs(1);
/// The default limit of a lock wait (`AWS_COMPANIONS_LOCK_TIMEOUT` changes it).
pub const DEFAULT_LOCK_LIMIT: Duration = Duration::from_secs(60);
/// Temp files of [`atomic_write`] older than this are someone's leftovers (a killed run).
const STALE_TMP_AGE: Duration = Duration::from_secs(600);
/// How long an edit keeps being redone while another program keeps changing the file under it
/// (each round re-reads the file and redoes the edit, so nothing of theirs is lost).
const EDIT_BUDGET: Duration = Duration::from_secs(15);

static TOOL: OnceLock<String> = OnceLock::new();

/// Names the running tool in lock files (`cli::main` sets it once).
pub fn set_tool_name(name: &str) {
    let _ = TOOL.set(name.to_string());
}

fn tool_name() -> &'static str {
    TOOL.get().map(String::as_str).unwrap_or("aws-companions")
}

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

fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn tmp_prefix(target: &Path) -> String {
    format!(".{}{TMP_MARK}", target.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())
}

/// A new temp file beside `target`, named so that a later run can recognise and remove it.
fn temp_beside(target: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&format!("{}{}.", tmp_prefix(target), std::process::id()))
        .rand_bytes(8)
        .tempfile_in(parent_of(target))
}

/// Removes our temp files for `target` (all of them when `older_than` is None, which is only
/// safe while holding the target's lock).
fn remove_stale_temps(target: &Path, older_than: Option<Duration>) {
    let prefix = tmp_prefix(target);
    let Ok(entries) = std::fs::read_dir(parent_of(target)) else { return };
    // File ages are compared with the file system's own clock, not the injected one.
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let stale = match older_than {
            None => true,
            Some(age) => e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|d| d > age),
        };
        if stale {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Atomically replaces the cache file `path` with `bytes`. `mode` sets the permissions of the new
/// file; None keeps those of the file being replaced (0600 for a new file).
pub fn atomic_write(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    let dir = parent_of(path);
    create_private_dir(dir)?;
    remove_stale_temps(path, Some(STALE_TMP_AGE));
    // Never write through a symlink planted where a cache file should be: replace the link itself.
    let mut tmp = temp_beside(path)?;
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
    sync_dir(dir);
    Ok(())
}

/// How to wait for a lock.
#[derive(Debug, Clone)]
pub struct LockWait {
    /// Why we take it, recorded in the lock file for other waiters ("editing ~/.aws/config").
    pub purpose: String,
    /// Give up after this long.
    pub limit: Duration,
    /// Say on stderr who holds it once the wait passes a second.
    pub announce: bool,
}

impl LockWait {
    /// A wait with the limit from `AWS_COMPANIONS_LOCK_TIMEOUT` (seconds), else
    /// [`DEFAULT_LOCK_LIMIT`].
    pub fn new(purpose: impl Into<String>, env: &crate::os::Env) -> Self {
        let limit = env
            .get(crate::env_vars::AWS_COMPANIONS_LOCK_TIMEOUT)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_LOCK_LIMIT);
        Self { purpose: purpose.into(), limit, announce: true }
    }
}

/// A lock could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another process held it for the whole limit.
    #[error("gave up after {:.0} s waiting for {}{}", waited.as_secs_f64(), path.display(), holder.as_ref().map(|h| format!(", held by {h}")).unwrap_or_default())]
    Timeout {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as its lock file says (escaped).
        holder: Option<String>,
        /// How long we waited.
        waited: Duration,
    },
    /// The lock file could not be created or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// An exclusive lock on `<path>.lock`, released on drop.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

/// What a lock file says about its holder, escaped and cut (the file could hold anything).
fn holder_of(lock_path: &Path) -> Option<String> {
    let mut buf = Vec::new();
    File::open(lock_path).ok()?.take(512).read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let text = text.trim();
    (!text.is_empty()).then(|| crate::text::clip(text))
}

impl FileLock {
    /// Waits for the lock on `<path>.lock` as `wait` says.
    pub fn acquire(path: &Path, wait: &LockWait) -> Result<Self, LockError> {
        let lock_path = lock_path(path);
        let io = |source| LockError::Io { path: lock_path.clone(), source };
        if let Some(dir) = lock_path.parent() {
            create_private_dir(dir).map_err(io)?;
        }
        let mut opts = OpenOptions::new();
        opts.create(true).truncate(false).read(true).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(&lock_path).map_err(io)?;
        let started = Instant::now();
        let mut announced = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            let waited = started.elapsed();
            if waited >= wait.limit {
                return Err(LockError::Timeout { holder: holder_of(&lock_path), path: lock_path, waited });
            }
            if wait.announce && !announced && waited >= ANNOUNCE_AFTER {
                announced = true;
                eprintln!(
                    "{}: waiting for {} ({}), held by {}; giving up after {:.0} s",
                    tool_name(),
                    lock_path.display(),
                    crate::text::clean(&wait.purpose),
                    holder_of(&lock_path).unwrap_or_else(|| "another process".into()),
                    wait.limit.as_secs_f64()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Say who we are, for the next waiter.
        let mut f = &file;
        let _ = f.set_len(0);
        let _ = f.seek(std::io::SeekFrom::Start(0));
        let _ = write!(f, "{} (pid {}): {}", tool_name(), std::process::id(), wait.purpose);
        Ok(Self { file, path: lock_path })
    }

    /// As [`FileLock::acquire`], from async code (the wait runs on a blocking thread).
    pub async fn acquire_async(path: PathBuf, wait: LockWait) -> Result<Self, LockError> {
        let lock_path = lock_path(&path);
        tokio::task::spawn_blocking(move || Self::acquire(&path, &wait))
            .await
            .map_err(|e| LockError::Io { path: lock_path, source: std::io::Error::other(e) })?
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

/// The rolling backup of `path`: `<name>.aws-companions.bak` beside it, 0600.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".aws-companions.bak");
    path.with_file_name(name)
}

/// Why a file the user owns was not written. Nothing was changed in any of these cases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The path is a folder, device, FIFO or socket.
    #[error("{} is {what}, not a regular file; nothing was written", path.display())]
    NotRegular {
        /// The path (after following symlinks).
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// The file has no write permission.
    #[error("{} is read-only (mode {mode:o}); nothing was written", path.display())]
    ReadOnly {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Another process kept changing the file while we edited it.
    #[error("{} kept changing for {} s while it was being edited; nothing was written", path.display(), EDIT_BUDGET.as_secs())]
    KeptChanging {
        /// The file.
        path: PathBuf,
    },
    /// The lock could not be had.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A file-system call failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "write a temp file beside").
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// An edit failed: either the write path or the edit itself.
#[derive(Debug)]
pub enum EditError<E> {
    /// The write path refused or failed.
    Write(WriteError),
    /// The edit function failed.
    Edit(E),
}

/// What [`edit_file`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edited {
    /// The edit changed nothing; the file was not touched.
    Unchanged,
    /// The file was written.
    Written {
        /// The file written (the symlink's final target where there was one).
        target: PathBuf,
        /// The previous version, when there was one.
        backup: Option<PathBuf>,
    },
}

/// Why a folder cannot be trusted to hold our caches: writable by group or others, or owned by
/// another user. With `sticky_ok`, a world-writable folder with the sticky bit (`/tmp`) passes:
/// others can add files there but not replace ours. Returns the folder and the reason; None when
/// it is fine or does not exist.
pub fn untrusted(dir: &Path, sticky_ok: bool) -> Option<(PathBuf, String)> {
    let m = std::fs::metadata(dir).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mode = m.permissions().mode() & 0o7777;
        // Group-writable is fine when the group is our own (user-private groups, umask 002, as on
        // Debian and Ubuntu); a group of others, or everyone, could plant a file.
        let foreign_group = m.gid() != rustix::process::getegid().as_raw();
        let others_write = mode & 0o002 != 0 || (mode & 0o020 != 0 && foreign_group);
        if others_write && !(sticky_ok && mode & 0o1000 != 0) {
            return Some((dir.to_path_buf(), format!("it is writable by other users (mode {mode:o})")));
        }
        if foreign(&m) {
            return Some((dir.to_path_buf(), format!("it is owned by another user (uid {})", m.uid())));
        }
    }
    #[cfg(not(unix))]
    let _ = (m, sticky_ok);
    None
}

/// Whether a file or folder belongs to another user than the one running us.
pub fn foreign(m: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        m.uid() != rustix::process::geteuid().as_raw()
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        false
    }
}

/// How [`edit_file`] writes.
#[derive(Debug, Clone)]
pub struct EditOptions {
    /// The lock wait.
    pub lock: LockWait,
    /// The mode of a file that does not exist yet.
    pub new_mode: u32,
}

/// Follows symlinks (relative ones against their own folder) to the final path; a dangling link's
/// target is where the new file goes.
pub fn final_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let t = std::fs::read_link(&p)?;
                p = if t.is_absolute() { t } else { parent_of(&p).join(t) };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

fn file_kind(m: &std::fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// What the file was when read: compared again before the rename.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    len: u64,
    modified: Option<SystemTime>,
    hash: [u8; 32],
}

impl Snapshot {
    fn of(bytes: &[u8], meta: Option<&std::fs::Metadata>) -> Self {
        use sha2::Digest;
        Self {
            len: bytes.len() as u64,
            modified: meta.and_then(|m| m.modified().ok()),
            hash: sha2::Sha256::digest(bytes).into(),
        }
    }
}

/// A file as read: its bytes, snapshot and metadata (empty and None when it does not exist).
type Current = (Vec<u8>, Option<Snapshot>, Option<std::fs::Metadata>);

/// The current bytes and snapshot of `target`.
fn read_current(target: &Path) -> Result<Current, WriteError> {
    let io = |action, source| WriteError::Io { action, path: target.to_path_buf(), source };
    match std::fs::metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Vec::new(), None, None)),
        Err(e) => Err(io("read", e)),
        Ok(m) if !m.is_file() => Err(WriteError::NotRegular { path: target.to_path_buf(), what: file_kind(&m) }),
        Ok(m) => {
            let bytes = std::fs::read(target).map_err(|e| io("read", e))?;
            let snap = Snapshot::of(&bytes, Some(&m));
            Ok((bytes, Some(snap), Some(m)))
        }
    }
}

#[cfg(unix)]
fn check_writable(target: &Path, meta: &std::fs::Metadata) -> Result<(), WriteError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o222 == 0 {
        return Err(WriteError::ReadOnly { path: target.into(), mode });
    }
    OpenOptions::new().write(true).open(target).map(drop).map_err(|e| {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            WriteError::ReadOnly { path: target.into(), mode }
        } else {
            WriteError::Io { action: "open for writing", path: target.into(), source: e }
        }
    })
}

#[cfg(not(unix))]
fn check_writable(target: &Path, meta: &std::fs::Metadata) -> Result<(), WriteError> {
    if meta.permissions().readonly() {
        return Err(WriteError::ReadOnly { path: target.into(), mode: 0o444 });
    }
    Ok(())
}

/// Edits the user's file at `path` through the one write path (see the module docs). `edit`
/// gets the current bytes (empty for a missing file) and returns the new ones, or None to leave
/// the file alone; it may be called again if the file changes under it.
pub fn edit_file<E>(
    path: &Path,
    opts: &EditOptions,
    mut edit: impl FnMut(&[u8]) -> Result<Option<Vec<u8>>, E>,
) -> Result<Edited, EditError<E>> {
    let w = EditError::Write;
    let target = final_target(path)
        .map_err(|e| w(WriteError::Io { action: "follow the link", path: path.into(), source: e }))?;
    let _lock = FileLock::acquire(path, &opts.lock).map_err(|e| w(e.into()))?;
    // Under the lock no other run is writing either file: every temp file of ours beside them is
    // a killed run's, the backup's included (a run killed while writing the backup left one).
    remove_stale_temps(&target, None);
    remove_stale_temps(&backup_path(&target), None);
    // Bytes handed down from a replaced inode that someone wrote to during our rename.
    let mut carried: Option<(Vec<u8>, Snapshot)> = None;
    let started = Instant::now();
    while started.elapsed() < EDIT_BUDGET {
        let (current, snap, meta) = read_current(&target).map_err(w)?;
        if let Some(m) = &meta {
            check_writable(&target, m).map_err(w)?;
        }
        let base = match carried.take() {
            Some((bytes, ours)) if snap.as_ref() == Some(&ours) => bytes,
            _ => current.clone(),
        };
        let Some(new) = edit(&base).map_err(EditError::Edit)? else {
            return Ok(Edited::Unchanged);
        };
        if new == current {
            return Ok(Edited::Unchanged);
        }
        match write_round(&target, path, &current, snap.as_ref(), meta.as_ref(), &new, opts).map_err(w)? {
            Round::Done(backup) => return Ok(Edited::Written { target, backup }),
            Round::Changed => {
                // Someone else is writing: give them a moment before reading again.
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            Round::OldInodeGrew(bytes) => {
                // Our text is in place but lacks what was appended to the old inode: redo the
                // edit on that inode's bytes, provided the file is still exactly what we wrote.
                carried = Some((bytes, Snapshot::of(&new, std::fs::metadata(&target).ok().as_ref())));
                continue;
            }
        }
    }
    Err(w(WriteError::KeptChanging { path: target }))
}

enum Round {
    Done(Option<PathBuf>),
    Changed,
    OldInodeGrew(Vec<u8>),
}

fn write_round(
    target: &Path,
    path: &Path,
    current: &[u8],
    snap: Option<&Snapshot>,
    meta: Option<&std::fs::Metadata>,
    new: &[u8],
    opts: &EditOptions,
) -> Result<Round, WriteError> {
    let io = |action, p: &Path, source| WriteError::Io { action, path: p.to_path_buf(), source };
    let dir = parent_of(target);
    if meta.is_none() {
        create_private_dir(dir).map_err(|e| io("create the folder", dir, e))?;
    }
    // Hold the old inode open: after the rename, growth in it means an appender raced us.
    let old_handle = if meta.is_some() { File::open(target).ok() } else { None };
    let mut tmp = temp_beside(target).map_err(|e| io("write a temp file in", dir, e))?;
    tmp.write_all(new).map_err(|e| io("write", tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| io("sync", tmp.path(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mode = meta.map(|m| m.permissions().mode() & 0o7777).unwrap_or(opts.new_mode);
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(|e| io("set the mode of", tmp.path(), e))?;
        if let Some(m) = meta {
            // Keep the owner (root editing a user's file); a plain user cannot give files away,
            // and then the file is already theirs.
            let _ = std::os::unix::fs::chown(tmp.path(), Some(m.uid()), Some(m.gid()));
        }
    }
    #[cfg(not(unix))]
    let _ = opts;
    // Unchanged since we read it? Content first, then a last cheap stat right before the rename.
    let (now_bytes, now_snap, _) = read_current(target)?;
    if now_snap.as_ref() != snap || now_bytes != current {
        return Ok(Round::Changed);
    }
    let backup = if meta.is_some() {
        let b = backup_path(path);
        atomic_write(&b, current, Some(0o600)).map_err(|e| io("write the backup", &b, e))?;
        Some(b)
    } else {
        None
    };
    let hard_linked = {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            meta.is_some_and(|m| m.nlink() > 1)
        }
        #[cfg(not(unix))]
        {
            false
        }
    };
    if hard_linked {
        // A rename would detach this name from the other links; rewrite the shared inode instead
        // (the backup above holds the old text should this be cut short).
        let mut f = OpenOptions::new().write(true).open(target).map_err(|e| io("open for writing", target, e))?;
        f.write_all(new)
            .and_then(|_| f.set_len(new.len() as u64))
            .and_then(|_| f.sync_all())
            .map_err(|e| io("write", target, e))?;
        drop(tmp);
        return Ok(Round::Done(backup));
    }
    if std::fs::metadata(target).ok().map(|m| (m.len(), m.modified().ok())) != snap.map(|s| (s.len, s.modified)) {
        return Ok(Round::Changed);
    }
    tmp.persist(target).map_err(|e| io("rename onto", target, e.error))?;
    sync_dir(dir);
    if let (Some(mut old), Some(s)) = (old_handle, snap)
        && old.metadata().is_ok_and(|m| m.len() != s.len || m.modified().ok() != s.modified)
    {
        let mut bytes = Vec::new();
        if old.seek(std::io::SeekFrom::Start(0)).and_then(|_| old.read_to_end(&mut bytes)).is_ok() {
            return Ok(Round::OldInodeGrew(bytes));
        }
    }
    Ok(Round::Done(backup))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> EditOptions {
        EditOptions {
            lock: LockWait { purpose: "test".into(), limit: Duration::from_secs(5), announce: false },
            new_mode: 0o600,
        }
    }

    fn append(extra: &'static str) -> impl FnMut(&[u8]) -> Result<Option<Vec<u8>>, ()> {
        move |b| Ok(Some([b, extra.as_bytes()].concat()))
    }

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
    fn a_cache_symlink_is_replaced_not_followed() {
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
    fn lock_is_exclusive_and_says_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config");
        let wait = LockWait { purpose: "editing\u{1b}[2J".into(), limit: Duration::from_millis(200), announce: false };
        let first = FileLock::acquire(&target, &wait).unwrap();
        let err = FileLock::acquire(&target, &wait).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("gave up after") && text.contains(&format!("pid {}", std::process::id())), "{text}");
        assert!(text.contains("editing\\e[2J"), "the holder's text is escaped: {text}");
        drop(first);
        assert!(FileLock::acquire(&target, &wait).is_ok());
    }

    #[test]
    fn edit_writes_keeps_a_backup_and_cleans_stale_temps() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config");
        std::fs::write(&f, "a\n").unwrap();
        let stale = dir.path().join(".config.aws-companions-tmp.99999.abcdefgh");
        std::fs::write(&stale, "half").unwrap();
        let stale_backup = dir.path().join(".config.aws-companions.bak.aws-companions-tmp.99999.abcdefgh");
        std::fs::write(&stale_backup, "half a backup").unwrap();
        let out = edit_file(&f, &opts(), append("b\n")).unwrap();
        assert!(matches!(out, Edited::Written { backup: Some(_), .. }));
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "a\nb\n");
        assert_eq!(std::fs::read_to_string(backup_path(&f)).unwrap(), "a\n");
        assert!(!stale.exists(), "a killed run's temp file is removed");
        assert!(!stale_backup.exists(), "and one it left while writing the backup");
        let same = edit_file(&f, &opts(), |b: &[u8]| Ok::<_, ()>(Some(b.to_vec()))).unwrap();
        assert_eq!(same, Edited::Unchanged);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_and_hard_links_survive_and_modes_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/aws-config");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(&real, "x\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink("dotfiles/aws-config", &link).unwrap();
        edit_file(&link, &opts(), append("y\n")).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "x\ny\n");
        assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o640);

        let other = dir.path().join("hard");
        std::fs::hard_link(&real, &other).unwrap();
        edit_file(&link, &opts(), append("z\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "x\ny\nz\n", "the hard link sees the edit");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_read_only_and_non_regular_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config");
        std::fs::write(&f, "keep\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = edit_file(&f, &opts(), append("no\n")).unwrap_err();
        assert!(matches!(e, EditError::Write(WriteError::ReadOnly { .. })));
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "keep\n");
        let e = edit_file(Path::new("/dev/null"), &opts(), append("no\n")).unwrap_err();
        assert!(matches!(e, EditError::Write(WriteError::NotRegular { what: "a device", .. })));
        let e = edit_file(dir.path(), &opts(), append("no\n")).unwrap_err();
        assert!(matches!(e, EditError::Write(WriteError::NotRegular { what: "a folder", .. })));
    }

    #[test]
    fn a_change_under_the_edit_is_redone_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config");
        std::fs::write(&f, "mine\n").unwrap();
        let mut first = true;
        let out = edit_file(&f, &opts(), |b: &[u8]| {
            if first {
                first = false;
                // Someone appends between our read and our write.
                std::fs::OpenOptions::new().append(true).open(&f).unwrap().write_all(b"theirs\n").unwrap();
            }
            Ok::<_, ()>(Some([b, b"ours\n"].concat()))
        })
        .unwrap();
        assert!(matches!(out, Edited::Written { .. }));
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "mine\ntheirs\nours\n");
    }
}
