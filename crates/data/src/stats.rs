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

#[cfg(test)]
mod tests {
    use super::*;

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
