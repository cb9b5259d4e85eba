//! Fitting a distribution of days to right-censored intervals, by maximum likelihood: the
//! statistics behind `expedite calibrate` (see [`crate::calibrate`] for what the intervals
//! are).
//!
//! Two families are fitted, each with two parameters: the **log-normal** and the
//! **Weibull**. Both are open-ended and right-skewed; they differ in their tails (the
//! log-normal's right tail is the heavier, the Weibull's left tail reaches nearer zero).
//! [`fit_family`] fits both and keeps the one the caller's [`Family`] names: the log-normal
//! (the default), the Weibull, or the one under which the intervals are the more likely
//! (with the same number of parameters, the choice Akaike's criterion makes). Both
//! log-likelihoods are reported either way. They are on days, so they compare: an observed
//! interval contributes `ln f(x)`, a censored one `ln(1 − F(c))`.
//!
//! Pure statistics: no I/O, no dates.

use expedite_forecast::scenario::RawDist;
use serde::{Deserialize, Serialize};
use statrs::function::erf;

use crate::minimise::nelder_mead;

/// One interval of one sale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    /// The sale.
    pub id: String,
    /// Days (at least one; zero-length intervals count as one day).
    pub days: f64,
    /// Whether the end had not happened by the observation date (the interval is longer).
    pub censored: bool,
}

/// A log-normal fitted to intervals: `ln X ~ Normal(mu, sigma)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LogNormalFit {
    /// Mean of the log.
    pub mu: f64,
    /// Standard deviation of the log.
    pub sigma: f64,
}

impl LogNormalFit {
    /// The `p` quantile, in days.
    pub fn quantile(&self, p: f64) -> f64 {
        (self.mu + self.sigma * standard_normal_quantile(p)).exp()
    }

    /// The median, in days.
    pub fn median(&self) -> f64 {
        self.mu.exp()
    }

    /// As the scenario writes it: median and 90th percentile, whole days (at least one
    /// day apart, as the scenario requires `median < p90`).
    pub fn to_raw(&self) -> RawDist {
        let median = self.median().round().max(1.0);
        let p90 = self.quantile(0.9).round().max(median + 1.0);
        RawDist::Lognormal { median, p90 }
    }

    /// `Σ ln f(x)` over the observed intervals plus `Σ ln(1 − F(c))` over the censored ones
    /// (the density of days, not of their logs, so that it compares with the Weibull's).
    pub fn log_likelihood(&self, intervals: &[Interval]) -> f64 {
        let half_ln_two_pi = 0.5 * std::f64::consts::TAU.ln();
        intervals
            .iter()
            .map(|interval| {
                let ln_days = interval.days.max(1.0).ln();
                let z = (ln_days - self.mu) / self.sigma;
                if interval.censored {
                    (1.0 - standard_normal_cdf(z)).max(1e-300).ln()
                } else {
                    -ln_days - self.sigma.ln() - half_ln_two_pi - 0.5 * z * z
                }
            })
            .sum()
    }
}

/// Maximum-likelihood log-normal for right-censored intervals.
///
/// Observed intervals contribute `ln f(x)`, censored ones `ln(1 − F(c))`. Without censored
/// intervals this is the closed form (mean and standard deviation of the logs, divided by
/// n); with them, Nelder–Mead on `(mu, ln sigma)` from that start. `None` with fewer than
/// two observed intervals, or when they are all equal (no spread to fit).
pub fn fit_lognormal(intervals: &[Interval]) -> Option<LogNormalFit> {
    let (mean, sd) = observed_log_moments(intervals)?;
    if intervals.iter().all(|interval| !interval.censored) {
        return Some(LogNormalFit {
            mu: mean,
            sigma: sd,
        });
    }
    let negative_log_likelihood = |point: [f64; 2]| {
        -LogNormalFit {
            mu: point[0],
            sigma: point[1].exp(),
        }
        .log_likelihood(intervals)
    };
    let best = nelder_mead(negative_log_likelihood, [mean, sd.ln()])?;
    Some(LogNormalFit {
        mu: best[0],
        sigma: best[1].exp(),
    })
}

/// Φ(z).
fn standard_normal_cdf(z: f64) -> f64 {
    0.5 * erf::erfc(-z / std::f64::consts::SQRT_2)
}

/// Φ⁻¹(p).
fn standard_normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erf::erfc_inv(2.0 * p)
}

/// A Weibull fitted to intervals: `P(X > x) = exp(−(x / scale)^shape)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeibullFit {
    /// The shape `k` (above one: the hazard grows with time).
    pub shape: f64,
    /// The scale `λ`, days.
    pub scale: f64,
}

impl WeibullFit {
    /// The `p` quantile, in days.
    pub fn quantile(&self, p: f64) -> f64 {
        self.scale * (-(-p).ln_1p()).powf(1.0 / self.shape)
    }

    /// The median, in days.
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// As the scenario writes it: median and 90th percentile, whole days, at least one day
    /// apart.
    pub fn to_raw(&self) -> RawDist {
        let median = self.median().round().max(1.0);
        let p90 = self.quantile(0.9).round().max(median + 1.0);
        RawDist::Weibull { median, p90 }
    }

