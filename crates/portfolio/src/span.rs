//! Fitting the **delivery span**: the days from a sale's first delivery to its last. The
//! production model hands a case its units as fast as the line completes them; real buyers
//! receive an order lot by lot, over years (the back-test's final-delivery scores showed it:
//! docs/backtest.md, "Final delivery"). The forecast takes the span as a floor: a case's
//! final delivery is no earlier than its first plus a span drawn from the fit.
//!
//! A log-normal of days, by maximum likelihood, from three kinds of sale:
//! - dated to the day or the month, both deliveries made: the span's density;
//! - not completely delivered by the observation date: the probability of a span at least
//!   that long (right-censored);
//! - dated by years (a SIPRI register): the probability that two deliveries that far
//!   apart fall in years that far apart. With the first anywhere in its year, a span of `s`
//!   days lands `k` years apart with probability `max(0, 1 − |s − 365 k| / 365)`, a
//!   triangle; integrated against the log-normal it has a closed form (the log-normal's
//!   partial expectations), so that the fit needs no numerical integration.
//!
//! A line with [`MIN_OBSERVED`] sales whose span is known (exactly or to the year) gets a
//! fit of its own; a channel gets one from all its sales, for the lines without. Pure statistics on the timelines: no I/O, no clock.

use std::collections::BTreeMap;

use expedite_core::{Channel, Date};
use expedite_data::timelines::{Precision, Timeline};
use expedite_forecast::scenario::{RawDist, SpanScale};
use statrs::distribution::{Continuous, ContinuousCDF, LogNormal};

use crate::calibrate::{Fit, MIN_OBSERVED, YEAR_DAYS};
use crate::fit::LogNormalFit;
use crate::minimise::{golden_section, nelder_mead};

/// What is known of one sale's span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seen {
    /// Both deliveries dated to the day or the month: `days` exactly.
    Exact,
    /// Not completely delivered by the observation date: at least `days`.
    AtLeast,
    /// Year-dated: the delivery years are `days` apart (a whole number of years, in days).
    YearsApart,
}

/// One sale's span.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// The sale.
    pub id: String,
    /// Its channel.
    pub channel: Channel,
    /// Its catalog line.
    pub line: String,
    /// The span, its lower bound, or (year-dated) the lower end of its interval.
    pub days: f64,
    /// What `days` means.
    pub seen: Seen,
    /// The units ordered (0 where unknown).
    pub units: u32,
}

impl Span {
    /// Whether the span is known (exactly or to the year), not merely bounded below.
    fn is_known(&self) -> bool {
        self.seen != Seen::AtLeast
    }
}

/// The spans of the sales on catalog lines first delivered by `observed`.
pub fn spans(timelines: &[Timeline], observed: Date) -> Vec<Span> {
    timelines
        .iter()
        .filter_map(|timeline| span_of(timeline, observed))
        .collect()
}

fn span_of(timeline: &Timeline, observed: Date) -> Option<Span> {
    let line = timeline.line.clone()?;
    let first = timeline
        .milestones
        .first_delivery
        .filter(|first| first.date <= observed)?;
    let last = timeline
        .milestones
        .final_delivery
        .filter(|last| last.date <= observed);
    let by_years = first.precision == Precision::Year;
    let days_from_first = |to: Date| f64::from((to - first.date).get_days());
    let (days, seen) = match last {
        Some(last) if by_years || last.precision == Precision::Year => {
            let years_apart = (days_from_first(last.date) / YEAR_DAYS).round();
            (years_apart.max(0.0) * YEAR_DAYS, Seen::YearsApart)
        }
        Some(last) => (days_from_first(last.date).max(1.0), Seen::Exact),
        // A year-dated first delivery may have been as late as the end of its year.
        None if by_years => (
            (days_from_first(observed) - YEAR_DAYS / 2.0).max(0.0),
            Seen::AtLeast,
        ),
        None => (days_from_first(observed).max(0.0), Seen::AtLeast),
    };
    Some(Span {
        id: timeline.id.clone(),
        channel: timeline.channel,
        line,
        days,
        seen,
        units: timeline.quantity,
    })
}

