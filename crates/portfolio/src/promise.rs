//! How far promised first deliveries slip: the days from the first delivery a sale was
//! promised (the middle of the period the promise names) to the real one, fitted per
//! channel as a normal with right-censoring, and checked by leaving each sale out.
//!
//! A sale delivered gives its slip; one not delivered by the observation day has slipped
//! at least to that day. A promise that names only a year blurs its slip by up to half a
//! year either way: the fit's spread holds that blur, and a forecast reads the promise the
//! same way (its middle), so the band it gives carries the blur too.
//!
//! The check: for every sale with a slip, the fit on the channel's other sales gives a
//! P10–P90; a delivered sale is inside or outside it, an undelivered one past the P90 is
//! late, and one not yet past it is pending. Pure statistics on the timelines: no I/O.

use expedite_core::{Channel, Date};
use expedite_data::stats;
use expedite_data::timelines::{Precision, Timeline};

use crate::backtest::DAYS_PER_MONTH;
use crate::calibrate::{Fit, YEAR_DAYS};
use crate::offset::{self, Known, Offset, OffsetFit, dated, fit_offsets};

/// The channel key of the fitted slip, in the parameters file and in a scenario.
pub const PROMISE_SLIP: &str = "promise_slip";

/// Fewer dated slips than this in a channel and it gets no fit.
const MIN_DATED: usize = 5;

/// The slip of each sale of `timelines` that states a promise, as an offset of its channel,
/// as it stood on `observed`: a promise made (or, undated, a sale signed) after that day is
/// not known yet, and a delivery after it has not happened yet (the slip is at least the
/// days to `observed`), as the other fits cut their facts at the observation day.
pub fn slips(timelines: &[Timeline], observed: Date) -> Vec<(Channel, Offset)> {
    timelines
        .iter()
        .filter_map(|timeline| {
            let promise = timeline.promise.as_ref()?;
            let made = promise.made.or(timeline.milestones.loa);
            if made.is_some_and(|made| made.date > observed) {
                return None;
            }
            let promised = promise.first_delivery;
            let delivered = timeline
                .milestones
                .first_delivery
                .filter(|first| first.date <= observed);
            let (until, known) = match delivered {
                Some(first) if first.precision == Precision::Year => {
                    (first.date, Known::Around(YEAR_DAYS / 2.0))
                }
                Some(first) => (first.date, Known::Exact),
                None => (observed, Known::AtLeast),
            };
            let days = promised.until(until).ok()?.get_days();
            let offset = Offset {
                id: timeline.id.clone(),
                group: timeline.channel.as_str().to_owned(),
                days: f64::from(days),
                known,
            };
            Some((timeline.channel, offset))
        })
        .collect()
}

/// The fit report of each channel with promises; those with enough dated slips carry the
/// distribution that goes in `channels.<channel>.promise_slip`.
pub fn fit_by_channel(timelines: &[Timeline], observed: Date) -> Vec<(Channel, Fit)> {
    let all = slips(timelines, observed);
    Channel::ALL
        .into_iter()
        .filter_map(|channel| {
            let of_channel: Vec<Offset> = all
                .iter()
                .filter(|(of, _)| *of == channel)
                .map(|(_, offset)| offset.clone())
                .collect();
            (!of_channel.is_empty()).then(|| (channel, report(channel, &of_channel)))
        })
        .collect()
}

fn report(channel: Channel, slips: &[Offset]) -> Fit {
    let refs: Vec<&Offset> = slips.iter().collect();
    let observed = dated(&refs);
    let mut fit = Fit {
        parameter: format!("channels.{}.{PROMISE_SLIP}", channel.as_str()),
        interval: "first delivery − the first delivery promised (the middle of the period the \
                   promise names)"
            .to_owned(),
        n: slips.len(),
        observed,
        censored: slips.len() - observed,
        dist: None,
        p10_days: None,
        p50_days: None,
        p90_days: None,
        method: format!("not fitted: {observed} dated slip(s), fewer than {MIN_DATED}"),
        cases: slips
            .iter()
            .map(|slip| match slip.known {
                Known::AtLeast => format!("{} (>{:.0} d)", slip.id, slip.days),
                _ => format!("{} ({:+.0} d)", slip.id, slip.days),
            })
            .collect(),
        year_dated: None,
    };
    if observed < MIN_DATED {
        return fit;
    }
    let Some(normal) = fit_offsets(slips) else {
        fit.method = "not fitted: the slips do not spread".to_owned();
        return fit;
    };
    let mean = normal.means.values().copied().next().unwrap_or_default();
    let sd = normal.sd;
    fit.dist = Some(offset::written(mean, sd));
    fit.p10_days = Some(offset::quantile(mean, sd, 0.1).round());
    fit.p50_days = Some(mean.round());
    fit.p90_days = Some(offset::quantile(mean, sd, 0.9).round());
    fit.method = format!(
        "normal (mean {mean:.0} d, sd {sd:.0} d), maximum likelihood: delivered sales by \
         their density, undelivered ones right-censored; log-likelihood {:.1}; {}",
        normal.log_likelihood,
        LeaveOneOut::of(slips).describe()
    );
    fit
}

