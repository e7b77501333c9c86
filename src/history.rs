//! The shell's history file: where it is, and opening it without following a link.
//!
//! Why: under `sudo` the environment is not the user's to trust (`sudo -E` keeps HOME and
//! XDG_STATE_HOME, which may point anywhere), and rustyline's own history functions open
//! a path, following any symbolic link planted on it. So:
//!
//! - under sudo (tcpcraft has become the invoking user, src/privileges.rs) the history is
//!   kept only in that user's own home from the passwd database
//!   (`~/.local/state/tcpcraft/history`), never where HOME or XDG_STATE_HOME say;
//!   otherwise `$XDG_STATE_HOME/tcpcraft/history`, else `~/.local/state/tcpcraft/history`;
//! - below that base directory every component is created and opened through the file
//!   descriptor of its parent (`mkdirat`/`openat` with `O_NOFOLLOW`) and must belong to
//!   this process's user; the file must be a regular file of the user's with one link.
//!   Anything else turns the history off for the run (nothing is read or written).
//!
//! The file is rustyline's format ("#V2", one entry a line, `\n` and `\\` escaped); it
//! keeps the last [`MAX_ENTRIES`] entries and is appended to line by line.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

use crate::net::sys::{self, oflag};

/// Entries kept.
pub const MAX_ENTRIES: usize = 100;

/// The history file, open for appending.
#[derive(Debug)]
pub struct History {
    file: File,
    entries: Vec<String>,
}

/// The base directory and the components below it, by the rules of the module doc.
fn location() -> Option<(PathBuf, Vec<&'static str>)> {
    if let Some(user) = crate::privileges::became() {
        return Some((user.home.clone()?, vec![".local", "state", "tcpcraft"]));
    }
    match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(x) => Some((PathBuf::from(x), vec!["tcpcraft"])),
        None => Some((
            PathBuf::from(std::env::var_os("HOME")?),
            vec![".local", "state", "tcpcraft"],
        )),
    }
}

/// Where the history lives for this run (for messages and tests); `None`: no history.
pub fn path() -> Option<PathBuf> {
    let (base, dirs) = location()?;
    let mut p = base;
    p.extend(dirs);
    Some(p.join("history"))
}

fn mine(fd: &OwnedFd) -> io::Result<std::fs::Metadata> {
    let f = File::from(fd.try_clone()?);
    let m = f.metadata()?;
    if Some(m.uid()) != Some(sys::user_ids().1) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "belongs to another user",
        ));
    }
    Ok(m)
}

/// Open (creating what is missing) the history file; `None` turns the history off.
pub fn open() -> Option<History> {
    let (base, dirs) = location()?;
    let open_file = || -> io::Result<File> {
        if crate::privileges::became().is_none() && !base.exists() {
            // The caller's own environment names a state directory not made yet (as the
            // XDG spec says, it is made).
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&base)?;
        }
        let mut dir: OwnedFd = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(oflag::O_DIRECTORY | oflag::O_CLOEXEC)
            .open(&base)?
            .into();
        if crate::privileges::became().is_some() {
            // The user's own home, not a directory someone else controls.
            mine(&dir)?;
        }
        for name in dirs {
            sys::mkdirat(&dir, name, 0o700)?;
            dir = sys::openat_nofollow(&dir, name, oflag::O_DIRECTORY | oflag::O_RDONLY, 0)?;
            mine(&dir)?;
        }
        let fd = sys::openat_nofollow(
            &dir,
            "history",
            oflag::O_RDWR | oflag::O_CREAT | oflag::O_APPEND | oflag::O_NONBLOCK,
            0o600,
        )?;
        let m = mine(&fd)?;
        if !m.file_type().is_file() || m.nlink() > 1 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "not a regular file of its own",
            ));
        }
        Ok(File::from(fd))
    };
    let mut file = open_file().ok()?;
    let mut text = String::new();
    // The last MAX_ENTRIES lines are all that is kept: a bounded read is plenty.
    let _ = (&mut file).take(4 << 20).read_to_string(&mut text);
    let mut entries = parse(&text);
    let drop_n = entries.len().saturating_sub(MAX_ENTRIES);
    entries.drain(..drop_n);
    // Rewritten with what is kept; appended to from here on.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let mut out = String::from("#V2\n");
    for e in &entries {
        out.push_str(&escape(e));
        out.push('\n');
    }
    let _ = file.write_all(out.as_bytes());
    Some(History { file, entries })
}

impl History {
    /// The entries read at open, oldest first.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Append one entry at once (a signal at the next prompt ends tcpcraft without
    /// passing through a save at the end).
    pub fn append(&mut self, line: &str) {
        let _ = self
            .file
            .write_all(format!("{}\n", escape(line)).as_bytes());
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn parse(text: &str) -> Vec<String> {
    let mut lines = text.lines().peekable();
    let v2 = lines.peek() == Some(&"#V2");
    if v2 {
        lines.next();
    }
    lines
        .filter(|l| !l.is_empty())
        .map(|l| if v2 { unescape(l) } else { l.to_string() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let e = ["a\\b", "two\nlines", "plain"];
        let mut text = String::from("#V2\n");
        for x in e {
            text += &escape(x);
            text.push('\n');
        }
        assert_eq!(parse(&text), e);
        assert_eq!(parse("old\nstyle\n"), ["old", "style"]);
    }
}
