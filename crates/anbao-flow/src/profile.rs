//! A host group's hour-of-week traffic [`Profile`]: 168 slots (Monday
//! 00:00–00:59 is slot 0, Sunday 23:00–23:59 slot 167, in a configured UTC
//! offset), each an estimate of the group's usual pps and bps in that hour
//! of the week. Pure state, no clock: seconds come in as parameters.
//!
//! Learning: the seconds of one hour (rates, and silent seconds as zero)
//! are summed into a running mean and variance; when the hour is over, if
//! at least [`MIN_HOUR_SECS`] of it were seen, it becomes one sample of its
//! slot: the slot's `mean` moves towards the hour's mean and its `spread`
//! towards the root-mean-square deviation of the hour's seconds from the
//! slot's mean (√(variance + (hour mean − slot mean)²)), both with weight
//! max(α, 1/samples) — the plain average of the first weeks, an EWMA across
//! weeks after. A slot is used for detection once it has
//! `profile_min_weeks` samples. Which seconds are learnt (not those of an
//! attack) is the detector's decision.
//!
//! Seeding: [`HourSums`] collects stored per-minute points into hours the
//! same way (a minute is 60 seconds at its mean rate), so a profile can be
//! rebuilt from history when the server starts. Per-minute history has no
//! within-minute variation: its spreads are smaller than live learning's.

use serde::Serialize;

/// Slots in a week.
pub const SLOTS: usize = 168;
/// Seconds of an hour that must be seen (not under attack) for the hour to
/// count as a sample of its slot.
pub const MIN_HOUR_SECS: u32 = 900;
const WEEK_SECS: i64 = 7 * 24 * 3600;
/// Hour of the week of the Unix epoch (Thursday 00:00, Monday-based).
const EPOCH_HOUR_OF_WEEK: i64 = 3 * 24;

/// The local hour number (hours since the epoch, in the offset) of `sec`.
pub fn local_hour(sec: i64, offset_secs: i64) -> i64 {
    sec.saturating_add(offset_secs).div_euclid(3600)
}

/// The slot of a local hour number.
pub fn slot_of_hour(hour: i64) -> usize {
    // rem_euclid by 168 is in 0..168.
    hour.saturating_add(EPOCH_HOUR_OF_WEEK).rem_euclid(SLOTS as i64) as usize
}

/// The slot of unix second `sec` in a UTC offset.
pub fn slot_of(sec: i64, offset_secs: i64) -> usize {
    slot_of_hour(local_hour(sec, offset_secs))
}

/// `Tue 14:00` for slot 38.
pub fn slot_label(slot: usize) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let day = DAYS.get((slot / 24) % 7).copied().unwrap_or("?");
    format!("{day} {:02}:00", slot % 24)
}

/// A rate's usual level in a slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    /// Typical deviation of a second from `mean`.
    pub spread: f64,
}

impl Estimate {
    fn is_valid(&self) -> bool {
        self.mean.is_finite() && self.mean >= 0.0 && self.spread.is_finite() && self.spread >= 0.0
    }
}

/// One hour of the week.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Slot {
    pub pps: Estimate,
    pub bps: Estimate,
    /// Hours learnt (weeks, when nothing was missed).
    pub samples: u32,
}

impl Slot {
    pub fn is_valid(&self) -> bool {
        self.pps.is_valid() && self.bps.is_valid()
    }
}

/// Running count, mean and sum of squared deviations (Welford, merged
/// Chan-style so a run of equal values is added at once).
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Adds `n` values equal to `x`.
    fn add(&mut self, x: f64, n: f64) {
        if n <= 0.0 {
            return;
        }
        let total = self.n + n;
        let delta = x - self.mean;
        self.mean += delta * n / total;
        self.m2 += delta * delta * self.n * n / total;
        self.n = total;
    }

    fn variance(&self) -> f64 {
        if self.n > 0.0 { (self.m2 / self.n).max(0.0) } else { 0.0 }
    }
}

/// The seconds of one hour being summed.
#[derive(Debug, Clone, Copy, Default)]
pub struct HourSum {
    secs: u32,
    pps: Moments,
    bps: Moments,
}

