//! Fitting the first-delivery delay as a signed **offset**: a normal distribution of days
//! with one mean for each group of sales (a line with enough sales of its own, or the pool of
//! the rest) and one spread shared by every group, by maximum likelihood (see
//! [`crate::calibrate`] for what the offsets are).
//!
//! Why a normal and not a log-normal: the offset is what the production model does not
//! explain, and for some lines (munitions built ahead of or from stock) the plain model is
//! already later than the real first delivery, so offsets are negative as often as not. A
//! log-normal cannot hold them; a floor at one day would make its spread explode.
//!
//! Why one shared spread: most lines have a handful of sales, too few to fit a spread each;
//! their means differ by years, their spreads are one quantity estimated on all of them.
//!
//! What a sale contributes to the likelihood:
//! - a dated offset, its density;
//! - a sale not yet delivered, the probability of an offset at least that long;
//! - a sale whose dates are only years (a SIPRI register), the density of its offset plus
//!   the triangle that the difference of two dates, each anywhere in its year, makes
//!   (`± within` days): in closed form, `[G(x + w) − 2 G(x) + G(x − w)] / w²`, where
//!   `G(t) = (t − μ) Φ(z) + σ φ(z)` is the second antiderivative of the normal density;
//! - a sale with one of its two dates known only to the year (a timeline's delivery "in
//!   2021" after an LOA known to the day), the density of its offset plus an even spread of
//!   `± half` days: `[Φ((x + h − μ) / σ) − Φ((x − h − μ) / σ)] / 2h`.
//!
//! The fit maximises the profile likelihood: for each spread, each group's mean by golden
//! section (the log-likelihood is concave in it), and the spread by golden section on its
//! logarithm. Pure statistics: no I/O, no dates.

use std::collections::BTreeMap;

use expedite_forecast::scenario::RawDist;
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use crate::minimise::golden_section;

/// Φ⁻¹(0.9): a normal's 90th percentile is its mean plus this many spreads.
const Z_P90: f64 = 1.281_551_565_544_600_4;

/// What is known of one sale's offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Known {
    /// Dated to the day (or the month).
    Exact,
    /// Not delivered yet: at least this long.
    AtLeast,
    /// Dated by years: the true offset is within this many days either side, as a
    /// triangle.
    Within(f64),
    /// One of its two dates is known only to the year: the true offset is anywhere within
    /// this many days either side, evenly.
    Around(f64),
}

/// One sale's offset.
#[derive(Debug, Clone, PartialEq)]
pub struct Offset {
    /// The sale.
    pub id: String,
    /// The group whose mean it shares.
    pub group: String,
    /// Days (negative: delivered before the plain model's date).
    pub days: f64,
    /// How well the days are known.
    pub known: Known,
}

/// The fitted offsets: a mean per group, one spread.
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetFit {
    /// The mean offset of each group, in days.
    pub means: BTreeMap<String, f64>,
    /// The spread (standard deviation) shared by every group, in days.
    pub sd: f64,
    /// The log-likelihood at the fit.
    pub log_likelihood: f64,
}

impl OffsetFit {
    /// `group`'s offset as the scenario writes it (see [`written`]).
    pub fn to_raw(&self, group: &str) -> Option<RawDist> {
        Some(written(*self.means.get(group)?, self.sd))
    }
}

/// An offset of `mean` and `sd` as the scenario writes it: `{ dist = "normal", median, p90
/// }`, whole days, at least one day apart.
pub fn written(mean: f64, sd: f64) -> RawDist {
    let median = mean.round();
    let p90 = (median + Z_P90 * sd).round().max(median + 1.0);
    RawDist::Normal { median, p90 }
}

/// The `p` quantile of an offset of `mean` and `sd`, in days.
pub fn quantile(mean: f64, sd: f64, p: f64) -> f64 {
    Normal::new(mean, sd).map_or(mean, |normal| normal.inverse_cdf(p))
}

/// How many of `offsets` are dated (not merely "at least").
pub fn dated(offsets: &[&Offset]) -> usize {
    offsets
        .iter()
        .filter(|offset| offset.known != Known::AtLeast)
        .count()
}