    /// `Σ ln f(x)` over the observed intervals plus `Σ ln(1 − F(c))` over the censored ones.
    pub fn log_likelihood(&self, intervals: &[Interval]) -> f64 {
        let (k, scale) = (self.shape, self.scale);
        intervals
            .iter()
            .map(|interval| {
                let ratio = interval.days.max(1.0) / scale;
                let survival = -ratio.powf(k);
                if interval.censored {
                    survival
                } else {
                    k.ln() - scale.ln() + (k - 1.0) * ratio.ln() + survival
                }
            })
            .sum()
    }
}

/// Maximum-likelihood Weibull for right-censored intervals: Nelder–Mead on `(ln shape, ln
/// scale)`, started from the shape whose spread of logs matches the observed one (the
/// log of a Weibull has standard deviation `π / (k √6)`). `None` as for [`fit_lognormal`].
pub fn fit_weibull(intervals: &[Interval]) -> Option<WeibullFit> {
    let (mean, sd) = observed_log_moments(intervals)?;
    let shape = std::f64::consts::PI / (sd * 6f64.sqrt());
    let start = [shape.ln(), mean + EULER_GAMMA / shape];
    let negative_log_likelihood = |point: [f64; 2]| {
        -WeibullFit {
            shape: point[0].exp(),
            scale: point[1].exp(),
        }
        .log_likelihood(intervals)
    };
    let best = nelder_mead(negative_log_likelihood, start)?;
    Some(WeibullFit {
        shape: best[0].exp(),
        scale: best[1].exp(),
    })
}

/// The Euler–Mascheroni constant: the mean of `ln X` for a Weibull is `ln λ − γ / k`.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The family [`fit_family`] kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "family", rename_all = "lowercase")]
pub enum Fitted {
    /// Log-normal.
    LogNormal(LogNormalFit),
    /// Weibull.
    Weibull(WeibullFit),
}

impl Fitted {
    /// The `p` quantile, in days.
    pub fn quantile(&self, p: f64) -> f64 {
        match self {
            Fitted::LogNormal(fit) => fit.quantile(p),
            Fitted::Weibull(fit) => fit.quantile(p),
        }
    }

    /// As the scenario writes it.
    pub fn to_raw(&self) -> RawDist {
        match self {
            Fitted::LogNormal(fit) => fit.to_raw(),
            Fitted::Weibull(fit) => fit.to_raw(),
        }
    }

    /// The family and its parameters, for the fit report.
    pub fn describe(&self) -> String {
        match self {
            Fitted::LogNormal(fit) => {
                format!("log-normal (mu = {:.3}, sigma = {:.3})", fit.mu, fit.sigma)
            }
            Fitted::Weibull(fit) => format!(
                "Weibull (shape = {:.3}, scale = {:.0} d)",
                fit.shape, fit.scale
            ),
        }
    }
}

/// The family calibration writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Always the log-normal: its heavier right tail is the cautious choice for delays
    /// (the default; see docs/backtest.md for how the two compare on history).
    #[default]
    LogNormal,
    /// Always the Weibull.
    Weibull,
    /// Whichever makes the intervals the more likely.
    Likelier,
}

/// Both fits, and the one the family rule keeps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Choice {
    /// The fit written.
    pub kept: Fitted,
    /// Log-likelihood of the log-normal fit.
    pub lognormal_log_likelihood: f64,
    /// Log-likelihood of the Weibull fit.
    pub weibull_log_likelihood: f64,
}

/// Fits both families and keeps the one `family` names (for [`Family::Likelier`], the more
/// likely, the log-normal on a tie). `None` as for [`fit_lognormal`].
pub fn fit_family(family: Family, intervals: &[Interval]) -> Option<Choice> {
    let lognormal = fit_lognormal(intervals)?;
    let weibull = fit_weibull(intervals)?;
    let lognormal_log_likelihood = lognormal.log_likelihood(intervals);
    let weibull_log_likelihood = weibull.log_likelihood(intervals);
    let weibull_kept = match family {
        Family::LogNormal => false,
        Family::Weibull => true,
        Family::Likelier => weibull_log_likelihood > lognormal_log_likelihood,
    };
    let kept = if weibull_kept {
        Fitted::Weibull(weibull)
    } else {
        Fitted::LogNormal(lognormal)
    };
    Some(Choice {
        kept,
        lognormal_log_likelihood,
        weibull_log_likelihood,
    })
}

