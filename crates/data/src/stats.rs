//! Order statistics with the definitions the issue fixes: the median is the middle value, or
//! the mean of the two middle values for an even count; percentiles interpolate linearly
//! between the closest ranks, like numpy's default (`method="linear"`).

/// The median of the values, `None` when there are none.
///
/// ```
/// assert_eq!(expedite_data::stats::median(&[3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(expedite_data::stats::median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
/// ```
pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 50.0)
}

/// The `percent`-th percentile (0–100) by linear interpolation between closest ranks:
/// position `h = (n - 1) * percent / 100` in the sorted values, then
/// `x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])`. `None` for no values.
///
/// ```
/// // numpy.percentile([1, 2, 3, 4], 90) == 3.7
/// let p90 = expedite_data::stats::percentile(&[1.0, 2.0, 3.0, 4.0], 90.0).unwrap();
/// assert!((p90 - 3.7).abs() < 1e-12);
/// ```
pub fn percentile(values: &[f64], percent: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile_of_sorted(&sorted, percent)
}

/// [`percentile`] on values already sorted ascending.
pub fn percentile_of_sorted(sorted: &[f64], percent: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = last as f64 * percent.clamp(0.0, 100.0) / 100.0;
    let lower = position.floor() as usize;
    let upper = (lower + 1).min(last);
    let weight = position - lower as f64;
    Some(sorted[lower] + weight * (sorted[upper] - sorted[lower]))
}

/// The arithmetic mean, `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The Kaplan–Meier estimate of a survival curve from times that are either events (the
/// thing happened after that time) or censored (still waiting after that time).
///
/// At each distinct event time `t`, the share still waiting is multiplied by
/// `1 - d / n`, where `d` is the number of events at `t` and `n` the number at risk: those
/// whose time is `t` or later. A time censored at `t` counts as at risk at `t` (it was seen
/// to wait through `t`), the usual convention.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    /// `(t, share still waiting just after t)` at each event time, ascending.
    steps: Vec<(f64, f64)>,
}

impl KaplanMeier {
    /// The estimate from `(time, event)` pairs: `event` true = it happened at `time`,
    /// false = censored at `time`.
    pub fn new(observations: impl IntoIterator<Item = (f64, bool)>) -> KaplanMeier {
        let mut observations: Vec<(f64, bool)> = observations.into_iter().collect();
        observations.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut at_risk = observations.len();
        let mut surviving = 1.0;
        let mut steps = Vec::new();
        let mut index = 0;
        while index < observations.len() {
            let time = observations[index].0;
            let same_time = observations[index..]
                .iter()
                .take_while(|(other, _)| other.total_cmp(&time).is_eq())
                .count();
            let events = observations[index..index + same_time]
                .iter()
                .filter(|(_, event)| *event)
                .count();
            if events > 0 {
                surviving *= 1.0 - events as f64 / at_risk as f64;
                steps.push((time, surviving));
            }
            at_risk -= same_time;
            index += same_time;
        }
        KaplanMeier { steps }
    }

    /// The share still waiting just after `time`.
    pub fn surviving_after(&self, time: f64) -> f64 {
        self.steps
            .iter()
            .take_while(|(step, _)| *step <= time)
            .last()
            .map_or(1.0, |&(_, share)| share)
    }

    /// The earliest time by which the estimated share that has had the event reaches
    /// `share` (0.5 = the median, 0.9 = the 90th percentile); `None` when the curve never
    /// gets there (too many censored before).
    pub fn quantile(&self, share: f64) -> Option<f64> {
        let still_waiting = 1.0 - share;
        self.steps
            .iter()
            .find(|&&(_, surviving)| surviving <= still_waiting + 1e-12)
            .map(|&(time, _)| time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaplan_meier_by_hand() {
        // Times 1, 2, 2, 3+ (censored), 4, 5+ : at risk 6, 5, 3, 2, 1.
        // S(1) = 5/6; S(2) = 5/6 * 3/5 = 1/2; the censored 3 leaves 2 at risk;
        // S(4) = 1/2 * 1/2 = 1/4; the censored 5 ends the curve.
        let km = KaplanMeier::new([
            (2.0, true),
            (1.0, true),
            (3.0, false),
            (2.0, true),
            (4.0, true),
            (5.0, false),
        ]);
        assert!((km.surviving_after(1.0) - 5.0 / 6.0).abs() < 1e-12);
        assert!((km.surviving_after(3.0) - 0.5).abs() < 1e-12);
        assert!((km.surviving_after(4.5) - 0.25).abs() < 1e-12);
        assert_eq!(km.quantile(0.5), Some(2.0));
        assert_eq!(km.quantile(0.75), Some(4.0));
        assert_eq!(
            km.quantile(0.9),
            None,
            "a quarter still waits when the data ends"
        );
    }

    #[test]
    fn kaplan_meier_without_censoring_is_the_empirical_curve() {
        let km = KaplanMeier::new([(0.0, true), (1.0, true), (1.0, true), (3.0, true)]);
        assert!((km.surviving_after(0.0) - 0.75).abs() < 1e-12);
        assert!((km.surviving_after(1.0) - 0.25).abs() < 1e-12);
        assert_eq!(km.quantile(0.5), Some(1.0));
        assert_eq!(km.quantile(0.9), Some(3.0));
        assert_eq!(KaplanMeier::new([]).quantile(0.5), None);
    }

    #[test]
    fn odd_and_even_medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5.0]), Some(5.0));
        assert_eq!(median(&[1.0, 9.0]), Some(5.0));
        assert_eq!(median(&[2.0, 0.0, 7.0, 3.0, 1.0]), Some(2.0));
    }

    #[test]
    fn percentiles_match_numpy_linear() {
        // Values computed with numpy.percentile(..., 90) by hand:
        // [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] -> h = 9.0 -> 9
        let eleven: Vec<f64> = (0..=10).map(f64::from).collect();
        assert_eq!(percentile(&eleven, 90.0), Some(9.0));
        // [1, 2] -> h = 0.9 -> 1.9
        assert!((percentile(&[2.0, 1.0], 90.0).expect("two values") - 1.9).abs() < 1e-12);
        // [0, 1, 1, 2, 5] -> h = 3.6 -> 2 + 0.6 * 3 = 3.8
        let p90 = percentile(&[5.0, 1.0, 0.0, 2.0, 1.0], 90.0).expect("five values");
        assert!((p90 - 3.8).abs() < 1e-12);
        assert_eq!(percentile(&[4.0], 90.0), Some(4.0));
        assert_eq!(percentile(&[], 90.0), None);
    }

    #[test]
    fn mean_of_values() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
    }
}
