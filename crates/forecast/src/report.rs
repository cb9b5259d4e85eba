//! What a run reports, and how trial outcomes are folded into it.
//!
//! Outcomes are folded in trial order into integer day histograms, so the report does not
//! depend on how trials were spread over threads, and memory does not grow with the number
//! of trials for the per-case figures. Percentiles are nearest-rank: the `ceil(p·n)`-th
//! smallest of `n` trials.

use expedite_core::{Date, Stage};
use rayon::prelude::*;
use serde::Serialize;

use crate::engine::{
    CLAMPED_FINAL, CLAMPED_FIRST, COMPONENTS, Model, TrialOutcome, day_of, days_between,
};
use crate::scenario::Milestones;

/// The whole forecast: the base run and one run per policy (issue 3, "Command").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// Its start date.
    pub start: Date,
    /// Trials per run.
    pub trials: u32,
    /// The seed.
    pub seed: u64,
    /// The target date, when the scenario gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Date>,
    /// `base` first, then the policies in file order.
    pub runs: Vec<Run>,
}

/// One run: the base or a policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// `base` or the policy's name.
    pub policy: String,
    /// Per case, in file order.
    pub cases: Vec<CaseForecast>,
    /// Per line, in file order.
    pub lines: Vec<LineForecast>,
    /// Where the time goes, the largest median first.
    pub bottleneck: Vec<Bottleneck>,
}

/// Dates at the 10th, 50th and 90th percentiles over trials.
pub use expedite_core::Percentiles;

/// The forecast for one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseForecast {
    /// The case id.
    pub id: String,
    /// Production contract date.
    pub contract: Percentiles,
    /// First delivery.
    pub first_delivery: Percentiles,
    /// Final delivery.
    pub final_delivery: Percentiles,
    /// Share of trials whose final delivery is on or before the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_on_target: Option<f64>,
    /// For a case that states the first delivery it was promised: the share of trials whose
    /// first delivery is on or before that day (whether the promise is kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_first_by_promise: Option<f64>,
    /// The stage the case has already overrun (it has lasted longer than its distribution
    /// allows, so it is taken to end at the start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_stage: Option<Stage>,
    /// Every unit is delivered: the dates are the recorded ones (a zero-width band).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delivered: bool,
    /// In some trials the first delivery came out before the start although none is
    /// recorded; those trials put it on the start (the facts say it has not happened).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub first_delivery_clamped: bool,
    /// The same for the final delivery.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub final_delivery_clamped: bool,
    /// The milestones the forecast took as facts, when the scenario gives any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestones: Option<Milestones>,
    /// How much of the P10–P90 width each source of uncertainty makes alone (only when
    /// asked for: [`crate::RunOptions::band_parts`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band_parts: Option<BandParts>,
}

/// The parts of a case's P10–P90 widths, in days: each is the width when only that source
/// is random and every other sits at its median, on the same random numbers. They do not
/// add up to the width: sources interact through the queue, and widths do not add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BandParts {
    /// Parts of the first delivery's band.
    pub first_delivery: SourceWidths,
    /// Parts of the final delivery's band.
    pub final_delivery: SourceWidths,
}

/// P10–P90 width in days with one source random.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SourceWidths {
    /// This case's own remaining paperwork stages.
    pub paperwork: i32,
    /// Other cases' paperwork stages, reaching this case through the queue: whether they
    /// order before it on a line they share.
    pub queue: i32,
    /// The lines' realised rate multipliers.
    pub rate: i32,
    /// The lines' ramp-up slips.
    pub slip: i32,
    /// The first-delivery delay, or for a case anchored on a promise, the promise slip
    /// that takes its place.
    pub delay: i32,
    /// The delivery span (how fast the buyer receives the order once it starts).
    pub pace: i32,
    /// Transport.
    pub transport: i32,
}

