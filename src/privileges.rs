//! Least privilege: what tcpcraft keeps of the power it was started with.
//!
//! tcpcraft is started as root, through `sudo`, or as a user on a binary given
//! `cap_net_raw,cap_net_admin+ep` with setcap; and it runs scripts their user did not
//! write. [`setup`] runs first thing in `main`, before any thread exists (capability sets
//! are per thread; threads inherit them), and leaves the process with only what its
//! command needs:
//!
//! - Through sudo (running as root with SUDO_UID/SUDO_GID naming another user): it becomes
//!   that user for good — real, effective and saved ids, the user's groups — as
//!   `tcpdump -Z` does, so every file it opens afterwards is opened with the user's rights.
//!   Before that, while still root, the bounding set is emptied.
//! - Commands that need no capability ([`Need::Nothing`], [`Need::DryRun`]: `decode`, `--dry-run`, connect
//!   scans, completions) keep none. The others ([`Need::Network`]) keep CAP_NET_RAW and
//!   CAP_NET_ADMIN permitted but not effective: the socket layer raises them around the
//!   calls the kernel checks them for (`net::sys::raise_net_caps`). Root without sudo
//!   keeps uid 0 but no other capability.
//! - Nothing is inheritable or ambient and `no_new_privs` is set, so no program tcpcraft
//!   runs receives a capability (or gains one from a set-user-ID bit or file capability).
//! - `lab` ([`Need::Supervisor`]) is the exception: its supervisor stays root to build and
//!   remove the namespaces, and runs tcpcraft again inside them, which drops as above.
//!
//! A drop that fails ends tcpcraft (exit 3): it never goes on with more than it should.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::net::sys;

/// What a command needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// No capability at all.
    Nothing,
    /// No capability: `--dry-run`, which describes the run it stands for as if the
    /// capabilities tcpcraft was started with were there (a SYN scan stays a SYN scan).
    DryRun,
    /// CAP_NET_RAW and CAP_NET_ADMIN, raised only around the calls that need them.
    Network,
    /// `lab`'s supervisor: root for the namespaces; the inner tcpcraft drops.
    Supervisor,
}

/// The user who ran `sudo`, whom tcpcraft became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvokingUser {
    pub uid: u32,
    pub gid: u32,
    /// From the passwd database (not from HOME, which `sudo -E` may keep pointing anywhere).
    pub name: Option<String>,
    pub home: Option<PathBuf>,
}

static BECAME: OnceLock<InvokingUser> = OnceLock::new();

/// The sudo user tcpcraft became at start, if it did.
pub fn became() -> Option<&'static InvokingUser> {
    BECAME.get()
}

/// SUDO_UID / SUDO_GID as sudo sets them, when they name someone other than root.
fn sudo_ids() -> Option<(u32, u32)> {
    let num = |k: &str| std::env::var(k).ok()?.trim().parse::<u32>().ok();
    let (uid, gid) = (num("SUDO_UID")?, num("SUDO_GID")?);
    (uid != 0).then_some((uid, gid))
}

/// Drop what `need` does not use (see the module's doc). Call once, first thing, while
/// the process has one thread. The error says what failed; tcpcraft then stops.
pub fn setup(need: Need) -> Result<(), String> {
    if need == Need::Supervisor {
        return Ok(());
    }
    let (_, euid, _) = sys::user_ids();
    let root = euid == 0;
    if root {
        // While root: nothing this process runs may ever get a capability back.
        sys::drop_bounding_set().map_err(|e| format!("emptying the bounding set: {e}"))?;
    }
    if let (true, Some((uid, gid))) = (root, sudo_ids()) {
        let entry = sys::user_entry(uid);
        let groups = match &entry {
            Some((name, _)) => sys::user_groups(name, gid),
            None => vec![gid],
        };
        sys::become_user(uid, gid, &groups)
            .map_err(|e| format!("becoming the sudo user (uid {uid}, gid {gid}): {e}"))?;
        let (name, home) = entry.map_or((None, None), |(n, h)| (Some(n), Some(h)));
        let _ = BECAME.set(InvokingUser {
            uid,
            gid,
            name,
            home,
        });
    }
    if need == Need::DryRun {
        sys::set_aside_for_dry_run(sys::capget().map(|c| c.permitted).unwrap_or(0));
    }
    let keep = match need {
        Need::Network => sys::NET_CAPS,
        _ => 0,
    };
    sys::limit_caps(keep, false).map_err(|e| format!("dropping capabilities: {e}"))?;
    sys::no_new_privs().map_err(|e| format!("setting no_new_privs: {e}"))?;
    Ok(())
}
