//! Stage-duration distributions and their conditioning on time already spent.
//!
//! Six shapes, as the scenario file names them: `fixed`, `uniform`, `triangular`, `pert`
//! (Beta-PERT with λ = 4), and `lognormal` and `weibull` (each given by its median and 90th
//! percentile). The two open-ended shapes differ in their tails: for the same median and
//! p90, the Weibull has the thinner right tail; `expedite calibrate` picks between them by
//! likelihood.
//!
//! A case that has already spent `e` days in its current stage needs the *remaining* time,
//! drawn from the distribution given that the stage lasts longer than `e` (DESIGN.md, "The
//! forecast model", 1). That draw inverts the distribution function, `x = F⁻¹(F(e) + u·(1 −
//! F(e)))` with `u` uniform, so it costs one uniform whatever `e` is; rejection sampling
//! would loop for ever on a case stuck far in the tail. When `e` is at or past the largest
//! value the distribution allows, the remaining time is zero and the case is *overdue*.
//!
//! The special functions come from `statrs` (regularised incomplete beta and its inverse,
//! the error function and its inverse); fresh, unconditioned draws use `rand_distr`. The
//! PERT's inverse is iterative (about 650 ns a call) and a conditioned draw needs one per
//! case per trial, so each PERT keeps its quantile function on a grid of probabilities,
//! built on first use and shared by its clones, and interpolates it (see [`PertQuantiles`]).

use std::fmt;
use std::sync::{Arc, OnceLock};

use rand::{Rng, RngExt};
use rand_distr::Distribution;
use statrs::function::{beta, erf, gamma};

/// z-score of the 90th percentile of the standard normal distribution, Φ⁻¹(0.9).
const Z_P90: f64 = 1.281_551_565_544_600_4;

/// The PERT shape parameter λ: the weight of the mode (Vose, "Risk Analysis", 2008).
const PERT_LAMBDA: f64 = 4.0;

/// A distribution of days, validated: every parameter is finite and non-negative, and the
/// bounds are in order.
#[derive(Debug, Clone, PartialEq)]
pub struct DurationDist {
    shape: Shape,
}

#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Fixed {
        days: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    Pert {
        min: f64,
        max: f64,
        alpha: f64,
        beta: f64,
        sampler: rand_distr::Beta<f64>,
        quantiles: PertQuantiles,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
        sampler: rand_distr::LogNormal<f64>,
    },
    Weibull {
        shape: f64,
        scale: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
}

/// Why distribution parameters were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DistError {
    /// A parameter is negative, infinite or not a number.
    #[error("{name} = {value} must be a finite number of days, zero or more")]
    NotANonNegativeNumber {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// An offset's parameter is infinite or not a number (an offset may be negative).
    #[error("{name} = {value} must be a finite number of days")]
    NotAFiniteNumber {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A signed offset (`normal`) where a duration, never negative, is wanted.
    #[error(
        "dist = \"normal\" is a signed offset, only for first_delivery_delay: a duration cannot be negative"
    )]
    SignedDuration,
    /// Bounds out of order (`min <= mode <= max`, `median < p90`).
    #[error("parameters are out of order: {rule} does not hold ({detail})")]
    OutOfOrder {
        /// The relation that must hold.
        rule: &'static str,
        /// The values given.
        detail: String,
    },
}

fn non_negative(name: &'static str, value: f64) -> Result<f64, DistError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(DistError::NotANonNegativeNumber { name, value })
    }
}

fn in_order(
    rule: &'static str,
    holds: bool,
    detail: impl FnOnce() -> String,
) -> Result<(), DistError> {
    if holds {
        Ok(())
    } else {
        Err(DistError::OutOfOrder {
            rule,
            detail: detail(),
        })
    }
}

impl DurationDist {
    /// Always `days`.
    ///
    /// # Errors
    /// [`DistError`] when `days` is negative or not finite.
    pub fn fixed(days: f64) -> Result<DurationDist, DistError> {
        Ok(DurationDist {
            shape: Shape::Fixed {
                days: non_negative("days", days)?,
            },
        })
    }