/// The forecast for one production line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineForecast {
    /// The line id.
    pub id: String,
    /// Mean over trials of units built ÷ capacity offered from the start until the line
    /// clears; below 1 when the line stood idle waiting for contracts.
    pub utilisation: f64,
    /// The day the line releases its last queued unit.
    pub clears: Percentiles,
}

/// Days one component adds to a case's final delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bottleneck {
    /// A paperwork stage, `production`, `lead_time` or `transport`.
    pub stage: String,
    /// Median over trials of the mean over open cases, in days (one decimal).
    pub median_days: f64,
}

/// Widest span of days counted densely; days further out (a wild lognormal tail, an
/// absurd quantity) are counted in a sparse map, so memory stays bounded whatever the input.
const DENSE_DAYS: i64 = 1 << 16;

/// Counts of trials per day: dense over a window that grows up to [`DENSE_DAYS`], sparse
/// outside it.
#[derive(Debug, Clone, Default)]
struct DayHistogram {
    first_day: i32,
    counts: Vec<u32>,
    outliers: std::collections::BTreeMap<i32, u32>,
}

impl DayHistogram {
    fn add(&mut self, day: i32) {
        if self.counts.is_empty() {
            self.first_day = day;
            self.counts.push(1);
            return;
        }
        let first = i64::from(self.first_day);
        let last = first + self.counts.len() as i64 - 1;
        let day_wide = i64::from(day);
        if day_wide < first && last - day_wide < DENSE_DAYS {
            let grow = usize::try_from(first - day_wide).unwrap_or(0);
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first_day = day;
        } else if day_wide > last && day_wide - first < DENSE_DAYS {
            self.counts
                .resize(usize::try_from(day_wide - first + 1).unwrap_or(0), 0);
        } else if day_wide < first || day_wide > last {
            *self.outliers.entry(day).or_insert(0) += 1;
            return;
        }
        let index = usize::try_from(i64::from(day) - i64::from(self.first_day)).unwrap_or(0);
        self.counts[index] += 1;
    }

    /// Every counted day with its count, in day order (a day may appear twice, once dense
    /// and once sparse, next to each other).
    fn sorted_counts(&self) -> Vec<(i32, u32)> {
        let dense = self
            .counts
            .iter()
            .enumerate()
            .filter(|&(_, &count)| count > 0)
            .map(|(offset, &count)| {
                (
                    self.first_day
                        .saturating_add(i32::try_from(offset).unwrap_or(i32::MAX)),
                    count,
                )
            });
        let mut all: Vec<(i32, u32)> = dense
            .chain(self.outliers.iter().map(|(&day, &count)| (day, count)))
            .collect();
        all.sort_by_key(|&(day, _)| day);
        all
    }

    fn total(&self) -> u64 {
        let dense: u64 = self.counts.iter().map(|&count| u64::from(count)).sum();
        dense
            + self
                .outliers
                .values()
                .map(|&count| u64::from(count))
                .sum::<u64>()
    }

    /// The nearest-rank percentiles: for each `p`, the `ceil(p·n)`-th smallest day.
    fn percentiles<const N: usize>(&self, ps: [f64; N]) -> [i32; N] {
        let total = self.total();
        let counts = self.sorted_counts();
        ps.map(|p| {
            let rank = nearest_rank(p, total);
            let mut seen = 0;
            for &(day, count) in &counts {
                seen += u64::from(count);
                if seen >= rank {
                    return day;
                }
            }
            self.first_day
        })
    }

    fn share_at_or_before(&self, day: i32) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let within: u64 = self
            .sorted_counts()
            .iter()
            .filter(|&&(counted, _)| counted <= day)
            .map(|&(_, count)| u64::from(count))
            .sum();
        within as f64 / total as f64
    }
}

/// The rank (1-based) of the nearest-rank percentile `p` of `n` values: `ceil(p·n)`, at
/// least 1.
pub fn nearest_rank(p: f64, n: u64) -> u64 {
    ((p * n as f64).ceil() as u64).clamp(1, n.max(1))
}