/// How an order's size moves its span: each line's reference order (the geometric mean of
/// the orders with a span on it) and one exponent for every line.
#[derive(Debug, Clone, Copy)]
pub struct Sizing<'a> {
    /// Line id → its reference order, in whole units.
    pub reference: &'a BTreeMap<String, f64>,
    /// The span's elasticity in the order's size.
    pub exponent: f64,
}

impl Sizing<'_> {
    /// The shift of a span's log for its order's size: 0 without a size or a reference.
    fn log_shift(&self, span: &Span) -> f64 {
        match self.reference.get(&span.line) {
            Some(reference) if span.units > 0 => {
                self.exponent * (f64::from(span.units) / reference).ln()
            }
            _ => 0.0,
        }
    }
}

/// Each line's reference order: the geometric mean of its sales' orders, to a whole unit.
pub fn reference_orders(spans: &[Span]) -> BTreeMap<String, f64> {
    let mut logs: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for span in spans.iter().filter(|span| span.units > 0) {
        logs.entry(&span.line)
            .or_default()
            .push(f64::from(span.units).ln());
    }
    logs.into_iter()
        .map(|(line, logs)| {
            let mean = logs.iter().sum::<f64>() / logs.len() as f64;
            (line.to_owned(), mean.exp().round().max(1.0))
        })
        .collect()
}

/// `ln L` of `spans` under a log-normal (for a reference order), each span's log shifted
/// for its order's size.
fn log_likelihood(fit: &LogNormalFit, spans: &[&Span], sizing: &Sizing) -> f64 {
    spans
        .iter()
        .map(|span| {
            let shifted = LogNormalFit {
                mu: fit.mu + sizing.log_shift(span),
                sigma: fit.sigma,
            };
            let Ok(dist) = LogNormal::new(shifted.mu, shifted.sigma) else {
                return f64::NEG_INFINITY;
            };
            let likelihood = match span.seen {
                Seen::Exact => dist.pdf(span.days),
                Seen::AtLeast => 1.0 - dist.cdf(span.days),
                Seen::YearsApart => years_apart(&shifted, &dist, span.days),
            };
            likelihood.max(1e-300).ln()
        })
        .sum()
}

/// The probability that a log-normal span puts two deliveries, the first anywhere in its
/// year, `apart` days of years apart: the span's density against the triangle of half-width
/// one year around `apart`, `∫ f(s) max(0, 1 − |s − apart| / w) ds`, written with the
/// distribution function `F` and the partial expectation `E(x) = ∫₀ˣ s f(s) ds`, which for
/// a log-normal is its mean times the distribution function of the log-normal with `mu`
/// raised by `sigma²`.
fn years_apart(fit: &LogNormalFit, dist: &LogNormal, apart: f64) -> f64 {
    let w = YEAR_DAYS;
    let sigma_squared = fit.sigma * fit.sigma;
    let Ok(tilted) = LogNormal::new(fit.mu + sigma_squared, fit.sigma) else {
        return 0.0;
    };
    let mean = (fit.mu + sigma_squared / 2.0).exp();
    let cdf = |x: f64| if x > 0.0 { dist.cdf(x) } else { 0.0 };
    let partial = |x: f64| if x > 0.0 { mean * tilted.cdf(x) } else { 0.0 };
    let (low, high) = (apart - w, apart + w);
    let rising = partial(apart) - partial(low) - low * (cdf(apart) - cdf(low));
    let falling = high * (cdf(high) - cdf(apart)) - (partial(high) - partial(apart));
    (rising + falling) / w
}