impl HourSum {
    fn add(&mut self, pps: f64, bps: f64, secs: u32) {
        self.secs = self.secs.saturating_add(secs);
        self.pps.add(pps, f64::from(secs));
        self.bps.add(bps, f64::from(secs));
    }
}

fn fold(e: &mut Estimate, m: &Moments, first: bool, w: f64) {
    if first {
        e.mean = m.mean;
        e.spread = m.variance().sqrt();
    } else {
        let d = m.mean - e.mean;
        let dev = (m.variance() + d * d).sqrt();
        e.mean += w * d;
        e.spread += w * (dev - e.spread);
    }
}

/// A group's 168 slots and the hour being learnt.
#[derive(Debug, Clone)]
pub struct Profile {
    slots: Vec<Slot>,
    /// (local hour number, its sums).
    hour: Option<(i64, HourSum)>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile { slots: vec![Slot::default(); SLOTS], hour: None }
    }
}

impl Profile {
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub fn slot(&self, slot: usize) -> Option<&Slot> {
        self.slots.get(slot)
    }

    /// Replaces a slot (seeding); false when `slot` is out of range.
    pub fn set_slot(&mut self, slot: usize, value: Slot) -> bool {
        match self.slots.get_mut(slot) {
            Some(s) => {
                *s = value;
                true
            }
            None => false,
        }
    }

    /// Learns `n` consecutive seconds from unix second `sec`, each at
    /// `pps`/`bps` (a run of silent seconds is `n` seconds at 0), split at
    /// hour boundaries; an hour is folded into its slot when a second of a
    /// later hour comes. At most a week of a run is learnt.
    pub fn learn(&mut self, sec: i64, n: i64, pps: f64, bps: f64, offset_secs: i64, alpha: f64) {
        let end = sec.saturating_add(n);
        let mut s = sec.max(end.saturating_sub(WEEK_SECS));
        while s < end {
            let hour = local_hour(s, offset_secs);
            let hour_end = (hour + 1).saturating_mul(3600).saturating_sub(offset_secs);
            let take = end.min(hour_end).saturating_sub(s).max(1);
            if self.hour.is_some_and(|(h, _)| h != hour) {
                self.close(alpha);
            }
            let (_, sum) = self.hour.get_or_insert((hour, HourSum::default()));
            sum.add(pps, bps, u32::try_from(take).unwrap_or(u32::MAX));
            s = s.saturating_add(take);
        }
    }

    /// Folds the hour being learnt, if any.
    fn close(&mut self, alpha: f64) {
        if let Some((hour, sum)) = self.hour.take() {
            self.fold_hour(hour, &sum, alpha);
        }
    }

    /// Folds one hour's sums into its slot, if enough of it was seen;
    /// whether it was.
    pub fn fold_hour(&mut self, hour: i64, sum: &HourSum, alpha: f64) -> bool {
        if sum.secs < MIN_HOUR_SECS {
            return false;
        }
        let Some(slot) = self.slots.get_mut(slot_of_hour(hour)) else { return false };
        let first = slot.samples == 0;
        slot.samples = slot.samples.saturating_add(1);
        let w = alpha.max(1.0 / f64::from(slot.samples));
        fold(&mut slot.pps, &sum.pps, first, w);
        fold(&mut slot.bps, &sum.bps, first, w);
        true
    }
}

/// A group's profile as shown (`Detector::group_profile`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupProfile {
    pub group: String,
    /// Whether the profile judges the group (`profile_factor` or
    /// `profile_deviations` set); it learns either way.
    pub enabled: bool,
    pub utc_offset_hours: f64,
    /// Samples a slot needs to be used.
    pub min_weeks: u32,
    /// The slot of the detector's clock (none before its first record).
    pub current: Option<usize>,
    /// The 168 slots, Monday 00:00 first.
    pub slots: Vec<ProfileSlot>,
}

/// One slot as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileSlot {
    pub slot: usize,
    /// `Tue 14:00`.
    pub label: String,
    pub pps: Estimate,
    pub bps: Estimate,
    pub samples: u32,
    pub ready: bool,
}

