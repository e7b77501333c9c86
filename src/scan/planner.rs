//! The round plan: after each round, what the next one is (a full retry, a sample at a
//! slower rate, paced rounds at a target's measured answer rate, a confirming round
//! after a pause) or whether the scan is done; and the per-round figures it decides on
//! (the arrival histogram's steady rate, answers by kind).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::result::Reason;
use super::retry::{Next, RetryPolicy};

/// The lowest rate a target's measured answer rate slows a scan to.
pub(super) const MIN_LIMITED_RATE: u64 = 2;
/// Slots of the per-round histogram of answer arrivals.
pub(super) const HIST_SLOTS: usize = 4096;
/// Width of a histogram slot, µs.
pub(super) const HIST_SLOT_US: u64 = 10_000;

/// What one round did, as the [`Planner`] sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RoundReport {
    /// The rate the round ended at, when it changed during the round.
    pub rate: Option<f64>,
    pub probes: u64,
    pub answers: u64,
    /// From the first probe to the last, s.
    pub send_secs: f64,
    /// Sending and waiting, s.
    pub secs: f64,
    /// Answers per second while the probes went out (the second half of a round that
    /// lasted long enough to tell), from the arrival histogram.
    pub steady_rate: Option<f64>,
    /// Probed pairs still unanswered after the round, and probed pairs in all.
    pub unanswered: u64,
    pub probed: u64,
    /// The slowest round trip seen so far.
    pub max_rtt: Duration,
}

/// The kinds of rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Every unanswered pair at the scan's rate (the first pass and loss retries).
    Full,
    /// A few unanswered pairs, slower than the round before could be answered: does
    /// slowing down bring answers that speed did not (a rate limit), or not (loss)?
    Sample,
    /// The target limits its answers: every unanswered pair, paced at the answer rate
    /// measured. Unanswered pairs are unknown here, not filtered.
    Limited,
    /// Before calling silence filtered: after an idle gap that lets a rate limiter's
    /// bucket fill, the silent pairs once more, spread out, with a wait sized from the
    /// slowest answers seen (late answers count until the scan ends).
    Confirm,
}

/// The next round.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    pub phase: Phase,
    /// Probes per second; `None`: the scan's own rate.
    pub rate: Option<f64>,
    /// At most this many probes.
    pub cap: Option<u64>,
    /// Idle time before the round.
    pub gap: Duration,
    /// Least wait after it.
    pub floor: Duration,
    /// The share of probes expected to be answered below a limit (loss and silent
    /// pairs take the rest): a paced round that gets it may go faster.
    pub expect: f64,
}

impl Plan {
    pub(super) fn full() -> Plan {
        Plan {
            phase: Phase::Full,
            rate: None,
            cap: None,
            gap: Duration::ZERO,
            floor: Duration::ZERO,
            expect: 1.0,
        }
    }
}

/// At most this many rounds at a limited rate, and so many confirming rounds.
const MAX_LIMITED_ROUNDS: u32 = 60;
const MAX_CONFIRMS: u32 = 3;
/// At most this many samples that find no rate limit (each halves what counts as low).
const MAX_NEGATIVE_SAMPLES: u32 = 3;

/// Plans the rounds of a scan: full rounds while loss explains what is missing, a
/// sample when a retry round is answered far less than the rounds before, paced rounds
/// at the measured answer rate while the target limits its answers, and a confirming
/// round before any silence is called filtered. Pure: the engine reports each round.
#[derive(Clone, Debug)]
pub struct Planner {
    pub policy: RetryPolicy,
    udp: bool,
    max_retries: u32,
    phase: Phase,
    /// The rate of the last round when it was paced, and its least wait.
    last_rate: Option<f64>,
    last_floor: Duration,
    /// What a round below the limit gets (the sample's answered share).
    expect: f64,
    /// Answered share below which a full retry round looks limited.
    s_ref: f64,
    /// The answered share of the round a sample was taken after.
    s_before: f64,
    negative_samples: u32,
    limited_rounds: u32,
    silent_rounds: u32,
    confirms: u32,
    full_rounds: u32,
    /// The answer rate a limit was measured at (answers/s), and the rate last used.
    pub limit: Option<f64>,
    pub slowed_to: Option<f64>,
    /// Unanswered pairs when a limit was first found.
    pub limited_pairs: u64,
}

impl Planner {
    pub fn new(udp: bool, max_retries: u32) -> Planner {
        Planner {
            policy: RetryPolicy::default(),
            udp,
            max_retries,
            phase: Phase::Full,
            last_rate: None,
            last_floor: Duration::ZERO,
            expect: 1.0,
            s_ref: 1.0,
            s_before: 1.0,
            negative_samples: 0,
            limited_rounds: 0,
            silent_rounds: 0,
            confirms: 0,
            full_rounds: 0,
            limit: None,
            slowed_to: None,
            limited_pairs: 0,
        }
    }