/// The nearest-rank percentile of unsorted values.
pub fn percentile_of(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = nearest_rank(p, values.len() as u64);
    values[usize::try_from(rank - 1).unwrap_or(0)]
}

/// Accumulates the outcomes of one run, in trial order.
#[derive(Debug, Clone)]
pub(crate) struct RunAccumulator {
    case_days: Vec<[DayHistogram; 3]>,
    case_clamped: Vec<[u64; 2]>,
    line_clear: Vec<DayHistogram>,
    line_utilisation_sum: Vec<f64>,
    component_days: Vec<Vec<f64>>,
    trials: u64,
}

impl RunAccumulator {
    pub(crate) fn new(model: &Model) -> RunAccumulator {
        RunAccumulator {
            case_days: vec![Default::default(); model.case_count()],
            case_clamped: vec![[0; 2]; model.case_count()],
            line_clear: vec![DayHistogram::default(); model.line_count()],
            line_utilisation_sum: vec![0.0; model.line_count()],
            component_days: vec![Vec::new(); COMPONENTS.len()],
            trials: 0,
        }
    }

    /// Adds a block of trials, in trial order so that the float sums are reproducible. The
    /// per-case histograms are filled in parallel, one case per task: integer counts do not
    /// depend on the order they are added in.
    pub(crate) fn add_block(&mut self, outcomes: &[TrialOutcome]) {
        self.case_days
            .par_iter_mut()
            .zip(self.case_clamped.par_iter_mut())
            .enumerate()
            .for_each(|(case, (histograms, clamped))| {
                for outcome in outcomes {
                    for (histogram, &day) in histograms.iter_mut().zip(&outcome.case_days[case]) {
                        histogram.add(day);
                    }
                    let flags = outcome.clamped[case];
                    clamped[0] += u64::from(flags & CLAMPED_FIRST != 0);
                    clamped[1] += u64::from(flags & CLAMPED_FINAL != 0);
                }
            });
        for outcome in outcomes {
            for (histogram, &day) in self.line_clear.iter_mut().zip(&outcome.line_clear_days) {
                histogram.add(day);
            }
            for (sum, &share) in self
                .line_utilisation_sum
                .iter_mut()
                .zip(&outcome.line_utilisation)
            {
                *sum += share;
            }
            for (values, &days) in self.component_days.iter_mut().zip(&outcome.component_days) {
                values.push(days);
            }
            self.trials += 1;
        }
    }

    /// Per case, the P10–P90 widths in days of first and final delivery.
    pub(crate) fn widths(&self) -> Vec<[i32; 2]> {
        self.case_days
            .iter()
            .map(|[_, first, last]| {
                let width = |histogram: &DayHistogram| {
                    let [p10, p90] = histogram.percentiles([0.10, 0.90]);
                    p90.saturating_sub(p10)
                };
                [width(first), width(last)]
            })
            .collect()
    }

