//! Retries under loss: how many more rounds the loss measured so far is worth.

/// Decides, after each full retry round, whether another is worth it.
///
/// Loss: with a constant per-try loss `q`, each retry round finds `q` times the answers
/// of the round before (whatever the number of silent, filtered pairs), so `q` is
/// estimated as `a_k / a_(k-1)`, the answering pairs still missing as `a_k·q/(1-q)`,
/// and rounds go on until fewer than 0.001 are expected (at most `max_retries`): the
/// budget follows the loss measured (one retry without loss, about 30 at 40% each way).
/// A target that answers only part of what it is sent (a rate limit) is not loss: the
/// [`Planner`](super::planner::Planner) finds it and keeps those rounds away from this estimate.
#[derive(Clone, Debug, Default)]
pub struct RetryPolicy {
    answers: Vec<u64>,
    q: f64,
    missing: f64,
    /// Unanswered pairs after the last round: what the next round retries.
    unanswered: u64,
}

/// What to do after a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Stop,
    Retry,
}

/// Retries stop when fewer answering pairs than this are expected to be still missing.
const MISSING_OK: f64 = 0.001;

impl RetryPolicy {
    /// Record that a round found `answers` new answers, with `unanswered` probed pairs
    /// left and `rounds_done` rounds behind us.
    pub fn next(
        &mut self,
        answers: u64,
        unanswered: u64,
        rounds_done: u32,
        max_retries: u32,
    ) -> Next {
        let k = self.answers.len();
        let prev = k.checked_sub(1).and_then(|i| self.answers.get(i)).copied();
        let retried = std::mem::replace(&mut self.unanswered, unanswered);
        self.answers.push(answers);
        if let Some(prev) = prev {
            // Of the pairs retried, the share answered now; and the answers relative to
            // the round before.
            let got = if retried > 0 {
                answers as f64 / retried as f64
            } else {
                1.0
            };
            let ratio = if prev > 0 {
                answers as f64 / prev as f64
            } else {
                0.0
            };
            // The highest loss seen in a round with enough answers to tell: an
            // estimate that is too low stops the retries too early.
            if prev >= 20 || k == 1 {
                self.q = self.q.max(ratio.min(1.0 - got).clamp(0.0, 0.9));
            }
            self.missing = if answers > 0 {
                answers as f64 * self.q / (1.0 - self.q)
            } else {
                self.missing * self.q
            };
        }
        if unanswered == 0 || rounds_done > max_retries {
            return Next::Stop;
        }
        if k == 0 || self.missing >= MISSING_OK {
            // Always one retry (a lost probe to a filtered-looking port); then by the estimate.
            Next::Retry
        } else {
            Next::Stop
        }
    }

    /// A round the policy does not judge (a sample, a rate-limited or confirming round)
    /// left `unanswered` pairs: the next full round starts a fresh series of estimates.
    pub fn skip(&mut self, unanswered: u64) {
        self.unanswered = unanswered;
        self.answers.clear();
    }

    /// The loss is at most `q`: rounds that looked lossy were a rate limit's doing.
    pub fn cap_loss(&mut self, q: f64) {
        self.q = self.q.min(q.max(0.0));
    }

    /// The estimated per-try loss.
    pub fn loss(&self) -> f64 {
        self.q
    }

    /// Consecutive silent rounds after which the loss seen explains a still-missing
    /// answer less than once in 1,000 (1 without loss, 16 at 40% each way).
    pub(super) fn silent_rounds_needed(&self) -> u32 {
        if self.q <= 0.0 {
            return 1;
        }
        (MISSING_OK.ln() / self.q.min(0.9).ln())
            .ceil()
            .clamp(1.0, 40.0) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policy_without_loss_retries_once() {
        let mut p = RetryPolicy::default();
        assert_eq!(p.next(65530, 5, 1, 10), Next::Retry); // 5 filtered ports left
        assert_eq!(p.next(0, 5, 2, 10), Next::Stop);
        assert_eq!(p.loss(), 0.0);
    }

    /// Rounds of a simulated scan: `answering` pairs answer each try with probability
    /// `1 - q`, `silent` never do. Returns (rounds, estimated loss).
    fn simulate(answering: f64, silent: u64, q: f64, max_retries: u32) -> (u32, f64) {
        let mut p = RetryPolicy::default();
        let mut missing = answering;
        let mut round = 0;
        loop {
            let answers = (missing * (1.0 - q)).round() as u64;
            missing -= answers as f64;
            round += 1;
            if p.next(answers, missing as u64 + silent, round, max_retries) == Next::Stop {
                return (round, p.loss());
            }
        }
    }

    #[test]
    fn retry_policy_under_loss_keeps_going_until_nothing_is_expected() {
        // 10% loss each way: 19% of tries fail; 131,070 answering pairs.
        let (rounds, q) = simulate(131_070.0, 4, 0.19, 20);
        assert!(rounds >= 9, "stopped after {rounds} rounds");
        assert!((q - 0.19).abs() < 0.05, "loss {q}");
        assert_eq!(simulate(131_070.0, 4, 0.19, 3).0, 4, "the cap holds");
        assert_eq!(simulate(1000.0, 0, 0.0, 10).0, 1, "nothing left: no retry");
    }
}
