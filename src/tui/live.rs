//! Live progress of the engine running in this process, from its `watch` channel: the
//! running totals it publishes are sampled as they come, and rates and the send-rate
//! sparkline are worked out from the samples, so a campaign sending thousands of messages a
//! second costs the console no database reads for them. When another process sends, the
//! console reads the same figures from the database instead.

use crate::domain::CampaignId;
use crate::engine::sender::EngineState;
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// How far back samples are kept: the sparkline's span and a little more.
const KEEP: Duration = Duration::from_secs(320);

/// Samples of the in-process engine's totals.
#[derive(Debug, Default)]
pub struct LiveProgress {
    /// (when, messages accepted per campaign since the engine started), oldest first.
    samples: VecDeque<(Instant, BTreeMap<CampaignId, u64>)>,
    /// Whether this process's engine sends (holds the lease).
    pub active: bool,
    /// The engine that sends instead, when another process holds the lease.
    pub other: Option<String>,
    /// Messages accepted since this process's engine started.
    pub sent: u64,
}

impl LiveProgress {
    /// Takes what the engine published at `at`.
    pub fn record(&mut self, at: Instant, state: &EngineState) {
        self.active = state.active;
        self.other = state.other.clone();
        self.sent = state.sent;
        if !state.active {
            self.samples.clear();
            return;
        }
        self.samples.push_back((at, state.sent_by_campaign.clone()));
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) > KEEP)
        {
            self.samples.pop_front();
        }
    }

    fn total(counts: &BTreeMap<CampaignId, u64>, campaign: Option<CampaignId>) -> u64 {
        match campaign {
            Some(c) => counts.get(&c).copied().unwrap_or(0),
            None => counts.values().sum(),
        }
    }

    /// The campaign's total (or everyone's, for `None`) as it stood at `at`: the last sample
    /// taken at or before it, or zero before the first.
    fn at(&self, at: Instant, campaign: Option<CampaignId>) -> u64 {
        self.samples
            .iter()
            .rev()
            .find(|(t, _)| *t <= at)
            .map_or(0, |(_, c)| Self::total(c, campaign))
    }

    /// Messages accepted a second over the last `window` before `now` (or since the first
    /// sample, when the engine has run for less); `None` while this process does not send.
    pub fn rate(
        &self,
        campaign: Option<CampaignId>,
        now: Instant,
        window: Duration,
    ) -> Option<f64> {
        if !self.active {
            return None;
        }
        let (first_at, first) = self.samples.front()?;
        let (last_at, last) = self.samples.back()?;
        let since = now.checked_sub(window).unwrap_or(*first_at).max(*first_at);
        let span = last_at.saturating_duration_since(since).as_secs_f64();
        if span < 0.5 {
            return Some(0.0);
        }
        let before = if since == *first_at {
            Self::total(first, campaign)
        } else {
            self.at(since, campaign)
        };
        let after = Self::total(last, campaign);
        Some(after.saturating_sub(before) as f64 / span)
    }

    /// How many of the last spans of `bucket` before `now` the samples cover whole (the
    /// engine watched all of them); `None` when the figures are not live.
    pub fn whole_buckets(&self, now: Instant, bucket: Duration) -> Option<usize> {
        if !self.active {
            return None;
        }
        let first = self.samples.front().map(|(t, _)| *t)?;
        let covered = now.saturating_duration_since(first).as_secs_f64();
        Some((covered / bucket.as_secs_f64()).floor() as usize)
    }

    /// Messages accepted in each of the last `buckets` spans of `bucket` before `now`,
    /// oldest first; `None` while this process does not send.
    pub fn history(
        &self,
        campaign: Option<CampaignId>,
        now: Instant,
        bucket: Duration,
        buckets: usize,
    ) -> Option<Vec<i64>> {
        if !self.active {
            return None;
        }
        Some(
            (0..buckets)
                .map(|i| {
                    let end = now.checked_sub(bucket * (buckets - 1 - i) as u32);
                    let start = end.and_then(|e| e.checked_sub(bucket));
                    match (start, end) {
                        (Some(s), Some(e)) => {
                            self.at(e, campaign).saturating_sub(self.at(s, campaign)) as i64
                        }
                        _ => 0,
                    }
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(active: bool, counts: &[(i64, u64)]) -> EngineState {
        let sent_by_campaign: BTreeMap<CampaignId, u64> =
            counts.iter().map(|&(c, n)| (CampaignId(c), n)).collect();
        EngineState {
            active,
            sent: sent_by_campaign.values().sum(),
            sent_by_campaign,
            ..EngineState::default()
        }
    }

    #[test]
    fn rates_and_history_come_from_the_samples() {
        let t0 = Instant::now();
        let s = |secs: u64| t0 + Duration::from_secs(secs);
        let mut live = LiveProgress::default();
        assert_eq!(
            live.rate(None, t0, Duration::from_secs(60)),
            None,
            "not sending"
        );
        // Campaign 1 at 10/s for 100 s, campaign 2 at 2/s from 50 s on.
        for t in 0..=100u64 {
            let two = t.saturating_sub(50) * 2;
            live.record(s(t), &state(true, &[(1, t * 10), (2, two)]));
        }
        let now = s(100);
        let minute = Duration::from_secs(60);
        assert_eq!(live.rate(Some(CampaignId(1)), now, minute), Some(10.0));
        assert_eq!(
            live.rate(Some(CampaignId(2)), now, minute),
            Some(100.0 / 60.0)
        );
        assert_eq!(live.rate(None, now, minute), Some(10.0 + 100.0 / 60.0));
        assert_eq!(live.rate(Some(CampaignId(9)), now, minute), Some(0.0));
        let h = live
            .history(Some(CampaignId(2)), now, Duration::from_secs(10), 12)
            .unwrap();
        assert_eq!(h, vec![0, 0, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20], "{h:?}");
        // Samples older than the kept span are dropped.
        live.record(s(1000), &state(true, &[(1, 5000)]));
        assert_eq!(live.samples.len(), 1);
        // The engine stops sending: no live figures.
        live.record(s(1001), &state(false, &[]));
        assert_eq!(live.rate(None, s(1001), minute), None);
        assert_eq!(live.history(None, s(1001), minute, 3), None);
    }

    #[test]
    fn a_young_engine_rates_over_what_it_has() {
        let t0 = Instant::now();
        let mut live = LiveProgress::default();
        live.record(t0, &state(true, &[(1, 0)]));
        assert_eq!(
            live.rate(Some(CampaignId(1)), t0, Duration::from_secs(60)),
            Some(0.0)
        );
        live.record(t0 + Duration::from_secs(4), &state(true, &[(1, 80)]));
        assert_eq!(
            live.rate(
                Some(CampaignId(1)),
                t0 + Duration::from_secs(4),
                Duration::from_secs(60)
            ),
            Some(20.0)
        );
        // Four seconds in, no ten-second span has been seen whole; at 25 s, two have.
        let ten = Duration::from_secs(10);
        assert_eq!(
            live.whole_buckets(t0 + Duration::from_secs(4), ten),
            Some(0)
        );
        assert_eq!(
            live.whole_buckets(t0 + Duration::from_secs(25), ten),
            Some(2)
        );
        live.record(t0 + Duration::from_secs(30), &state(false, &[]));
        assert_eq!(live.whole_buckets(t0 + Duration::from_secs(30), ten), None);
    }
}