/// The log-likelihood of one offset under `Normal(mean, sd)`.
fn log_likelihood(offset: &Offset, mean: f64, sd: f64) -> f64 {
    let Ok(normal) = Normal::new(mean, sd) else {
        return f64::NEG_INFINITY;
    };
    let x = offset.days;
    let likelihood = match offset.known {
        Known::Exact => return normal.ln_pdf(x),
        Known::AtLeast => normal.sf(x),
        Known::Within(width) if width > 0.0 => {
            let second_antiderivative =
                |t: f64| (t - mean) * normal.cdf(t) + sd * sd * normal.pdf(t);
            (second_antiderivative(x + width) - 2.0 * second_antiderivative(x)
                + second_antiderivative(x - width))
                / (width * width)
        }
        Known::Around(half) if half > 0.0 => {
            (normal.cdf(x + half) - normal.cdf(x - half)) / (2.0 * half)
        }
        Known::Within(_) | Known::Around(_) => return normal.ln_pdf(x),
    };
    likelihood.max(1e-300).ln()
}

/// The most likely mean of `offsets` (whatever their groups) for spread `sd`, and the
/// log-likelihood it gives; `None` without offsets.
pub fn best_mean(offsets: &[&Offset], sd: f64) -> Option<(f64, f64)> {
    let of_mean = |mean: f64| -> f64 {
        offsets
            .iter()
            .map(|offset| log_likelihood(offset, mean, sd))
            .sum()
    };
    let low = offsets.iter().map(|offset| offset.days).reduce(f64::min)?;
    let high = offsets.iter().map(|offset| offset.days).reduce(f64::max)?;
    let mean = golden_section(|mean| -of_mean(mean), low - 3650.0, high + 3650.0, 1e-7)?;
    Some((mean, of_mean(mean)))
}

/// Each group's most likely mean for spread `sd`, and the log-likelihood they give.
fn best_means(groups: &BTreeMap<&str, Vec<&Offset>>, sd: f64) -> (BTreeMap<String, f64>, f64) {
    let mut means = BTreeMap::new();
    let mut total = 0.0;
    for (group, offsets) in groups {
        if let Some((mean, log_likelihood)) = best_mean(offsets, sd) {
            total += log_likelihood;
            means.insert((*group).to_owned(), mean);
        }
    }
    (means, total)
}

