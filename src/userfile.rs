//! Files tcpcraft writes for the user (pcaps, REPL history, ladder SVGs, scan output)
//! belong to the user who ran it — also when that was through `sudo`.
//!
//! Why: tcpcraft needs root (or capabilities) for raw sockets, so it is often started
//! as `sudo tcpcraft …`. A pcap or an SVG it writes then belongs to root, and the user
//! cannot delete or overwrite it later without sudo again. sudo records who called it in
//! `SUDO_UID` / `SUDO_GID`; when those are set and tcpcraft runs as root, [`create`]
//! hands the new file (and any directory it had to make for it) to that user.
//!
//! Only files and directories that [`create`] itself brings into existence change
//! owner: an existing file keeps its owner (root writing over someone's file must not
//! give it away), and nothing is followed or changed outside the path asked for.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// The invoking user of `sudo` (uid, gid), when this process runs as root under sudo.
pub fn sudo_owner() -> Option<(u32, u32)> {
    if effective_uid() != Some(0) {
        return None;
    }
    let num = |k: &str| std::env::var(k).ok()?.trim().parse::<u32>().ok();
    let (uid, gid) = (num("SUDO_UID")?, num("SUDO_GID")?);
    // sudo from root to root: nothing to give away.
    (uid != 0).then_some((uid, gid))
}

/// This process's effective user id, from /proc (no unsafe `geteuid` needed here).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Create (or truncate) `path` for writing. Under sudo, a new file belongs to the
/// invoking user. A missing directory is an error (a script's `wrpcap` must not make
/// directories the user did not ask for).
pub fn create(path: &Path) -> io::Result<File> {
    let owner = sudo_owner();
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(f) => {
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
            }
            Ok(f)
        }
        // An existing file is truncated and keeps its owner.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => File::create(path),
        Err(e) => Err(e),
    }
}

/// [`create`], first making the missing parent directories (also handed to the invoking
/// user under sudo): for tcpcraft's own files, such as the REPL history under
/// `~/.local/state/tcpcraft/`.
pub fn create_with_dirs(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        make_dirs(dir, sudo_owner())?;
    }
    create(path)
}

/// [`create`] `path` and write `bytes` into it.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> io::Result<()> {
    let mut f = create(path)?;
    f.write_all(bytes.as_ref())?;
    f.flush()
}

/// `mkdir -p`, handing each directory it makes to `owner`.
fn make_dirs(dir: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|d| !d.as_os_str().is_empty()) {
        make_dirs(parent, owner)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_parents_and_truncates() {
        let base = std::env::temp_dir().join(format!("tcpcraft-userfile-{}", std::process::id()));
        let p = base.join("a/b/out.txt");
        assert!(
            write(&p, "x").is_err(),
            "no directories made for user files"
        );
        drop(create_with_dirs(&p).unwrap());
        write(&p, "first, longer").unwrap();
        write(&p, "second").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "second");
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn effective_uid_reads_proc() {
        assert!(effective_uid().is_some());
    }
}