/// Mean and standard deviation (divided by n) of the logs of the observed intervals; `None`
/// with fewer than two, or when they are all equal.
fn observed_log_moments(intervals: &[Interval]) -> Option<(f64, f64)> {
    let logs: Vec<f64> = intervals
        .iter()
        .filter(|interval| !interval.censored)
        .map(|interval| interval.days.max(1.0).ln())
        .collect();
    if logs.len() < 2 {
        return None;
    }
    let n = logs.len() as f64;
    let mean = logs.iter().sum::<f64>() / n;
    let sd = (logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    (sd > 1e-9).then_some((mean, sd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, LogNormal, Weibull};

    /// Intervals drawn from `dist`, those longer than the observation window censored at
    /// the window, as a file observed early would hold them.
    fn censored_sample(
        dist: impl Distribution<f64>,
        n: usize,
        window: f64,
        seed: u64,
    ) -> Vec<Interval> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|index| {
                let days: f64 = dist.sample(&mut rng);
                Interval {
                    id: format!("S{index}"),
                    days: days.min(window),
                    censored: days > window,
                }
            })
            .collect()
    }

    #[test]
    fn censored_fit_recovers_the_parameters_the_timelines_were_drawn_from() {
        // 400 sales, median 600 days, sigma 0.6; a window of 800 days censors about 30 %.
        let (mu, sigma) = (600f64.ln(), 0.6);
        let sample = censored_sample(LogNormal::new(mu, sigma).expect("valid"), 400, 800.0, 7);
        let censored = sample.iter().filter(|i| i.censored).count();
        assert!((80..=160).contains(&censored), "{censored} censored");
        let fit = fit_lognormal(&sample).expect("enough observed");
        assert!(
            (fit.median() - 600.0).abs() < 45.0,
            "median {}",
            fit.median()
        );
        assert!((fit.sigma - 0.6).abs() < 0.07, "sigma {}", fit.sigma);
    }

    #[test]
    fn ignoring_censoring_would_bias_the_median_low() {
        // The same sample read as if every censored sale had been delivered at the window:
        // the honest fit must sit above that naive one.
        let sample = censored_sample(
            LogNormal::new(600f64.ln(), 0.6).expect("valid"),
            400,
            800.0,
            11,
        );
        let naive: Vec<Interval> = sample
            .iter()
            .map(|i| Interval {
                censored: false,
                ..i.clone()
            })
            .collect();
        let honest = fit_lognormal(&sample).expect("fit");
        let biased = fit_lognormal(&naive).expect("fit");
        assert!(honest.median() > biased.median() + 20.0);
        assert!(honest.sigma > biased.sigma);
    }

    #[test]
    fn without_censoring_the_fit_is_the_mean_and_sd_of_the_logs() {
        let sample: Vec<Interval> = [100.0, 200.0, 400.0]
            .iter()
            .map(|&days| Interval {
                id: "x".to_owned(),
                days,
                censored: false,
            })
            .collect();
        let fit = fit_lognormal(&sample).expect("fit");
        assert!((fit.median() - 200.0).abs() < 1e-9);
        let expected_sd = ((2.0 / 3.0) * 2f64.ln().powi(2)).sqrt();
        assert!((fit.sigma - expected_sd).abs() < 1e-9);
    }

    #[test]
    fn censored_weibull_fit_recovers_the_shape_and_scale_it_was_drawn_from() {
        // Shape 2.4, scale 760 days: the fit the shipped delay residuals give. A window of
        // 900 days censors about a fifth (exp(−(900/760)^2.4) = 0.22).
        let sample = censored_sample(Weibull::new(760.0, 2.4).expect("valid"), 400, 900.0, 5);
        let censored = sample.iter().filter(|i| i.censored).count();
        assert!((60..=120).contains(&censored), "{censored} censored");
        let fit = fit_weibull(&sample).expect("enough observed");
        assert!((fit.shape - 2.4).abs() < 0.25, "shape {}", fit.shape);
        assert!((fit.scale - 760.0).abs() < 40.0, "scale {}", fit.scale);
    }

    #[test]
    fn the_likelier_family_is_the_one_the_intervals_were_drawn_from() {
        let weibull = censored_sample(Weibull::new(760.0, 2.4).expect("valid"), 400, 900.0, 5);
        let lognormal = censored_sample(
            LogNormal::new(600f64.ln(), 0.6).expect("valid"),
            400,
            900.0,
            5,
        );
        let kept = |sample: &[Interval]| fit_family(Family::Likelier, sample).expect("fit").kept;
        assert!(matches!(kept(&weibull), Fitted::Weibull(_)));
        assert!(matches!(kept(&lognormal), Fitted::LogNormal(_)));
    }

    #[test]
    fn the_default_family_is_the_lognormal_whatever_the_likelihoods_say() {
        let weibull = censored_sample(Weibull::new(760.0, 2.4).expect("valid"), 400, 900.0, 5);
        let choice = fit_family(Family::default(), &weibull).expect("fit");
        assert!(matches!(choice.kept, Fitted::LogNormal(_)));
        assert!(choice.weibull_log_likelihood > choice.lognormal_log_likelihood);
    }

    #[test]
    fn a_fit_is_written_with_its_own_median_and_p90() {
        let fit = WeibullFit {
            shape: 2.357,
            scale: 762.0,
        };
        let RawDist::Weibull { median, p90 } = fit.to_raw() else {
            panic!("a Weibull fit is written as a Weibull");
        };
        let built = fit.to_raw().build().expect("valid");
        assert!((built.quantile(0.5) - median).abs() < 1e-6);
        assert!((built.quantile(0.9) - p90).abs() < 1e-3);
        assert!((median - fit.median()).abs() <= 0.5);
    }
}
