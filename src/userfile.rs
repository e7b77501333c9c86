//! The files tcpcraft opens because a user, an option or a script named them: every
//! writer (`--pcap`, `wrpcap`, ladder files, `handshake --svg`, scan output files) goes
//! through [`create`], and the readers of scripts and captures (`run`, `include`,
//! `rdpcap`, `decode`) through [`open_regular`] / [`read_text`].
//!
//! Why: tcpcraft is started with privileges (root, sudo, file capabilities) and runs
//! scripts someone else may have written. Under sudo it has already become the invoking
//! user when these run (src/privileges.rs), so the kernel checks the user's rights; on
//! top of that, a name given to tcpcraft must not reach further than it says:
//!
//! - a file is written only if it is a regular file that belongs to this process's user
//!   (or is new) and has no other hard link: never through a symbolic link
//!   (`O_NOFOLLOW` on the last component), never into a device, FIFO or socket, never
//!   over someone else's file planted under the expected name;
//! - a file is read only if it is a regular file (no `/dev/zero`, no FIFO that blocks),
//!   and a script or an include only up to [`MAX_SCRIPT_BYTES`].
//!
//! Directories are never made for these files (a missing one is an error).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

// rustix: safe open(2) with O_NOFOLLOW (libc is named only in the socket layer).
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// The largest script file `run` and `include` read (16 MiB): more is an error, not a
/// long wait.
pub const MAX_SCRIPT_BYTES: u64 = 16 << 20;

/// This process's effective user id.
fn effective_uid() -> Option<u32> {
    Some(rustix::process::geteuid().as_raw())
}

fn refuse(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, msg)
}

/// Create (or truncate) `path` for writing, safely (see the module doc). A new file is
/// made with mode 0666 less the umask.
pub fn create(path: &Path) -> io::Result<File> {
    // O_NONBLOCK: a FIFO without a reader fails at once instead of blocking here.
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK;
    let f = File::from(
        rustix::fs::open(path, flags | OFlags::CLOEXEC, Mode::from_raw_mode(0o666)).map_err(
            |e| {
                if e == Errno::LOOP {
                    refuse("it is a symbolic link; tcpcraft does not write through one".into())
                } else {
                    io::Error::from(e)
                }
            },
        )?,
    );
    let m = f.metadata()?;
    if !m.file_type().is_file() {
        return Err(refuse(
            "not a regular file; tcpcraft writes only regular files".into(),
        ));
    }
    if Some(m.uid()) != effective_uid() {
        return Err(refuse(format!(
            "the file belongs to another user (uid {}); tcpcraft overwrites only its user's own files",
            m.uid()
        )));
    }
    if m.nlink() > 1 {
        return Err(refuse(
            "the file has other hard links; tcpcraft does not write through them".into(),
        ));
    }
    f.set_len(0)?;
    Ok(f)
}

/// [`create`] `path` and write `bytes` into it.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> io::Result<()> {
    let mut f = create(path)?;
    f.write_all(bytes.as_ref())?;
    f.flush()
}

/// Open `path` for reading if it is a regular file (symbolic links are followed: the
/// file is read with this process's rights). Devices, FIFOs, sockets and directories are
/// refused before a byte is read.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let f = File::from(rustix::fs::open(path, flags, Mode::empty())?);
    let m = f.metadata()?;
    if !m.file_type().is_file() {
        let what = if m.file_type().is_dir() {
            "a directory"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what}; tcpcraft reads only regular files"),
        ));
    }
    Ok(f)
}

/// Read a regular file of UTF-8 text of at most `max` bytes.
pub fn read_text(path: &Path, max: u64) -> io::Result<String> {
    let f = open_regular(path)?;
    let too_big = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {} MiB, the most tcpcraft reads", max >> 20),
        )
    };
    if f.metadata()?.len() > max {
        return Err(too_big());
    }
    let mut text = String::new();
    // One byte past the bound tells a file that grew since.
    f.take(max + 1).read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(too_big());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("tcpcraft-userfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn creates_and_truncates_but_makes_no_directories() {
        let base = dir("trunc");
        assert!(write(&base.join("a/b/out.txt"), "x").is_err());
        let p = base.join("out.txt");
        write(&p, "first, longer").unwrap();
        write(&p, "second").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "second");
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn refuses_symlinks_hard_links_and_special_files() {
        let base = dir("refuse");
        let target = base.join("target");
        std::fs::write(&target, "keep").unwrap();
        let link = base.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = write(&link, "x").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        // A dangling link is not followed to create its target either.
        let dangling = base.join("dangling");
        std::os::unix::fs::symlink(base.join("made"), &dangling).unwrap();
        assert!(write(&dangling, "x").is_err());
        assert!(!base.join("made").exists());
        let hard = base.join("hard");
        std::fs::hard_link(&target, &hard).unwrap();
        let e = write(&hard, "x").unwrap_err();
        assert!(e.to_string().contains("hard links"), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        let e = write(Path::new("/dev/null"), "x").unwrap_err();
        assert!(e.to_string().contains("regular"), "{e}");
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn reads_only_bounded_regular_files() {
        let e = read_text(Path::new("/dev/zero"), 100).unwrap_err();
        assert!(e.to_string().contains("regular"), "{e}");
        let e = read_text(Path::new("/"), 100).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        let base = dir("read");
        let p = base.join("s.tcs");
        std::fs::write(&p, "x".repeat(200)).unwrap();
        assert!(read_text(&p, 100).is_err());
        assert_eq!(read_text(&p, 200).unwrap().len(), 200);
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn effective_uid_reads_proc() {
        assert!(effective_uid().is_some());
    }
}