    /// Uniform between `min` and `max`.
    ///
    /// # Errors
    /// [`DistError`] on negative values or `max < min`.
    pub fn uniform(min: f64, max: f64) -> Result<DurationDist, DistError> {
        let (min, max) = (non_negative("min", min)?, non_negative("max", max)?);
        in_order("min <= max", min <= max, || {
            format!("min = {min}, max = {max}")
        })?;
        if min == max {
            return DurationDist::fixed(min);
        }
        Ok(DurationDist {
            shape: Shape::Uniform { min, max },
        })
    }

    /// Triangular with the given bounds and mode.
    ///
    /// # Errors
    /// [`DistError`] on negative values or unless `min <= mode <= max`.
    pub fn triangular(min: f64, mode: f64, max: f64) -> Result<DurationDist, DistError> {
        let (min, mode, max) = ordered_triple(min, mode, max)?;
        if min == max {
            return DurationDist::fixed(min);
        }
        Ok(DurationDist {
            shape: Shape::Triangular { min, mode, max },
        })
    }

    /// Beta-PERT with λ = 4: a Beta(α, β) on `[min, max]` with `α = 1 + 4(mode − min)/(max −
    /// min)` and `β = 1 + 4(max − mode)/(max − min)`.
    ///
    /// # Errors
    /// [`DistError`] on negative values or unless `min <= mode <= max`.
    pub fn pert(min: f64, mode: f64, max: f64) -> Result<DurationDist, DistError> {
        let (min, mode, max) = ordered_triple(min, mode, max)?;
        if min == max {
            return DurationDist::fixed(min);
        }
        let range = max - min;
        let alpha = 1.0 + PERT_LAMBDA * (mode - min) / range;
        let beta = 1.0 + PERT_LAMBDA * (max - mode) / range;
        let sampler = rand_distr::Beta::new(alpha, beta).map_err(|_| DistError::OutOfOrder {
            rule: "min < max",
            detail: format!("min = {min}, max = {max}"),
        })?;
        Ok(DurationDist {
            shape: Shape::Pert {
                min,
                max,
                alpha,
                beta,
                sampler,
                quantiles: PertQuantiles::default(),
            },
        })
    }

    /// Log-normal with the given median and 90th percentile (so `σ = ln(p90 / median) /
    /// Φ⁻¹(0.9)`).
    ///
    /// # Errors
    /// [`DistError`] unless `0 < median < p90`.
    pub fn lognormal(median: f64, p90: f64) -> Result<DurationDist, DistError> {
        let (median, p90) = (non_negative("median", median)?, non_negative("p90", p90)?);
        in_order("0 < median < p90", median > 0.0 && median < p90, || {
            format!("median = {median}, p90 = {p90}")
        })?;
        let mu = median.ln();
        let sigma = (p90 / median).ln() / Z_P90;
        let sampler = rand_distr::LogNormal::new(mu, sigma).map_err(|_| DistError::OutOfOrder {
            rule: "0 < median < p90",
            detail: format!("median = {median}, p90 = {p90}"),
        })?;
        Ok(DurationDist {
            shape: Shape::LogNormal { mu, sigma, sampler },
        })
    }

    /// Weibull with the given median and 90th percentile. With `F(x) = 1 − exp(−(x/λ)^k)`,
    /// the two quantiles give `k = (ln ln 10 − ln ln 2) / ln(p90 / median)` and `λ = median /
    /// (ln 2)^(1/k)`.
    ///
    /// # Errors
    /// [`DistError`] unless `0 < median < p90`.
    pub fn weibull(median: f64, p90: f64) -> Result<DurationDist, DistError> {
        let (median, p90) = (non_negative("median", median)?, non_negative("p90", p90)?);
        in_order("0 < median < p90", median > 0.0 && median < p90, || {
            format!("median = {median}, p90 = {p90}")
        })?;
        let shape = (10f64.ln().ln() - 2f64.ln().ln()) / (p90 / median).ln();
        let scale = median / 2f64.ln().powf(1.0 / shape);
        Ok(DurationDist {
            shape: Shape::Weibull { shape, scale },
        })
    }