/// The leave-one-out check of a channel's fit (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeaveOneOut {
    /// Sales scored: delivered, or undelivered past the P90 fitted without them.
    pub scored: usize,
    /// Of which inside their P10–P90.
    pub inside: usize,
    /// Undelivered and not yet past their P90.
    pub pending: usize,
    /// The median P10–P90 width of the scored ones, in months.
    pub median_band_months: Option<f64>,
}

impl LeaveOneOut {
    /// Checks every slip against the fit on the others.
    pub fn of(slips: &[Offset]) -> LeaveOneOut {
        let mut check = LeaveOneOut::default();
        let mut bands = Vec::new();
        for (index, slip) in slips.iter().enumerate() {
            let others: Vec<Offset> = slips
                .iter()
                .enumerate()
                .filter(|&(other, _)| other != index)
                .map(|(_, offset)| offset.clone())
                .collect();
            let Some((p10, p90)) = fit_offsets(&others).as_ref().and_then(band) else {
                continue;
            };
            let inside = match slip.known {
                Known::AtLeast if slip.days <= p90 => {
                    check.pending += 1;
                    continue;
                }
                Known::AtLeast => false,
                _ => (p10..=p90).contains(&slip.days),
            };
            check.scored += 1;
            check.inside += usize::from(inside);
            bands.push((p90 - p10) / DAYS_PER_MONTH);
        }
        check.median_band_months = stats::median(&bands);
        check
    }

    /// As the fit report says it.
    pub fn describe(&self) -> String {
        let band = self
            .median_band_months
            .map_or_else(|| "none".to_owned(), |months| format!("{months:.1} months"));
        format!(
            "leave-one-out: {} of {} scored slips inside the P10–P90 fitted without them \
             ({} pending); median band {band}",
            self.inside, self.scored, self.pending
        )
    }
}