    fn limited(&mut self, rate: f64, floor: Duration) -> Option<Plan> {
        let rate = rate.max(MIN_LIMITED_RATE as f64);
        // The slowest the scan went for the limit.
        self.slowed_to = Some(self.slowed_to.map_or(rate, |s| s.min(rate)));
        Some(self.go(Plan {
            phase: Phase::Limited,
            rate: Some(rate),
            cap: None,
            gap: Duration::ZERO,
            floor,
            expect: self.expect,
        }))
    }

    fn go(&mut self, p: Plan) -> Plan {
        self.phase = p.phase;
        self.last_rate = p.rate;
        self.last_floor = p.floor;
        p
    }

    /// The pause before a confirming round: long enough for a rate limiter of a few
    /// answers a second to refill (Linux's ICMP default is 1/s per host: a second for UDP).
    fn confirm_gap(&self) -> Duration {
        if self.udp {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(100)
        }
    }

    /// Decide the next round from the report of the last; `None`: the scan is done.
    pub fn next(&mut self, r: &RoundReport) -> Option<Plan> {
        if r.rate.is_some() {
            self.last_rate = r.rate;
        }
        let s = if r.probes > 0 {
            r.answers as f64 / r.probes as f64
        } else {
            0.0
        };
        let ar = r.steady_rate.unwrap_or(r.answers as f64 / r.secs.max(1e-3));
        // A paced round waits at least one slowest round trip (late answers).
        let slow_wait = r.max_rtt.mul_f64(1.5).min(Duration::from_secs(3));
        if r.unanswered == 0 {
            return None;
        }
        match self.phase {
            Phase::Full => {
                self.full_rounds += 1;
                let next =
                    self.policy
                        .next(r.answers, r.unanswered, self.full_rounds, self.max_retries);
                if self.full_rounds >= 2
                    && r.answers >= 3
                    && r.probes >= 16
                    && s < 0.5 * self.s_ref
                    && self.negative_samples < MAX_NEGATIVE_SAMPLES
                {
                    self.s_before = s;
                    let rate = (ar * 0.9).max(MIN_LIMITED_RATE as f64);
                    // 32 to 64 probes, fewer (down to 8) where that would take over 1 s.
                    let cap = (r.probes / 4).clamp(32, 64).min((rate as u64).max(8));
                    return Some(self.go(Plan {
                        phase: Phase::Sample,
                        rate: Some(rate),
                        cap: Some(cap),
                        gap: Duration::ZERO,
                        floor: slow_wait,
                        expect: 1.0,
                    }));
                }
                if next == Next::Stop {
                    return self.confirm_or_stop(r);
                }
                Some(self.go(Plan::full()))
            }
            Phase::Sample => {
                self.policy.skip(r.unanswered);
                let before = self.s_before;
                // Far more answered than the round before, beyond chance (4 standard
                // deviations of the count that round's share predicts).
                let n = r.probes as f64;
                let p0 = before.clamp(0.01, 0.99);
                let z = (r.answers as f64 - n * p0) / (n * p0 * (1.0 - p0)).sqrt().max(1e-9);
                if r.answers >= 3 && s >= (2.0 * before).max(before + 0.25) && z >= 4.0 {
                    // Slower brought answers that speed did not: a limit.
                    let used = self.last_rate.unwrap_or(ar);
                    let l = ar.max(used * s);
                    self.limit = Some(l);
                    // The retries before the sample lost to the limit, not to the path;
                    // what the sample got is what a round below the limit gets.
                    self.policy.cap_loss(1.0 - s);
                    self.expect = s.clamp(0.2, 1.0);
                    self.limited_pairs = r.unanswered + r.answers;
                    return self.limited(l * 0.95, slow_wait);
                }
                self.negative_samples += 1;
                self.s_ref = s.max(before);
                Some(self.go(Plan::full()))
            }
            Phase::Limited => {
                self.policy.skip(r.unanswered);
                self.limited_rounds += 1;
                let used = self.last_rate.unwrap_or(ar);
                if r.answers == 0 {
                    self.silent_rounds += 1;
                    if self.silent_rounds >= self.policy.silent_rounds_needed()
                        || self.limited_rounds >= MAX_LIMITED_ROUNDS
                    {
                        // A round that began after a confirming round's pause and waited
                        // as long as one would is a confirmation already.
                        if self.last_floor >= self.confirm_gap().max(Duration::from_millis(250)) {
                            return None;
                        }
                        return self.confirm_or_stop(r);
                    }
                    return self.limited(used, slow_wait);
                }
                self.silent_rounds = 0;
                if self.limited_rounds >= MAX_LIMITED_ROUNDS {
                    return self.confirm_or_stop(r);
                }
                if r.answers >= 3 && s < 0.75 * self.expect {
                    // Still faster than the target answers: its rate, measured again.
                    self.limit = Some(ar);
                    return self.limited((ar * 0.95).min(used), slow_wait);
                }
                let faster = if s >= 0.9 * self.expect {
                    used * 1.25
                } else {
                    used
                };
                self.limited(faster, slow_wait)
            }
            Phase::Confirm => {
                self.policy.skip(r.unanswered);
                if r.answers == 0 {
                    // Silence after silence, with time for any limiter to refill: filtered.
                    return None;
                }
                // Only late answers (to earlier probes: no limit, most of the round
                // answered), and the silent pairs had a wait longer than the slowest
                // answer after their last probe: they are silent, not late.
                let waited = r.secs - r.send_secs;
                let late = r.max_rtt > Duration::from_millis(100);
                if late
                    && self.limit.is_none()
                    && (r.answers < 3 || s >= 0.5)
                    && waited >= 1.25 * r.max_rtt.as_secs_f64()
                {
                    return None;
                }
                // Answers after an idle gap: what was missing was unknown, not filtered.
                self.silent_rounds = 0;
                let used = self.last_rate.unwrap_or(ar);
                if self.limited_pairs == 0 {
                    self.limited_pairs = r.unanswered + r.answers;
                }
                if r.answers >= 3 && s < 0.5 {
                    self.limit = Some(ar);
                    return self.limited((ar * 0.95).min(used), slow_wait);
                }
                self.limited(used, slow_wait)
            }
        }
    }