    /// A normal with the given median (its mean) and 90th percentile: an **offset** that may
    /// be negative, which only the first-delivery delay takes (a line that delivers sooner
    /// than its build time and the paperwork say: issue 8, DESIGN.md "first-delivery
    /// delay"). Every other duration refuses it ([`DurationDist::is_signed`]).
    ///
    /// # Errors
    /// [`DistError`] unless both are finite and `median < p90`.
    pub fn signed_normal(median: f64, p90: f64) -> Result<DurationDist, DistError> {
        for (name, value) in [("median", median), ("p90", p90)] {
            if !value.is_finite() {
                return Err(DistError::NotAFiniteNumber { name, value });
            }
        }
        in_order("median < p90", median < p90, || {
            format!("median = {median}, p90 = {p90}")
        })?;
        Ok(DurationDist {
            shape: Shape::Normal {
                mean: median,
                sd: (p90 - median) / Z_P90,
            },
        })
    }

    /// Whether draws may be negative (only [`DurationDist::signed_normal`]).
    pub fn is_signed(&self) -> bool {
        matches!(self.shape, Shape::Normal { .. })
    }

    /// The largest value the distribution can take (infinite for the log-normal, the
    /// Weibull and the normal).
    pub fn max(&self) -> f64 {
        match &self.shape {
            Shape::Fixed { days } => *days,
            Shape::Uniform { max, .. }
            | Shape::Triangular { max, .. }
            | Shape::Pert { max, .. } => *max,
            Shape::LogNormal { .. } | Shape::Weibull { .. } | Shape::Normal { .. } => f64::INFINITY,
        }
    }

    /// The value that stands for the largest one: [`DurationDist::max`] where it is finite,
    /// else the 99.9th percentile (what checks of "too long" compare).
    pub fn reach(&self) -> f64 {
        let max = self.max();
        if max.is_finite() {
            max
        } else {
            self.quantile(0.999)
        }
    }

    /// The median, in closed form where there is one (PERT: numerically).
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// A fresh draw.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.shape {
            Shape::Fixed { days } => *days,
            Shape::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Shape::Triangular { .. } | Shape::Weibull { .. } | Shape::Normal { .. } => {
                self.quantile(rng.random::<f64>())
            }
            Shape::Pert {
                min, max, sampler, ..
            } => min + (max - min) * sampler.sample(rng),
            Shape::LogNormal { sampler, .. } => sampler.sample(rng),
        }
    }

    /// The remaining days of a stage that has already lasted `elapsed` days: a draw from the
    /// distribution given that it exceeds `elapsed`, minus `elapsed`. Zero when `elapsed` is
    /// at or past [`DurationDist::max`].
    pub fn sample_remaining<R: Rng + ?Sized>(&self, elapsed: f64, rng: &mut R) -> f64 {
        self.conditioned_on(elapsed).sample(self, rng)
    }

    /// The part of [`DurationDist::sample_remaining`] that does not depend on the draw, to be
    /// computed once per case rather than once per trial.
    pub fn conditioned_on(&self, elapsed: f64) -> Conditioned {
        if elapsed <= 0.0 {
            return Conditioned {
                elapsed: 0.0,
                cdf_at_elapsed: 0.0,
            };
        }
        Conditioned {
            elapsed,
            cdf_at_elapsed: self.cdf(elapsed),
        }
    }

    /// Whether a stage that has lasted `elapsed` days has overrun the largest value this
    /// distribution allows (DESIGN.md: reported as overdue).
    pub fn is_overrun_by(&self, elapsed: f64) -> bool {
        elapsed > self.max()
    }

    /// P(X <= x).
    pub fn cdf(&self, x: f64) -> f64 {
        match &self.shape {
            Shape::Fixed { days } => f64::from(u8::from(x >= *days)),
            Shape::Uniform { min, max } => ((x - min) / (max - min)).clamp(0.0, 1.0),
            Shape::Triangular { min, mode, max } => triangular_cdf(*min, *mode, *max, x),
            Shape::Pert {
                min,
                max,
                alpha,
                beta,
                ..
            } => {
                let unit = ((x - min) / (max - min)).clamp(0.0, 1.0);
                beta::checked_beta_reg(*alpha, *beta, unit).unwrap_or(unit)
            }
            Shape::LogNormal { mu, sigma, .. } => {
                if x <= 0.0 {
                    0.0
                } else {
                    standard_normal_cdf((x.ln() - mu) / sigma)
                }
            }
            Shape::Weibull { shape, scale } => {
                if x <= 0.0 {
                    0.0
                } else {
                    -(-(x / scale).powf(*shape)).exp_m1()
                }
            }
            Shape::Normal { mean, sd } => standard_normal_cdf((x - mean) / sd),
        }
    }

    /// The inverse of [`DurationDist::cdf`], for `p` in `[0, 1]`.
    pub fn quantile(&self, p: f64) -> f64 {
        let p = p.clamp(0.0, 1.0);
        match &self.shape {
            Shape::Fixed { days } => *days,
            Shape::Uniform { min, max } => min + (max - min) * p,
            Shape::Triangular { min, mode, max } => triangular_quantile(*min, *mode, *max, p),
            Shape::Pert {
                min,
                max,
                alpha,
                beta,
                quantiles,
                ..
            } => min + (max - min) * quantiles.unit_quantile(*alpha, *beta, p).clamp(0.0, 1.0),
            Shape::LogNormal { mu, sigma, .. } => {
                if p >= 1.0 {
                    f64::INFINITY
                } else {
                    (mu + sigma * standard_normal_quantile(p)).exp()
                }
            }
            Shape::Weibull { shape, scale } => {
                if p >= 1.0 {
                    f64::INFINITY
                } else {
                    scale * (-(-p).ln_1p()).powf(1.0 / shape)
                }
            }
            // A draw of exactly 0 would be −∞: the normal's tails are cut at 1e-12.
            Shape::Normal { mean, sd } => {
                mean + sd * standard_normal_quantile(p.clamp(1e-12, 1.0 - 1e-12))
            }
        }
    }
}

