//! The engine: the only module of tcpcraft that makes syscalls.
//!
//! Pure parts (matching, filters, BPF, the byte-level wire facts) are unit-tested with
//! byte vectors; the socket parts are exercised by `tests/it/net_*.rs` in the test bed.
//!
//! Map:
//! - [`engine::Engine`]: `send`, `sr1`, `sr`, `sniff` over IP packets as bytes, with
//!   routes, capture, matching and `--pcap` (`crate::app::lang_net` puts it behind the
//!   language's `Net` trait).
//! - [`send`]: raw IPv4 (IP_HDRINCL) and IPv6 sockets; AF_PACKET when the kernel would
//!   rewrite a field the user set; bulk traffic through a transmit ring
//!   ([`txring::TxRing`]) or sendmmsg.
//! - [`capture::Capture`] (one AF_PACKET socket, BPF armed before bind) and
//!   [`ring::Ring`] (TPACKET_V3) for high rates; [`filter`] compiles tcpdump filters to
//!   classic BPF with libpcap's compiler ([`bpf`] interprets them; [`sniff`] runs them on
//!   `sniff`'s sockets, outgoing packets included); [`txring::TxRing`]
//!   (TPACKET_V2 with virtio-net headers) sends the scanner's frames.
//! - [`batch`]: the port scanner's batch I/O (where frames leave, per-thread link
//!   senders, fan-out receive rings, closing sockets together); its capture program is
//!   [`bpf::port_window_filter`].
//! - [`route`] / [`netlink`]: `ip route get` and the neighbour table; [`nft`]: the
//!   nftables tables of the RST guard, over netlink.
//! - [`segio`] / [`segrx`]: the sessions' segment transport and the one background
//!   receiver that hands each arriving segment to its session; [`guard`]: the RST guard
//!   (drops the kernel's RSTs for hand-driven ports); [`diag`]: sock_diag, the kernel's
//!   own socket states (`ss -tan`).
//! - [`matching`] / [`wire`]: which captured packet answers which probe, and why not.
//! - [`testbed`] / [`chain`] / [`lab`]: namespaces with real listeners; `tcpcraft lab`.
//! - [`signals`]: the handlers that set the one cancellation flag (`crate::cancel`);
//!   [`sys`]: the system calls themselves (the only `unsafe`, with ring/txring/lab/testbed/
//!   signals, each item allowed one by one).

pub mod batch;
pub mod bpf;
pub mod capture;
pub mod chain;
pub mod diag;
pub mod engine;
pub mod filter;
pub mod guard;
pub mod lab;
pub mod matching;
pub mod netlink;
pub mod nft;
pub mod ring;
pub mod route;
pub mod segio;
pub mod segrx;
pub mod send;
pub mod signals;
pub mod sniff;
pub mod sys;
pub mod testbed;
pub mod txring;
pub mod wire;

pub use engine::{
    check_privileges, permission_message, Engine, EngineOptions, LinkHeader, NetError, Probe,
    Reply, Sniffed, SrResult, Unmatched,
};
pub use matching::AnswerKind;
/// The kernel's ephemeral port range: hand-driven sessions and the scanner pick source
/// ports outside it (so the kernel never claims them for its own connections).
pub use sys::ephemeral_range;