    /// Silence is filtered only after a confirming round, when the silence is more than
    /// a few pairs in a thousand, or rate limits or late answers were seen; else done.
    fn confirm_or_stop(&mut self, r: &RoundReport) -> Option<Plan> {
        let late = r.max_rtt > Duration::from_millis(100);
        // Nothing answered at all: no limiter (one passes its burst first), only silence.
        let any = r.unanswered < r.probed;
        let suspicious =
            any && (r.unanswered.saturating_mul(1000) >= r.probed || self.limit.is_some() || late);
        if !suspicious || self.confirms >= MAX_CONFIRMS {
            return None;
        }
        self.confirms += 1;
        // The gap lets a token bucket of a few answers per second refill (Linux's ICMP
        // default is 1/s per host, so a UDP scan waits a second); the silent pairs then go
        // out over 200 ms, and the wait covers the slowest answer seen.
        let gap = self.confirm_gap();
        let floor = r
            .max_rtt
            .mul_f64(1.5)
            .clamp(Duration::from_millis(250), Duration::from_secs(3));
        let rate = (r.unanswered as f64 / 0.2).max(20.0);
        Some(self.go(Plan {
            phase: Phase::Confirm,
            rate: Some(rate),
            cap: None,
            gap,
            floor,
            expect: 1.0,
        }))
    }
}

/// Answers per second in the second half of a round's sending, from its arrival
/// histogram, when the round sent for at least 100 ms (a shorter burst says nothing
/// about a rate).
pub(super) fn steady_rate(hist: &[AtomicU32], send_secs: f64) -> Option<f64> {
    let slot = HIST_SLOT_US as f64 / 1e6;
    let end = (send_secs / slot) as usize;
    if send_secs < 0.1 || end < 4 {
        return None;
    }
    let from = end / 2;
    let n: u64 = hist
        .get(from..end.min(hist.len()))?
        .iter()
        .map(|h| u64::from(h.load(Ordering::Relaxed)))
        .sum();
    Some(n as f64 / ((end - from) as f64 * slot))
}

/// Kinds of answers a target may limit separately: SYN-ACKs (and bare SYNs), RSTs, ICMP
/// errors, UDP answers.
pub(super) const KINDS: usize = 4;
pub(super) const KIND_NAMES: [&str; KINDS] = ["SYN-ACKs", "RSTs", "ICMP errors", "UDP answers"];