/// Intervals of the PERT quantile grid, and how many at each end are left to the exact
/// inverse (where the quantile of a Beta with a shape above 1 has unbounded derivatives).
const GRID_INTERVALS: usize = 1024;
const EXACT_TAIL_INTERVALS: usize = 16;

/// A Beta quantile function on the grid `p = i / 1024`: its values and slopes (`1 / pdf`),
/// interpolated by cubic Hermite polynomials; the first and last 16 intervals use
/// `statrs`'s inverse. Checked against it to within 2e-8 of the range (a thousandth of a
/// second on a 1,000-day stage) by `pert_quantiles_follow_the_exact_inverse`. Built on the
/// first call and shared by every clone of the distribution; a cache of a function of
/// `alpha` and `beta`, so it takes no part in equality.
#[derive(Clone, Default)]
struct PertQuantiles(Arc<OnceLock<Grid>>);

struct Grid {
    values: Box<[f64]>,
    slopes: Box<[f64]>,
}

impl PertQuantiles {
    fn unit_quantile(&self, alpha: f64, beta: f64, p: f64) -> f64 {
        let scaled = p * GRID_INTERVALS as f64;
        let interval = scaled.floor() as usize;
        if !(EXACT_TAIL_INTERVALS..GRID_INTERVALS - EXACT_TAIL_INTERVALS).contains(&interval) {
            return beta::inv_beta_reg(alpha, beta, p);
        }
        let grid = self.0.get_or_init(|| Grid::new(alpha, beta));
        let t = scaled - interval as f64;
        let step = 1.0 / GRID_INTERVALS as f64;
        let (y0, y1) = (grid.values[interval], grid.values[interval + 1]);
        let (m0, m1) = (
            grid.slopes[interval] * step,
            grid.slopes[interval + 1] * step,
        );
        let (t2, t3) = (t * t, t * t * t);
        (2.0 * t3 - 3.0 * t2 + 1.0) * y0
            + (t3 - 2.0 * t2 + t) * m0
            + (3.0 * t2 - 2.0 * t3) * y1
            + (t3 - t2) * m1
    }
}