/// The most likely log-normal of `spans` (for a reference order under `sizing`); `None`
/// with fewer than two known spans.
pub fn fit_spans(spans: &[&Span], sizing: &Sizing) -> Option<LogNormalFit> {
    // Start from the logs of the known spans (an interval's middle).
    let logs: Vec<f64> = spans
        .iter()
        .filter_map(|span| match span.seen {
            Seen::Exact => Some(span.days.ln() - sizing.log_shift(span)),
            Seen::YearsApart => Some(span.days.max(YEAR_DAYS / 2.0).ln() - sizing.log_shift(span)),
            Seen::AtLeast => None,
        })
        .collect();
    if logs.len() < 2 {
        return None;
    }
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    let sd = (logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / logs.len() as f64)
        .sqrt()
        .max(0.1);
    let negative_log_likelihood = |point: [f64; 2]| {
        -log_likelihood(
            &LogNormalFit {
                mu: point[0],
                sigma: point[1].exp(),
            },
            spans,
            sizing,
        )
    };
    let [mu, ln_sigma] = nelder_mead(negative_log_likelihood, [mean, sd.ln()])?;
    Some(LogNormalFit {
        mu,
        sigma: ln_sigma.exp(),
    })
}

/// The fitted spans: a report per line with enough known spans and per channel, and the
/// lines' own distributions and order scales.
pub struct SpanFits {
    /// Each report, with its channel for a channel's.
    pub reports: Vec<(Option<Channel>, Fit)>,
    /// Line id → its own span.
    pub lines: BTreeMap<String, RawDist>,
    /// Line id → how the span of its cases (its own or its channel's) grows with the order.
    pub scales: BTreeMap<String, SpanScale>,
}

/// The spans grouped by line, and the lines with enough known spans for a fit of their own.
fn own_fit_lines(spans: &[Span]) -> BTreeMap<&str, Vec<&Span>> {
    let mut by_line: BTreeMap<&str, Vec<&Span>> = BTreeMap::new();
    for span in spans {
        by_line.entry(&span.line).or_default().push(span);
    }
    by_line.retain(|_, line_spans| {
        line_spans.iter().filter(|span| span.is_known()).count() >= MIN_OBSERVED
    });
    by_line
}

/// The lines' joint fit: each line's own log-median, one spread and one order exponent for
/// them all.
#[derive(Debug, Clone)]
struct LinesFit {
    exponent: f64,
    sigma: f64,
    mu: BTreeMap<String, f64>,
}

/// The most likely log-median of one line's spans for a given spread and sizing.
fn line_mu(spans: &[&Span], sigma: f64, sizing: &Sizing) -> Option<f64> {
    let negative = |mu: f64| -log_likelihood(&LogNormalFit { mu, sigma }, spans, sizing);
    // Log-days from 1 day to 60 years.
    golden_section(negative, 0.0, 10.0, 1e-6)
}

/// `ln L` of every line's spans at its most likely median, for a spread and a sizing.
fn lines_log_likelihood(groups: &BTreeMap<&str, Vec<&Span>>, sigma: f64, sizing: &Sizing) -> f64 {
    groups
        .values()
        .map(|spans| match line_mu(spans, sigma, sizing) {
            Some(mu) => log_likelihood(&LogNormalFit { mu, sigma }, spans, sizing),
            None => f64::NEG_INFINITY,
        })
        .sum()
}

/// The lines with a fit of their own, fitted together by maximum likelihood: a median each,
/// one spread and one exponent (how much longer a larger order takes than a smaller one on
/// the same line, kept in 0–2). One spread, as for the first-delivery delay: a handful of
/// year-dated spans per line cannot hold one of their own (seven Apache deals 0, 1 or 2
/// years apart fit a spread of almost nothing).
fn fit_lines(
    groups: &BTreeMap<&str, Vec<&Span>>,
    reference: &BTreeMap<String, f64>,
) -> Option<LinesFit> {
    let sizing = |exponent: f64| Sizing {
        reference,
        exponent,
    };
    let negative = |point: [f64; 2]| {
        if !(0.0..=2.0).contains(&point[0]) {
            return f64::INFINITY;
        }
        -lines_log_likelihood(groups, point[1].exp(), &sizing(point[0]))
    };
    if groups.is_empty() {
        return None;
    }
    let [exponent, ln_sigma] = nelder_mead(negative, [0.5, 0.7_f64.ln()])?;
    // Two decimals: the file states it, and no more is known.
    let exponent = (exponent * 100.0).round() / 100.0;
    let sigma = ln_sigma.exp();
    let mu = groups
        .iter()
        .filter_map(|(line, spans)| {
            Some((
                (*line).to_owned(),
                line_mu(spans, sigma, &sizing(exponent))?,
            ))
        })
        .collect();
    Some(LinesFit {
        exponent,
        sigma,
        mu,
    })
}

