//! The truth beside the model: in the lab, tcpcraft owns the server's namespace, so
//! after each step it reads the server kernel's real socket state there (sock_diag,
//! as `ss -tan` does) and shows it beside the inferred peer state.
//!
//! The lab's supervisor opens a sock_diag socket inside the server namespace before it
//! starts the inner tcpcraft, and hands it down as an inherited descriptor
//! (`TCPCRAFT_LAB_DIAG_FD`), so the inner tcpcraft never needs to enter a namespace
//! (nor the privileges to). It also passes the server's `tcp_synack_retries` and
//! `tcp_fin_timeout` (`TCPCRAFT_LAB_TIMERS`), so that the peer model gives up when the
//! server does.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use super::state::{PeerTimers, State};
use super::{KernelState, KernelView};
use crate::net::diag::{self, KernelState as Diag};
use crate::net::testbed::{SERVER_V4, SERVER_V6};

pub use crate::net::diag::{DIAG_FD_ENV, TIMERS_ENV};

/// The server kernel, read through a sock_diag socket in its namespace.
struct Diagnosed {
    fd: Arc<Mutex<OwnedFd>>,
}

impl KernelView for Diagnosed {
    fn state(&mut self, peer: SocketAddr, us: SocketAddr) -> Result<Option<KernelState>, String> {
        let fd = self.fd.lock().unwrap_or_else(|e| e.into_inner());
        let got = diag::lookup(&fd, peer, us).map_err(|e| e.to_string())?;
        Ok(got.map(|k| KernelState {
            ss: k.ss_name(),
            rfc: rfc_state(k),
        }))
    }

    fn covers(&self, peer: IpAddr) -> bool {
        peer == IpAddr::V4(SERVER_V4) || peer == IpAddr::V6(SERVER_V6)
    }
}

/// The RFC state a kernel state is.
fn rfc_state(k: Diag) -> State {
    match k {
        Diag::Established => State::Established,
        Diag::SynSent => State::SynSent,
        Diag::SynRecv | Diag::NewSynRecv => State::SynReceived,
        Diag::FinWait1 => State::FinWait1,
        Diag::FinWait2 => State::FinWait2,
        Diag::TimeWait => State::TimeWait,
        Diag::CloseWait => State::CloseWait,
        Diag::LastAck => State::LastAck,
        Diag::Listen => State::Listen,
        Diag::Closing => State::Closing,
        Diag::Close | Diag::Unknown(_) => State::Closed,
    }
}

/// The lab's kernel view, when this tcpcraft runs inside a lab.
pub fn lab_view() -> Option<Box<dyn KernelView>> {
    diag::lab_socket().map(|fd| Box::new(Diagnosed { fd }) as Box<dyn KernelView>)
}

/// The lab server's timers, when this tcpcraft runs inside a lab.
pub fn lab_timers() -> Option<PeerTimers> {
    let text = std::env::var(TIMERS_ENV).ok()?;
    let mut it = text.split(',').map(|v| v.trim().parse::<u64>().ok());
    let synack_retries = it.next()??;
    let fin_timeout = it.next()??;
    Some(PeerTimers {
        synack_give_up: PeerTimers::synack_give_up_for(synack_retries.min(30) as u32),
        fin_timeout: std::time::Duration::from_secs(fin_timeout.min(86_400)),
        ..PeerTimers::default()
    })
}