pub(super) fn kind_of(r: Reason) -> usize {
    match r {
        Reason::SynAck | Reason::Syn => 0,
        Reason::Reset | Reason::ConnRefused => 1,
        Reason::UdpResponse => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(probes: u64, answers: u64, send_secs: f64, unanswered: u64) -> RoundReport {
        RoundReport {
            rate: None,
            probes,
            answers,
            send_secs,
            secs: send_secs + 0.01,
            steady_rate: (send_secs >= 0.1).then(|| answers as f64 / send_secs),
            unanswered,
            probed: 1000,
            max_rtt: Duration::from_millis(1),
        }
    }

    #[test]
    fn planner_finds_a_rate_limit_and_slows_to_it() {
        // 1,000 closed ports behind RSTs limited to 200/s: the first pass gets the
        // bucket's 100, the immediate retry a few.
        let mut p = Planner::new(false, 50);
        let r = p.next(&report(1000, 100, 0.001, 900)).unwrap();
        assert_eq!(r.phase, Phase::Full);
        let r = p.next(&report(900, 5, 0.001, 895)).unwrap();
        assert_eq!(r.phase, Phase::Sample, "{r:?}");
        let rate = r.rate.unwrap();
        // Slower, most of the sample is answered (the bucket keeps up): a limit.
        let r = p.next(&report(64, 60, 64.0 / rate, 835)).unwrap();
        assert_eq!(r.phase, Phase::Limited, "{r:?}");
        assert!(p.limit.is_some());
        // Still too fast: the rate measured again, lower.
        let r = p
            .next(&report(835, 400, 835.0 / r.rate.unwrap(), 435))
            .unwrap();
        assert_eq!(r.phase, Phase::Limited);
        // Everything answered but 5 filtered ports: silence, then a confirming round.
        let r = p.next(&report(435, 430, 2.0, 5)).unwrap();
        assert_eq!(r.phase, Phase::Limited);
        // Silent rounds until the loss seen (the few answers of the burst-fed retry
        // count as some loss) explains nothing more, then a confirming round.
        let mut r = p.next(&report(5, 0, 0.03, 5)).unwrap();
        for _ in 0..3 {
            if r.phase == Phase::Confirm {
                break;
            }
            r = p.next(&report(5, 0, 0.03, 5)).unwrap();
        }
        assert_eq!(r.phase, Phase::Confirm);
        assert_eq!(r.gap, Duration::from_millis(100));
        assert_eq!(
            p.next(&report(5, 0, 0.2, 5)),
            None,
            "silence twice: filtered"
        );
        assert_eq!(p.limited_pairs, 895);
    }

    #[test]
    fn planner_under_loss_samples_once_and_finds_no_limit() {
        // 40% loss each way: 36% of tries are answered, whatever the rate.
        let mut p = Planner::new(false, 50);
        let mut missing = 1000.0f64;
        let mut rounds = 0;
        let mut plan = Plan::full();
        loop {
            let probes = missing.round() as u64;
            let answers = (missing * 0.36).round() as u64;
            let answers = if plan.phase == Phase::Sample {
                (plan.cap.unwrap() as f64 * 0.36).round() as u64
            } else {
                answers
            };
            missing -= answers as f64;
            rounds += 1;
            let send = if plan.phase == Phase::Full {
                0.001
            } else {
                probes as f64 / plan.rate.unwrap_or(1e6)
            };
            match p.next(&report(probes, answers, send, missing as u64)) {
                Some(next) => plan = next,
                None => break,
            }
            assert!(rounds < 80);
        }
        assert!(p.limit.is_none(), "loss is not a limit");
        // (The simulation rounds: its last port is answered 0.36 times a round.)
        assert!(missing <= 1.0, "{missing} left");
    }

    #[test]
    fn planner_confirms_silence_only_when_it_is_suspicious() {
        // 65,535 ports, 2 silent: no confirming round (friendly targets stay fast).
        let mut p = Planner::new(false, 50);
        let mut r = report(65535, 65533, 0.2, 2);
        r.probed = 65535;
        assert_eq!(p.next(&r).unwrap().phase, Phase::Full);
        let mut r = report(2, 0, 0.0001, 2);
        r.probed = 65535;
        assert_eq!(p.next(&r), None);
        // 300 ports, 35 silent (a SYN-ACK limit looks exactly like this): confirm first.
        let mut p = Planner::new(false, 50);
        p.next(&report(300, 265, 0.001, 35));
        let c = p.next(&report(35, 0, 0.001, 35)).unwrap();
        assert_eq!(c.phase, Phase::Confirm);
        // Answers after the pause: unknown, re-probed at a measured rate.
        let r = p.next(&report(35, 9, 0.2, 26)).unwrap();
        assert_eq!(r.phase, Phase::Limited);
        // UDP waits out Linux's ICMP limit of one a second.
        let mut u = Planner::new(true, 50);
        u.next(&report(300, 200, 0.001, 100));
        assert_eq!(
            u.next(&report(100, 0, 0.001, 100)).unwrap().gap,
            Duration::from_secs(1)
        );
    }
}