impl Grid {
    fn new(alpha: f64, beta: f64) -> Grid {
        let ln_beta_fn =
            gamma::ln_gamma(alpha) + gamma::ln_gamma(beta) - gamma::ln_gamma(alpha + beta);
        let mut values = vec![0.0; GRID_INTERVALS + 1];
        let mut slopes = vec![0.0; GRID_INTERVALS + 1];
        for node in EXACT_TAIL_INTERVALS..=GRID_INTERVALS - EXACT_TAIL_INTERVALS {
            let x = beta::inv_beta_reg(alpha, beta, node as f64 / GRID_INTERVALS as f64);
            let ln_pdf = (alpha - 1.0) * x.ln() + (beta - 1.0) * (-x).ln_1p() - ln_beta_fn;
            values[node] = x;
            slopes[node] = (-ln_pdf).exp();
        }
        Grid {
            values: values.into(),
            slopes: slopes.into(),
        }
    }
}

impl PartialEq for PertQuantiles {
    fn eq(&self, _: &PertQuantiles) -> bool {
        true
    }
}

impl fmt::Debug for PertQuantiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PertQuantiles")
    }
}

/// A distribution conditioned on the time already spent: precomputed `F(elapsed)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conditioned {
    elapsed: f64,
    cdf_at_elapsed: f64,
}

impl Conditioned {
    /// Remaining days: `F⁻¹(F(e) + u·(1 − F(e))) − e`, never negative.
    pub fn sample<R: Rng + ?Sized>(&self, dist: &DurationDist, rng: &mut R) -> f64 {
        if self.elapsed <= 0.0 {
            return dist.sample(rng);
        }
        let u = rng.random::<f64>();
        if self.cdf_at_elapsed >= 1.0 {
            return 0.0;
        }
        let p = self.cdf_at_elapsed + u * (1.0 - self.cdf_at_elapsed);
        (dist.quantile(p) - self.elapsed).max(0.0)
    }

    /// The median of the remaining days (what a band-parts run uses for a source held
    /// still).
    pub fn median(&self, dist: &DurationDist) -> f64 {
        if self.elapsed <= 0.0 {
            return dist.median();
        }
        if self.cdf_at_elapsed >= 1.0 {
            return 0.0;
        }
        let p = self.cdf_at_elapsed + 0.5 * (1.0 - self.cdf_at_elapsed);
        (dist.quantile(p) - self.elapsed).max(0.0)
    }
}

fn ordered_triple(min: f64, mode: f64, max: f64) -> Result<(f64, f64, f64), DistError> {
    let (min, mode, max) = (
        non_negative("min", min)?,
        non_negative("mode", mode)?,
        non_negative("max", max)?,
    );
    in_order("min <= mode <= max", min <= mode && mode <= max, || {
        format!("min = {min}, mode = {mode}, max = {max}")
    })?;
    Ok((min, mode, max))
}

fn triangular_cdf(min: f64, mode: f64, max: f64, x: f64) -> f64 {
    if x <= min {
        0.0
    } else if x >= max {
        1.0
    } else if x <= mode {
        (x - min).powi(2) / ((max - min) * (mode - min))
    } else {
        1.0 - (max - x).powi(2) / ((max - min) * (max - mode))
    }
}

fn triangular_quantile(min: f64, mode: f64, max: f64, p: f64) -> f64 {
    let range = max - min;
    let mode_cdf = (mode - min) / range;
    if p < mode_cdf {
        min + (p * range * (mode - min)).sqrt()
    } else {
        max - ((1.0 - p) * range * (max - mode)).sqrt()
    }
}

/// Φ(z) = erfc(−z/√2) / 2.
fn standard_normal_cdf(z: f64) -> f64 {
    0.5 * erf::erfc(-z / std::f64::consts::SQRT_2)
}