/// See the module documentation.
pub fn fit_by_line_and_channel(spans: &[Span]) -> SpanFits {
    let groups = own_fit_lines(spans);
    let reference = reference_orders(spans);
    let lines_fit = fit_lines(&groups, &reference);
    let sizing = Sizing {
        reference: &reference,
        exponent: lines_fit.as_ref().map_or(0.0, |fit| fit.exponent),
    };
    let mut fits = SpanFits {
        reports: Vec::new(),
        lines: BTreeMap::new(),
        scales: sizing
            .reference
            .iter()
            .map(|(line, &units)| {
                let scale = SpanScale {
                    units,
                    exponent: sizing.exponent,
                };
                (line.clone(), scale)
            })
            .collect(),
    };
    for (line, line_spans) in &groups {
        let fit = lines_fit.as_ref().and_then(|joint| {
            let mu = *joint.mu.get(*line)?;
            Some(LogNormalFit {
                mu,
                sigma: joint.sigma,
            })
        });
        let report = report(
            format!("lines.{line}.delivery_span"),
            format!("sales on line {line}"),
            line_spans,
            &sizing,
            fit.map(|fit| {
                (
                    fit,
                    "its own median, the spread shared by the lines with a fit of their own",
                )
            }),
        );
        if let Some(dist) = &report.dist {
            fits.lines.insert((*line).to_owned(), dist.clone());
        }
        fits.reports.push((None, report));
    }
    let mut channels: Vec<Channel> = spans.iter().map(|span| span.channel).collect();
    channels.sort_unstable_by_key(|channel| channel.as_str());
    channels.dedup();
    for channel in channels {
        // Every sale of the channel, whatever its line: the lines without five known spans
        // are few and unlike each other (a few HIMARS launchers arrive on one day, forty
        // F-35s over a decade), too few to fit apart.
        let all: Vec<&Span> = spans
            .iter()
            .filter(|span| span.channel == channel)
            .collect();
        let scope = format!("{} sales on every catalog line", channel.as_str());
        let parameter = format!("channels.{}.delivery_span", channel.as_str());
        let fit = (known(&all) >= MIN_OBSERVED)
            .then(|| fit_spans(&all, &sizing))
            .flatten()
            .map(|fit| (fit, "its own median and spread"));
        fits.reports
            .push((Some(channel), report(parameter, scope, &all, &sizing, fit)));
    }
    if let Some(lines_fit) = &lines_fit {
        fits.reports
            .push((None, scale_report(&groups, lines_fit, sizing)));
    }
    fits
}

fn known(spans: &[&Span]) -> usize {
    spans.iter().filter(|span| span.is_known()).count()
}

/// The report of the order scale: the exponent, how much it adds to the lines' likelihood,
/// and each line's reference order.
fn scale_report(
    groups: &BTreeMap<&str, Vec<&Span>>,
    lines_fit: &LinesFit,
    sizing: Sizing<'_>,
) -> Fit {
    let ignoring_size = Sizing {
        exponent: 0.0,
        ..sizing
    };
    let best_spread_ignoring_size = golden_section(
        |ln_sigma| -lines_log_likelihood(groups, ln_sigma.exp(), &ignoring_size),
        -3.0,
        2.0,
        1e-6,
    )
    .map_or(f64::NAN, f64::exp);
    let grouped: Vec<&Span> = groups.values().flatten().copied().collect();
    let observed = known(&grouped);
    Fit {
        parameter: "lines.*.delivery_span_scale".to_owned(),
        interval: "the delivery span's growth with the order's size (a line's span, or its \
                   channel's, is stated for the line's reference order)"
            .to_owned(),
        n: grouped.len(),
        observed,
        censored: grouped.len() - observed,
        dist: None,
        p10_days: None,
        p50_days: None,
        p90_days: None,
        method: format!(
            "span × (units ÷ reference)^{:.2}: the exponent and the spread (sigma = {:.3}) \
             maximise the likelihood of the {} sales of the {} lines with a fit of their own, \
             each line its own median (log-likelihood {:.1}, against {:.1} with the order's \
             size ignored, sigma = {:.3}); a line's reference is the geometric mean of its \
             sales' orders",
            sizing.exponent,
            lines_fit.sigma,
            grouped.len(),
            groups.len(),
            lines_log_likelihood(groups, lines_fit.sigma, &sizing),
            lines_log_likelihood(groups, best_spread_ignoring_size, &ignoring_size),
            best_spread_ignoring_size,
        ),
        cases: sizing
            .reference
            .iter()
            .map(|(line, units)| format!("{line}: reference order {units:.0} units"))
            .collect(),
        year_dated: Some(
            grouped
                .iter()
                .filter(|span| span.seen == Seen::YearsApart)
                .count(),
        )
        .filter(|&deals| deals > 0),
    }
}

