//! How the banner reader's segments leave (`scan --banners`): by the scan's routes
//! ([`Slots`]), whole Ethernet frames through a transmit ring per interface, or a raw IP
//! socket where there is no link route; queued while the capture thread reads a ring's
//! worth of answers, and sent together.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use super::banner::Wire;
use super::ctx::Ctx;
use super::routes::{route_key, Slot, Slots, PER_HOST_ROUTES};
use crate::net::batch::{FrameSender, ETH_HLEN};
use crate::net::send::{Path, Sender};
use crate::net::txring;

/// How the banner reader's segments leave: by the scan's routes, whole Ethernet frames
/// through a transmit ring per interface (or a raw IP socket where there is no link
/// route), queued while a ring's worth of answers is read and sent together.
pub(super) struct BannerTx<'s> {
    ctx: &'s Ctx<'s>,
    slots: &'s Slots,
    per_host: bool,
    sender: Sender,
    frames: Vec<(u32, FrameSender)>,
    queue: Vec<(Arc<Slot>, Vec<u8>)>,
    spare: Vec<Vec<u8>>,
}

impl Wire for BannerTx<'_> {
    fn send(&mut self, host: IpAddr, pkt: &[u8]) {
        let Some(slot) = self.slots.get(&route_key(host, self.per_host)) else {
            return;
        };
        let mut b = self.spare.pop().unwrap_or_default();
        b.clear();
        if let (Some(h), Path::Link) = (slot.eth, slot.path) {
            b.extend_from_slice(&h);
        }
        b.extend_from_slice(pkt);
        self.queue.push((slot.clone(), b));
    }
}

impl<'s> BannerTx<'s> {
    pub(super) fn open(
        ctx: &'s Ctx<'s>,
        slots: &'s Slots,
        ifindexes: &[u32],
    ) -> io::Result<BannerTx<'s>> {
        let frames = ifindexes
            .iter()
            .map(|&i| Ok((i, FrameSender::open_sized(i, 1024, txring::MTU_SLOT)?)))
            .collect::<io::Result<_>>()?;
        Ok(BannerTx {
            ctx,
            slots,
            per_host: ctx.res.targets.len() <= PER_HOST_ROUTES,
            sender: Sender::new(),
            frames,
            queue: Vec::new(),
            spare: Vec::new(),
        })
    }

    /// Our address toward each host (what a timer's segment is sent from).
    pub(super) fn sources(&self) -> impl Fn(IpAddr) -> Option<IpAddr> + 's {
        let (slots, per_host) = (self.slots, self.per_host);
        move |h| slots.get(&route_key(h, per_host)).map(|s| s.route.src)
    }

    /// Send the queue once it holds a batch (within one ring drain).
    pub(super) fn flush_if_full(&mut self) {
        if self.queue.len() >= 64 {
            self.flush();
        }
    }

    /// Send what is queued (failures to reach a host are silence, as for probes).
    pub(super) fn flush(&mut self) {
        if self.queue.is_empty() {
            return;
        }
        let queue = std::mem::take(&mut self.queue);
        let mut i = 0;
        while i < queue.len() {
            let Some((slot, _)) = queue.get(i) else {
                break;
            };
            // A run of frames for one interface's ring.
            let ring = match (slot.eth, slot.path) {
                (Some(_), Path::Link) => self
                    .frames
                    .iter_mut()
                    .position(|(ix, _)| *ix == slot.route.ifindex),
                _ => None,
            };
            if let Some(r) = ring {
                let ifindex = slot.route.ifindex;
                let mut j = i;
                while queue.get(j).is_some_and(|(s, _)| {
                    s.eth.is_some() && s.path == Path::Link && s.route.ifindex == ifindex
                }) {
                    j += 1;
                }
                let refs: Vec<&[u8]> = queue
                    .get(i..j)
                    .unwrap_or_default()
                    .iter()
                    .map(|(_, b)| b.as_slice())
                    .collect();
                for f in &refs {
                    self.ctx.record(f.get(ETH_HLEN..).unwrap_or_default());
                }
                let mut done = 0;
                let mut stalls = 0;
                while done < refs.len() && stalls < 1000 {
                    let Some((_, fs)) = self.frames.get_mut(r) else {
                        break;
                    };
                    match fs.send(refs.get(done..).unwrap_or_default()) {
                        Ok(0) => {
                            stalls += 1;
                            std::thread::yield_now();
                        }
                        Ok(k) => done += k,
                        Err(_) => break,
                    }
                }
                i = j;
                continue;
            }
            if let Some((slot, b)) = queue.get(i) {
                let pkt = if slot.eth.is_some() && slot.path == Path::Link {
                    b.get(ETH_HLEN..).unwrap_or_default()
                } else {
                    b.as_slice()
                };
                self.ctx.record(pkt);
                let path = if slot.path == Path::Link && slot.ll.is_some() {
                    Path::Link
                } else {
                    Path::RawIp
                };
                let _ = self.sender.send(pkt, &slot.route, path, None);
            }
            i += 1;
        }
        self.spare
            .extend(queue.into_iter().map(|(_, b)| b).take(4096));
    }
}