/// Φ⁻¹(p) = −√2 · erfc⁻¹(2p).
fn standard_normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erf::erfc_inv(2.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pert_quantiles_follow_the_exact_inverse() {
        // PERT shapes from a mode at the minimum to one at the maximum (alpha + beta = 6).
        for (min, mode, max) in [
            (0.0, 0.0, 1.0),
            (0.0, 0.1, 1.0),
            (30.0, 120.0, 540.0),
            (0.0, 0.5, 1.0),
            (0.0, 0.8, 1.0),
            (0.0, 1.0, 1.0),
        ] {
            let dist = DurationDist::pert(min, mode, max).expect("valid");
            let Shape::Pert { alpha, beta, .. } = dist.shape else {
                panic!("a PERT");
            };
            let worst = (0..100_000)
                .map(|k| (f64::from(k) + 0.37) / 100_000.0)
                .map(|p| {
                    let exact = min + (max - min) * beta::inv_beta_reg(alpha, beta, p);
                    (dist.quantile(p) - exact).abs() / (max - min)
                })
                .fold(0.0, f64::max);
            assert!(
                worst < 2e-8,
                "mode {mode} of {min}..{max}: off by {worst:e} of the range"
            );
        }
    }

    #[test]
    fn quantile_inverts_cdf_for_every_shape() {
        let shapes = [
            DurationDist::uniform(10.0, 50.0),
            DurationDist::triangular(5.0, 20.0, 90.0),
            DurationDist::pert(45.0, 150.0, 420.0),
            DurationDist::lognormal(60.0, 180.0),
            DurationDist::weibull(60.0, 180.0),
        ];
        for dist in shapes {
            let dist = dist.expect("valid parameters");
            for p in [0.01, 0.1, 0.5, 0.9, 0.99] {
                let round_trip = dist.cdf(dist.quantile(p));
                assert!(
                    (round_trip - p).abs() < 1e-9,
                    "{dist:?} at {p}: {round_trip}"
                );
            }
        }
    }

    #[test]
    fn an_offset_may_be_negative_but_must_be_finite() {
        let earlier = DurationDist::signed_normal(-47.0, 492.0).expect("a negative median");
        assert!((earlier.quantile(0.5) + 47.0).abs() < 1e-9);
        let refused = DurationDist::signed_normal(f64::INFINITY, 492.0).expect_err("infinite");
        assert_eq!(
            refused,
            DistError::NotAFiniteNumber {
                name: "median",
                value: f64::INFINITY
            }
        );
        assert_eq!(
            refused.to_string(),
            "median = inf must be a finite number of days"
        );
    }

    #[test]
    fn lognormal_is_given_by_median_and_p90() {
        let dist = DurationDist::lognormal(60.0, 180.0).expect("valid");
        assert!((dist.quantile(0.5) - 60.0).abs() < 1e-9);
        assert!((dist.quantile(0.9) - 180.0).abs() < 1e-6);
    }

    #[test]
    fn weibull_is_given_by_median_and_p90() {
        let dist = DurationDist::weibull(650.0, 1080.0).expect("valid");
        assert!((dist.quantile(0.5) - 650.0).abs() < 1e-9);
        assert!((dist.quantile(0.9) - 1080.0).abs() < 1e-6);
    }

    #[test]
    fn weibull_has_a_thinner_right_tail_than_the_lognormal_of_the_same_median_and_p90() {
        let weibull = DurationDist::weibull(650.0, 1080.0).expect("valid");
        let lognormal = DurationDist::lognormal(650.0, 1080.0).expect("valid");
        assert!(weibull.quantile(0.99) < lognormal.quantile(0.99));
        assert!(weibull.quantile(0.1) < lognormal.quantile(0.1));
    }

    #[test]
    fn inverted_or_negative_parameters_are_refused() {
        assert!(DurationDist::weibull(60.0, 60.0).is_err());
        assert!(DurationDist::triangular(10.0, 5.0, 20.0).is_err());
        assert!(DurationDist::pert(10.0, 30.0, 20.0).is_err());
        assert!(DurationDist::uniform(-1.0, 5.0).is_err());
        assert!(DurationDist::lognormal(60.0, 30.0).is_err());
        assert!(DurationDist::fixed(f64::NAN).is_err());
    }
}