/// The P10 and P90 of a one-group fit, in days.
fn band(fit: &OffsetFit) -> Option<(f64, f64)> {
    let mean = fit.means.values().copied().next()?;
    Some((
        offset::quantile(mean, fit.sd, 0.1),
        offset::quantile(mean, fit.sd, 0.9),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    fn slip(id: usize, days: f64, known: Known) -> Offset {
        Offset {
            id: format!("S-{id}"),
            group: "fms".to_owned(),
            days,
            known,
        }
    }

    /// `n` slips drawn from `Normal(mean, sd)`; those past `window` days are undelivered.
    fn drawn(n: usize, mean: f64, sd: f64, window: f64) -> Vec<Offset> {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let normal = Normal::new(mean, sd).expect("valid");
        (0..n)
            .map(|id| {
                let days = normal.sample(&mut rng);
                if days > window {
                    slip(id, window, Known::AtLeast)
                } else {
                    slip(id, days, Known::Exact)
                }
            })
            .collect()
    }

    #[test]
    fn the_fit_recovers_the_slip_promises_were_drawn_with_undelivered_sales_censored() {
        // 400 promises slipping 200 ± 150 days, those past 300 days not delivered yet.
        let slips = drawn(400, 200.0, 150.0, 300.0);
        assert!(slips.iter().any(|slip| slip.known == Known::AtLeast));
        let fit = fit_offsets(&slips).expect("fitted");
        let mean = fit.means["fms"];
        assert!((mean - 200.0).abs() < 20.0, "mean {mean}");
        assert!((fit.sd - 150.0).abs() < 15.0, "sd {}", fit.sd);
    }

    #[test]
    fn leave_one_out_holds_about_eight_in_ten_of_slips_drawn_from_one_normal() {
        let check = LeaveOneOut::of(&drawn(300, 200.0, 150.0, 10_000.0));
        assert_eq!((check.scored, check.pending), (300, 0));
        let coverage = check.inside as f64 / check.scored as f64;
        assert!((0.75..=0.85).contains(&coverage), "coverage {coverage}");
        // P10–P90 of a normal is 2.56 sd: 384 days, 12.6 months.
        let band = check.median_band_months.expect("scored");
        assert!((band - 12.6).abs() < 1.5, "band {band}");
    }

    #[test]
    fn an_undelivered_sale_is_late_past_its_p90_and_pending_before_it() {
        let mut slips: Vec<Offset> = [-30.0, 0.0, 30.0, 60.0, 90.0, 120.0]
            .into_iter()
            .enumerate()
            .map(|(id, days)| slip(id, days, Known::Exact))
            .collect();
        slips.push(slip(6, 1000.0, Known::AtLeast));
        slips.push(slip(7, 0.0, Known::AtLeast));
        let check = LeaveOneOut::of(&slips);
        assert_eq!(check.pending, 1);
        assert_eq!(check.scored, 7);
        assert!(check.inside < check.scored);
    }

    #[test]
    fn a_channel_with_fewer_than_five_dated_slips_is_not_fitted_and_says_so() {
        let slips: Vec<Offset> = (0..4)
            .map(|id| slip(id, 30.0 * id as f64, Known::Exact))
            .collect();
        let fit = report(Channel::Dcs, &slips);
        assert!(fit.dist.is_none());
        assert_eq!(fit.parameter, "channels.dcs.promise_slip");
        assert!(
            fit.method.contains("4 dated slip(s), fewer than 5"),
            "{}",
            fit.method
        );
    }

    /// The shipped timelines' slips as they stood on `observed`.
    fn shipped_slips_on(observed: &str) -> Vec<(Channel, Offset)> {
        let timelines = Timeline::builtin().expect("shipped");
        slips(&timelines, observed.parse().expect("a date"))
    }

    /// One sale's channel, slip in days and whether it is exact or a lower bound.
    fn slip_of(slips: &[(Channel, Offset)], id: &str) -> Option<(Channel, f64, Known)> {
        slips
            .iter()
            .find(|(_, slip)| slip.id == id)
            .map(|(channel, slip)| (*channel, slip.days, slip.known))
    }

    #[test]
    fn the_shipped_timelines_give_each_promised_sale_its_slip() {
        let slips = shipped_slips_on("2026-03-31");
        let of = |id: &str| slip_of(&slips, id);
        // Poland's F-35s, promised for 2024 (read 2024-07-01), came 2024-12-23.
        assert_eq!(
            of("POL-F35-2020"),
            Some((Channel::Fms, 175.0, Known::Exact))
        );
        // Lithuania's HIMARS, promised for 2025, had not come by 2026-03-31.
        assert_eq!(
            of("LTU-HIMARS-2022"),
            Some((Channel::Fms, 273.0, Known::AtLeast))
        );
        // Slovakia's F-16s, promised at signing for the fourth quarter of 2022 (its middle,
        // 2022-11-14), were delivered 2024-01-10.
        assert_eq!(
            of("SVK-F16B70-2018"),
            Some((Channel::Fms, 422.0, Known::Exact))
        );
        // Bahrain's, promised at signing for 2021 (2021-07-01), were delivered 2023-03-10.
        assert_eq!(
            of("BHR-F16B70-2017"),
            Some((Channel::Fms, 617.0, Known::Exact))
        );
        assert_eq!(slips.len(), 32);
    }

    #[test]
    fn a_slip_is_taken_as_it_stood_on_the_observation_day() {
        let slips = shipped_slips_on("2024-12-31");
        let of = |id: &str| slip_of(&slips, id);
        // Estonia's HIMARS, promised for 2024 (2024-07-01), came 2025-04-30: on 2024-12-31
        // they had slipped at least 183 days.
        assert_eq!(
            of("EST-HIMARS-2022"),
            Some((Channel::Fms, 183.0, Known::AtLeast))
        );
        // Poland's K2 contract of 2025-08-01 did not exist yet.
        assert_eq!(of("POL-K2-2025"), None);
        // Poland's F-35s, delivered 2024-12-23, are as before.
        assert_eq!(
            of("POL-F35-2020"),
            Some((Channel::Fms, 175.0, Known::Exact))
        );
    }
}