/// Fits a mean per group and a shared spread (see the module documentation). `None` when a
/// group has fewer than two offsets that are not merely "at least", or when they are all
/// equal: then nothing says how far they spread.
pub fn fit_offsets(offsets: &[Offset]) -> Option<OffsetFit> {
    let mut groups: BTreeMap<&str, Vec<&Offset>> = BTreeMap::new();
    for offset in offsets {
        groups
            .entry(offset.group.as_str())
            .or_default()
            .push(offset);
    }
    if groups.is_empty() || groups.values().any(|group| dated(group) < 2) {
        return None;
    }
    let distinct = offsets
        .iter()
        .any(|offset| (offset.days - offsets[0].days).abs() > 1e-9);
    if !distinct {
        return None;
    }
    let ln_sd = golden_section(
        |ln_sd| -best_means(&groups, ln_sd.exp()).1,
        1f64.ln(),
        5000f64.ln(),
        1e-7,
    )?;
    let sd = ln_sd.exp();
    let (means, log_likelihood) = best_means(&groups, sd);
    Some(OffsetFit {
        means,
        sd,
        log_likelihood,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal as NormalSampler, Uniform};

    /// How the drawn offsets' dates are known.
    #[derive(Clone, Copy)]
    enum Dated {
        /// To the day.
        Days,
        /// Both dates only to their year, as a SIPRI register gives them.
        BothYears,
        /// One of the two only to its year.
        OneYear,
    }

    /// Offsets of two groups drawn from `Normal(mean, sd)`; those past `window` are "at
    /// least `window`"; the others blurred as `dated` says (each year-dated date anywhere
    /// in its year).
    fn drawn(means: [(&str, f64); 2], sd: f64, window: f64, dated: Dated) -> Vec<Offset> {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let within_year = Uniform::new(-182.5, 182.5).expect("valid");
        let mut offsets = Vec::new();
        for (group, mean) in means {
            let sampler = NormalSampler::new(mean, sd).expect("valid");
            for index in 0..300 {
                let days: f64 = sampler.sample(&mut rng);
                let (days, known) = match dated {
                    _ if days > window => (window, Known::AtLeast),
                    Dated::Days => (days, Known::Exact),
                    Dated::BothYears => {
                        let blur = within_year.sample(&mut rng) - within_year.sample(&mut rng);
                        (days + blur, Known::Within(365.0))
                    }
                    Dated::OneYear => (days + within_year.sample(&mut rng), Known::Around(182.5)),
                };
                offsets.push(Offset {
                    id: format!("{group}{index}"),
                    group: group.to_owned(),
                    days,
                    known,
                });
            }
        }
        offsets
    }

    #[test]
    fn the_fit_recovers_each_groups_mean_and_the_shared_spread_despite_censoring() {
        let offsets = drawn(
            [("javelin", -60.0), ("f35", 700.0)],
            300.0,
            1000.0,
            Dated::Days,
        );
        let fit = fit_offsets(&offsets).expect("enough dated offsets");
        assert!((fit.means["javelin"] + 60.0).abs() < 45.0, "{fit:?}");
        assert!((fit.means["f35"] - 700.0).abs() < 45.0, "{fit:?}");
        assert!((fit.sd - 300.0).abs() < 30.0, "{fit:?}");
    }

    #[test]
    fn year_dates_do_not_widen_the_fitted_spread() {
        let offsets = drawn(
            [("amraam", 400.0), ("gmlrs", 100.0)],
            250.0,
            5000.0,
            Dated::BothYears,
        );
        let fit = fit_offsets(&offsets).expect("enough dated offsets");
        assert!((fit.means["amraam"] - 400.0).abs() < 45.0, "{fit:?}");
        // Read as exact, the year dates would add a spread of √(2 × 365² / 12) ≈ 149 days:
        // √(250² + 149²) ≈ 291.
        assert!((fit.sd - 250.0).abs() < 30.0, "{fit:?}");
    }

    #[test]
    fn a_delivery_known_only_to_its_year_does_not_widen_the_fitted_spread() {
        let offsets = drawn(
            [("javelin", 0.0), ("f35", 700.0)],
            150.0,
            5000.0,
            Dated::OneYear,
        );
        let fit = fit_offsets(&offsets).expect("enough dated offsets");
        assert!((fit.means["f35"] - 700.0).abs() < 30.0, "{fit:?}");
        assert!((fit.sd - 150.0).abs() < 15.0, "{fit:?}");
        // Read as exact, the year adds a spread of 365 / √12 ≈ 105 days: √(150² + 105²) ≈ 183.
        let as_exact: Vec<Offset> = offsets
            .into_iter()
            .map(|offset| Offset {
                known: Known::Exact,
                ..offset
            })
            .collect();
        let blurred = fit_offsets(&as_exact).expect("enough dated offsets");
        assert!(blurred.sd > 170.0, "{blurred:?}");
    }

    #[test]
    fn a_group_with_fewer_than_two_dated_offsets_is_not_fitted() {
        let mut offsets = drawn([("a", 0.0), ("b", 10.0)], 100.0, 1e9, Dated::Days);
        offsets.retain(|offset| offset.group == "a" || offset.id == "b0");
        assert_eq!(fit_offsets(&offsets), None);
    }

    #[test]
    fn an_offset_is_written_as_a_normal_with_its_mean_and_p90() {
        let fit = OffsetFit {
            means: BTreeMap::from([("javelin".to_owned(), -40.4)]),
            sd: 100.0,
            log_likelihood: 0.0,
        };
        let Some(RawDist::Normal { median, p90 }) = fit.to_raw("javelin") else {
            panic!("not a normal: {:?}", fit.to_raw("javelin"));
        };
        assert_eq!((median, p90), (-40.0, 88.0));
        assert!(fit.to_raw("f35").is_none());
    }
}