fn report(
    parameter: String,
    scope: String,
    spans: &[&Span],
    sizing: &Sizing,
    fit: Option<(LogNormalFit, &str)>,
) -> Fit {
    let observed = known(spans);
    let year_dated = spans
        .iter()
        .filter(|span| span.seen == Seen::YearsApart)
        .count();
    let method = match &fit {
        Some((fit, how)) => format!(
            "log-normal for an order of its line's reference size (mu = {:.3}, sigma = {:.3}: \
             {how}; each sale's log shifted by the order scale), maximum likelihood: dated \
             spans by their density, sales not completely delivered right-censored, year-dated \
             ones by the probability of their years apart (± 365 d as a triangle); \
             log-likelihood {:.1}",
            fit.mu,
            fit.sigma,
            log_likelihood(fit, spans, sizing)
        ),
        None => format!("not fitted: {observed} known span(s), a fit needs {MIN_OBSERVED}"),
    };
    let fit = fit.map(|(fit, _)| fit);
    Fit {
        parameter,
        interval: format!(
            "first delivery → final delivery (the least days; the production model's own \
             span is kept where longer), {scope}"
        ),
        n: spans.len(),
        observed,
        censored: spans.len() - observed,
        dist: fit.as_ref().map(LogNormalFit::to_raw),
        p10_days: fit.as_ref().map(|fit| fit.quantile(0.1).round()),
        p50_days: fit.as_ref().map(|fit| fit.quantile(0.5).round()),
        p90_days: fit.as_ref().map(|fit| fit.quantile(0.9).round()),
        method,
        cases: spans
            .iter()
            .map(|span| match span.seen {
                Seen::Exact => format!("{} ({:.0} d)", span.id, span.days),
                Seen::AtLeast => format!("{} (>{:.0} d)", span.id, span.days),
                Seen::YearsApart => format!("{} ({:.0} ± 365 d)", span.id, span.days),
            })
            .collect(),
        year_dated: Some(year_dated).filter(|&deals| deals > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, LogNormal as LogNormalSampler, Uniform};

    fn span(days: f64, seen: Seen) -> Span {
        Span {
            id: "S".to_owned(),
            channel: Channel::Fms,
            line: "amraam".to_owned(),
            days,
            seen,
            units: 0,
        }
    }

    /// Spans drawn from a log-normal of median `median` days and log-spread `sigma`; with
    /// `years`, each read as the difference of two dates known only to their year; those
    /// past `window` are "at least `window`".
    fn drawn(median: f64, sigma: f64, years: bool, window: f64, seed: u64) -> Vec<Span> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let sampler = LogNormalSampler::new(median.ln(), sigma).expect("valid");
        let in_year = Uniform::new(0.0, YEAR_DAYS).expect("valid");
        (0..400)
            .map(|_| {
                let days: f64 = sampler.sample(&mut rng);
                if days > window {
                    return span(window, Seen::AtLeast);
                }
                if !years {
                    return span(days, Seen::Exact);
                }
                let first: f64 = in_year.sample(&mut rng);
                let years_apart = ((first + days) / YEAR_DAYS).floor() * YEAR_DAYS;
                span(years_apart, Seen::YearsApart)
            })
            .collect()
    }

    fn recovered(spans: &[Span]) -> LogNormalFit {
        let refs: Vec<&Span> = spans.iter().collect();
        let unsized_orders = Sizing {
            reference: &BTreeMap::new(),
            exponent: 0.0,
        };
        fit_spans(&refs, &unsized_orders).expect("a fit")
    }

    #[test]
    fn a_span_lands_some_whole_number_of_years_apart_with_probability_one() {
        for (median, sigma) in [(30.0, 0.5), (400.0, 0.8), (1500.0, 1.5)] {
            let fit = LogNormalFit {
                mu: f64::ln(median),
                sigma,
            };
            let dist = LogNormal::new(fit.mu, fit.sigma).expect("valid");
            let total: f64 = (0..20_000)
                .map(|years| years_apart(&fit, &dist, f64::from(years) * YEAR_DAYS))
                .sum();
            assert!((total - 1.0).abs() < 1e-6, "{median}, {sigma}: {total}");
        }
    }

    #[test]
    fn the_fit_recovers_the_spans_drawn_under_censoring() {
        let fit = recovered(&drawn(400.0, 0.8, false, 1200.0, 1));
        assert!((fit.median() - 400.0).abs() < 40.0, "{fit:?}");
        assert!((fit.sigma - 0.8).abs() < 0.1, "{fit:?}");
    }

    #[test]
    fn the_fit_recovers_the_spans_when_only_the_years_are_known() {
        let fit = recovered(&drawn(400.0, 0.8, true, 3000.0, 2));
        assert!((fit.median() - 400.0).abs() < 60.0, "{fit:?}");
        assert!((fit.sigma - 0.8).abs() < 0.15, "{fit:?}");
    }

    #[test]
    fn the_fit_recovers_how_a_span_grows_with_the_order() {
        // Two lines, orders of 5 to 500 units, spans of median 200 days × (units ÷ 50)^0.6
        // on one and 600 × (units ÷ 50)^0.6 on the other, log-spread 0.5, dated to the day.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let noise = LogNormalSampler::new(0.0, 0.5).expect("valid");
        let spans: Vec<Span> = (0..300_u32)
            .map(|index| {
                let units = 5 * (1 + index % 100);
                let (line, median) = if index % 2 == 0 {
                    ("amraam", 200.0)
                } else {
                    ("gmlrs", 600.0)
                };
                let days = median * (f64::from(units) / 50.0).powf(0.6) * noise.sample(&mut rng);
                Span {
                    line: line.to_owned(),
                    units,
                    ..span(days, Seen::Exact)
                }
            })
            .collect();
        let fits = fit_by_line_and_channel(&spans);
        let scale = fits.scales["amraam"];
        assert!((scale.exponent - 0.6).abs() < 0.06, "{scale:?}");
        // Each line's span is stated for its reference order (the geometric mean of 5..500
        // in fives, about 184 units): 200 × (184 ÷ 50)^0.6 ≈ 436 days on the first line.
        let RawDist::Lognormal { median, .. } = fits.lines["amraam"] else {
            panic!("a log-normal: {:?}", fits.lines["amraam"]);
        };
        let expected = 200.0 * (scale.units / 50.0).powf(0.6);
        assert!(
            (median - expected).abs() < 0.1 * expected,
            "{median} vs {expected}"
        );
    }

    #[test]
    fn a_line_with_five_known_spans_gets_its_own_fit_and_the_channel_takes_the_rest() {
        let mut spans: Vec<Span> = [300.0, 420.0, 500.0, 700.0, 900.0]
            .into_iter()
            .map(|days| span(days, Seen::Exact))
            .collect();
        for days in [30.0, 60.0, 90.0] {
            spans.push(Span {
                line: "javelin".to_owned(),
                ..span(days, Seen::Exact)
            });
        }
        let fits = fit_by_line_and_channel(&spans);
        assert!(fits.lines.contains_key("amraam"));
        assert!(!fits.lines.contains_key("javelin"));
        let (channel, report) = &fits.reports[1];
        assert_eq!(*channel, Some(Channel::Fms));
        // Three Javelin spans are too few alone: they take the channel's, fitted on every sale.
        assert_eq!(report.n, 8);
        assert!(report.dist.is_some());
    }
}