    pub(crate) fn finish(mut self, policy: &str, model: &Model, scenario: &crate::Scenario) -> Run {
        let start = scenario.start;
        let percentiles = |histogram: &DayHistogram| {
            let [p10, p50, p90] = histogram.percentiles([0.10, 0.50, 0.90]);
            Percentiles {
                p10: date_of(start, p10),
                p50: date_of(start, p50),
                p90: date_of(start, p90),
            }
        };
        let cases = scenario
            .cases
            .iter()
            .zip(&self.case_days)
            .zip(&model.overdue)
            .zip(&self.case_clamped)
            .map(
                |(((case, [contract, first, last]), overdue), clamped)| CaseForecast {
                    id: case.id.clone(),
                    contract: percentiles(contract),
                    first_delivery: percentiles(first),
                    final_delivery: percentiles(last),
                    p_on_target: model.target_day.map(|day| last.share_at_or_before(day)),
                    p_first_by_promise: case.promised_first_delivery.map(|promised| {
                        first.share_at_or_before(day_of(days_between(start, promised)))
                    }),
                    overdue_stage: *overdue,
                    delivered: case.is_delivered(),
                    first_delivery_clamped: clamped[0] > 0,
                    final_delivery_clamped: clamped[1] > 0,
                    milestones: case.milestones.clone(),
                    band_parts: None,
                },
            )
            .collect();
        let trials = self.trials.max(1) as f64;
        let lines = scenario
            .lines
            .iter()
            .zip(&self.line_clear)
            .zip(&self.line_utilisation_sum)
            .map(|((line, clear), &sum)| LineForecast {
                id: line.id.clone(),
                utilisation: round_to(sum / trials, 1000.0),
                clears: percentiles(clear),
            })
            .collect();
        let mut bottleneck: Vec<Bottleneck> = COMPONENTS
            .iter()
            .zip(&mut self.component_days)
            .map(|(name, values)| Bottleneck {
                stage: (*name).to_owned(),
                median_days: round_to(percentile_of(values, 0.5), 10.0),
            })
            .collect();
        bottleneck.sort_by(|a, b| b.median_days.total_cmp(&a.median_days));
        Run {
            policy: policy.to_owned(),
            cases,
            lines,
            bottleneck,
        }
    }
}

fn round_to(value: f64, scale: f64) -> f64 {
    (value * scale).round() / scale
}

/// `start + day` days, clamped to the calendar's range (a queue of billions of units can
/// reach past the year 9999).
pub fn date_of(start: Date, day: i32) -> Date {
    jiff::Span::new()
        .try_days(i64::from(day))
        .ok()
        .and_then(|span| start.checked_add(span).ok())
        .unwrap_or(if day < 0 { Date::MIN } else { Date::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_is_ceil_of_p_times_n() {
        assert_eq!(nearest_rank(0.1, 10), 1);
        assert_eq!(nearest_rank(0.5, 10), 5);
        assert_eq!(nearest_rank(0.9, 10), 9);
        assert_eq!(nearest_rank(0.5, 1), 1);
        assert_eq!(nearest_rank(0.1, 11), 2);
    }

    #[test]
    fn histogram_percentiles_match_sorted_values() {
        let mut histogram = DayHistogram::default();
        let days = [5, -3, 12, 5, 7, 100, 0, 2, 9, 5];
        for day in days {
            histogram.add(day);
        }
        let mut sorted = days.to_vec();
        sorted.sort_unstable();
        let ps = [0.1, 0.5, 0.9];
        for (p, found) in ps.into_iter().zip(histogram.percentiles(ps)) {
            let rank = nearest_rank(p, days.len() as u64) as usize;
            assert_eq!(found, sorted[rank - 1], "p = {p}");
        }
        assert!((histogram.share_at_or_before(5) - 0.6).abs() < 1e-12);
        assert!((histogram.share_at_or_before(-4)).abs() < 1e-12);
    }

    #[test]
    fn far_outliers_are_counted_sparsely_and_still_ranked() {
        let mut histogram = DayHistogram::default();
        let days = [10, i32::MAX, 12, -2_000_000_000, 11, 11, 1_000_000];
        for day in days {
            histogram.add(day);
        }
        assert!(histogram.counts.len() <= DENSE_DAYS as usize);
        let mut sorted = days.to_vec();
        sorted.sort_unstable();
        let ps = [0.1, 0.5, 0.9, 1.0];
        for (p, found) in ps.into_iter().zip(histogram.percentiles(ps)) {
            let rank = nearest_rank(p, days.len() as u64) as usize;
            assert_eq!(found, sorted[rank - 1], "p = {p}");
        }
        assert!((histogram.share_at_or_before(12) - 5.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn dates_beyond_the_calendar_are_clamped_not_a_panic() {
        let start = jiff::civil::date(2025, 1, 1);
        assert_eq!(date_of(start, i32::MAX), Date::MAX);
        assert_eq!(date_of(start, i32::MIN), Date::MIN);
        assert_eq!(date_of(start, 31).to_string(), "2025-02-01");
    }
}