/// Seeding input that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    #[error("no host group {0:?}")]
    UnknownGroup(String),
    #[error("profile slot {0} is out of range (0..168)")]
    BadSlot(usize),
    #[error("profile slot {0}: rates must be finite and ≥ 0")]
    BadSlotValue(usize),
    #[error("traffic of minute {minute} (unix seconds): rates must be finite and ≥ 0")]
    BadPoint { minute: i64 },
}

/// Per-minute history gathered into hours, for [`Profile::fold_hour`].
#[derive(Debug, Default)]
pub struct HourSums {
    hours: std::collections::BTreeMap<i64, HourSum>,
}

impl HourSums {
    /// Adds the minute starting at unix second `minute` at mean rates
    /// `pps`/`bps`.
    pub fn add_minute(&mut self, minute: i64, pps: f64, bps: f64, offset_secs: i64) {
        self.hours.entry(local_hour(minute, offset_secs)).or_default().add(pps, bps, 60);
    }

    /// The hours in time order.
    pub fn into_hours(self) -> impl Iterator<Item = (i64, HourSum)> {
        self.hours.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_week_in_the_offset() {
        // 2024-01-02 06:30 UTC was a Tuesday: 14:30 at +8.
        let sec = 1_704_177_000;
        assert_eq!(slot_of(sec, 0), 24 + 6);
        assert_eq!(slot_of(sec, 8 * 3600), 24 + 14);
        assert_eq!(slot_label(slot_of(sec, 8 * 3600)), "Tue 14:00");
        // Monday 03:00 at +8 is Sunday 19:00 UTC.
        assert_eq!(slot_label(slot_of(1_704_049_200, 8 * 3600)), "Mon 03:00");
        assert_eq!(slot_label(slot_of(1_704_049_200, 0)), "Sun 19:00");
        assert_eq!(slot_label(slot_of(1_704_049_200, -5 * 3600)), "Sun 14:00");
    }

    #[test]
    fn an_hour_becomes_a_sample_when_the_next_one_starts() {
        let mut p = Profile::default();
        let t = 1_704_153_600; // Tuesday 00:00 UTC
        for s in 0..3600 {
            p.learn(t + s, 1, if s % 2 == 0 { 100.0 } else { 300.0 }, 8000.0, 0, 0.5);
        }
        assert_eq!(p.slot(24).unwrap().samples, 0, "not folded before the next hour");
        p.learn(t + 3600, 1, 0.0, 0.0, 0, 0.5);
        let s = *p.slot(24).unwrap();
        assert_eq!(s.samples, 1);
        assert!((s.pps.mean - 200.0).abs() < 1e-9 && (s.pps.spread - 100.0).abs() < 1e-9, "{s:?}");
        assert_eq!((s.bps.mean, s.bps.spread), (8000.0, 0.0));
        // A silent run over several hours: each hour learns zeros.
        p.learn(t + 3601, 3 * 3600, 0.0, 0.0, 0, 0.5);
        assert_eq!(p.slot(25).unwrap().samples, 1);
        assert_eq!(p.slot(26).unwrap().samples, 1);
        assert_eq!(p.slot(26).unwrap().pps.mean, 0.0);
        // A second week of the same hour at 400: mean halfway, spread from
        // the deviation.
        for s in 0..3600 {
            p.learn(t + WEEK_SECS + s, 1, 400.0, 8000.0, 0, 0.5);
        }
        p.learn(t + WEEK_SECS + 3600, 1, 0.0, 0.0, 0, 0.5);
        let s = *p.slot(24).unwrap();
        assert_eq!(s.samples, 2);
        assert!((s.pps.mean - 300.0).abs() < 1e-9, "{s:?}");
        assert!((s.pps.spread - 150.0).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn short_hours_are_not_samples() {
        let mut p = Profile::default();
        let t = 1_704_153_600;
        p.learn(t, i64::from(MIN_HOUR_SECS) - 1, 50.0, 0.0, 0, 0.5);
        p.learn(t + 3600, 1, 50.0, 0.0, 0, 0.5);
        assert_eq!(p.slot(24).unwrap().samples, 0);
    }
}
