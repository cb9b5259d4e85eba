//! `expedite calibrate` and `expedite backtest`: the forecast fitted to real timelines, and
//! tested against them (issue 8, §4). Both read a timelines CSV of the shipped layout
//! (`crates/data/data/cases/timelines.csv`); the work is in `expedite_portfolio`.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use comfy_table::Cell;
use expedite_core::Date;
use expedite_core::rules::RuleBook;
use expedite_data::capacity::Catalog;
use expedite_data::sipri;
use expedite_data::timelines::{self, Precision, Timeline};
use expedite_portfolio::backtest::{self, AsOfKind, Assumed, Backtest, CalibrationMode, Options};
use expedite_portfolio::calibrate::{Family, Params};
use expedite_portfolio::sipri_sales;
use expedite_portfolio::template::Template;

use crate::output::{self, Format};

/// Arguments of `calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Timelines CSV (the columns of crates/data/data/cases/timelines.csv).
    timelines: PathBuf,
    /// The day the file's facts are complete (default: the latest date in the file). A sale
    /// that has not reached a milestone by then is censored there.
    #[arg(long, value_name = "DATE")]
    observed: Option<Date>,
    /// Write the parameters file (TOML) here.
    #[arg(long, value_name = "FILE.toml")]
    out: Option<PathBuf>,
    /// The distribution every fit writes (both are fitted and their log-likelihoods
    /// reported either way).
    #[arg(long, value_enum, default_value_t)]
    family: FamilyArg,
    /// Output format of the fit report.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    #[command(flatten)]
    register: RegisterArgs,
}

/// A SIPRI register whose deals feed the first-delivery delay and the delivery span (`calibrate`, and
/// `backtest`'s leave-one-out refits).
#[derive(Debug, Args)]
struct RegisterArgs {
    /// A SIPRI trade register (CSV as SIPRI exports it) whose US deals on catalog lines
    /// also feed the first-delivery delay and the delivery span with its order scale:
    /// year-dated, each within a year either side. Its deals the timelines hold are left out.
    #[arg(long, value_name = "REGISTER.csv")]
    register: Option<PathBuf>,
    /// With `--register`: only its deals ordered before this year (so that later deals
    /// stay unseen for `expedite backtest --sipri --ordered-from YEAR`).
    #[arg(long, value_name = "YEAR", requires = "register")]
    register_ordered_before: Option<i32>,
}

/// The distribution family fits write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
enum FamilyArg {
    /// Log-normal: the heavier right tail, the cautious choice for delays.
    #[default]
    Lognormal,
    /// Weibull: the thinner right tail.
    Weibull,
    /// Whichever makes the intervals the more likely, parameter by parameter.
    Likelier,
}

impl From<FamilyArg> for Family {
    fn from(family: FamilyArg) -> Family {
        match family {
            FamilyArg::Lognormal => Family::LogNormal,
            FamilyArg::Weibull => Family::Weibull,
            FamilyArg::Likelier => Family::Likelier,
        }
    }
}

/// Which forecasts `backtest` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AsOfArg {
    /// The day after the DSCA notification.
    Notification,
    /// The day after the LOA.
    Loa,
    /// Both.
    Both,
}

/// Which parameters `backtest` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CalibrationArg {
    /// The shipped parameters, as they are (for a file that did not feed them).
    Shipped,
    /// Refit the parameters without the sale being tested.
    LeaveOneOut,
}

/// Arguments of `backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Timelines CSV (the columns of crates/data/data/cases/timelines.csv), or with
    /// `--sipri` a SIPRI trade register.
    timelines: PathBuf,
    /// The file is a SIPRI trade register (CSV as SIPRI exports it, one row per deal): its
    /// US deals on catalog lines are tested as of their order year (read as 1 July),
    /// leaving out the sales the shipped timelines hold. Goes with `--calibration shipped`.
    #[arg(long)]
    sipri: bool,
    /// With `--sipri`: only the deals ordered in this year or later (the catalog's rate
    /// facts start in 2019-2022; older deals are forecast on rates moved back to them).
    #[arg(long, value_name = "YEAR", requires = "sipri")]
    ordered_from: Option<i32>,
    /// The day the file's facts are complete: a sale not delivered by then is late if its
    /// P90 is earlier, else pending.
    #[arg(long, value_name = "DATE")]
    observed: Date,
    /// Forecast as of the day after the notification, after the LOA, or both (default: both;
    /// with `--sipri` the LOA only, a register having no notification dates).
    #[arg(long, value_enum)]
    as_of: Option<AsOfArg>,
    /// Shipped parameters, or refitted without the sale being tested.
    #[arg(long, value_enum, default_value = "shipped")]
    calibration: CalibrationArg,
    /// With `--calibration shipped`: the parameters file to use instead of the shipped one,
    /// as `expedite calibrate --out` writes it (calibrate on some sales, test on others).
    #[arg(long, value_name = "FILE")]
    params: Option<PathBuf>,
    /// With `--calibration leave-one-out`: the distribution family the refits write, as
    /// `expedite calibrate --family` (default: log-normal).
    #[arg(long, value_enum)]
    family: Option<FamilyArg>,
    /// With `--calibration leave-one-out`: the refits take this register's deals too, as
    /// `expedite calibrate --register` (the shipped parameters were fitted so).
    #[command(flatten)]
    register: RegisterArgs,
    /// Trials per forecast.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    trials: u32,
    /// Seed of every forecast.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn read_timelines(path: &Path) -> anyhow::Result<Vec<Timeline>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let rows = timelines::read(file, &path.display().to_string())?;
    if rows.is_empty() {
        return Err(anyhow!("{}: the file holds no timelines", path.display()));
    }
    Ok(rows)
}

/// The forecasts `--as-of` asks for. A SIPRI register has no notification dates, so with
/// `--sipri` the default is the LOA and asking for the notification is refused.
fn as_of_kinds(as_of: Option<AsOfArg>, sipri: bool) -> anyhow::Result<Vec<AsOfKind>> {
    Ok(match (as_of, sipri) {
        (Some(AsOfArg::Notification | AsOfArg::Both), true) => {
            return Err(anyhow!(
                "--as-of: a SIPRI register has no notification dates; its sales are forecast as \
                 of their LOA (--as-of loa)"
            ));
        }
        (Some(AsOfArg::Loa), _) | (None, true) => vec![AsOfKind::Loa],
        (Some(AsOfArg::Notification), false) => vec![AsOfKind::Notification],
        (Some(AsOfArg::Both) | None, false) => vec![AsOfKind::Notification, AsOfKind::Loa],
    })
}

/// The sales of the SIPRI register `args.timelines` (see `expedite_portfolio::sipri_sales`),
/// and its deals on catalog lines left out, as skipped rows.
fn register_sales(
    args: &BacktestArgs,
    catalog: &Catalog,
) -> anyhow::Result<(Vec<Timeline>, Vec<backtest::Skipped>)> {
    if args.calibration == CalibrationArg::LeaveOneOut {
        return Err(anyhow!(
            "--sipri: a register's sales are tested with the shipped (or --params) parameters; \
             leave-one-out refits on a timelines file's own day-dated sales"
        ));
    }
    let register = sipri::read_path(&args.timelines)?;
    let known = Timeline::builtin().context("the shipped timelines")?;
    let selection = sipri_sales::Selection {
        ordered_from: args.ordered_from,
        ..sipri_sales::Selection::default()
    };
    let sales = sipri_sales::register_sales(&register, catalog, &known, selection);
    if sales.timelines.is_empty() {
        return Err(anyhow!(
            "{}: no US deal of new weapons on a catalog line to test ({} left out)",
            args.timelines.display(),
            sales.left_out.len()
        ));
    }
    let left_out = sales
        .left_out
        .into_iter()
        .map(|left| backtest::Skipped {
            id: left.deal,
            as_of_kind: None,
            reason: left.reason,
        })
        .collect();
    Ok((sales.timelines, left_out))
}

/// The parameters of `--params FILE`, else the shipped ones. A file with
/// `--calibration leave-one-out` is refused: that mode refits its own.
fn given_params(path: Option<&Path>, calibration: CalibrationArg) -> anyhow::Result<Params> {
    let Some(path) = path else {
        return Params::shipped().context("the shipped calibration parameters");
    };
    if calibration == CalibrationArg::LeaveOneOut {
        return Err(anyhow!(
            "--params: a parameters file goes with --calibration shipped; leave-one-out refits \
             the parameters on the file's other sales"
        ));
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Params::from_toml_str(&text, &path.display().to_string())?)
}

/// The family of the leave-one-out refits. `--family` with `--calibration shipped` is
/// refused: the parameters file already says its families.
fn refit_family(family: Option<FamilyArg>, calibration: CalibrationArg) -> anyhow::Result<Family> {
    match (family, calibration) {
        (Some(_), CalibrationArg::Shipped) => Err(anyhow!(
            "--family: goes with --calibration leave-one-out; with shipped parameters the \
             parameters file says each distribution's family"
        )),
        (family, _) => Ok(family.unwrap_or_default().into()),
    }
}

/// The latest milestone in the file: the least the facts must be complete to.
fn latest_date(rows: &[Timeline]) -> Option<Date> {
    rows.iter()
        .flat_map(|row| {
            timelines::MilestoneKind::ALL
                .into_iter()
                .filter_map(|kind| row.milestones.get(kind).map(|m| m.date))
        })
        .max()
}

/// The shipped catalog, rule book and template the forecasts of history are built from.
struct Shipped {
    catalog: Catalog,
    rules: RuleBook,
    assumed: Assumed,
}

fn shipped() -> anyhow::Result<Shipped> {
    Ok(Shipped {
        catalog: Catalog::builtin().context("the shipped capacity catalog")?,
        rules: RuleBook::builtin().context("the shipped rule book")?,
        assumed: Assumed::of(&Template::builtin().context("the shipped scenario template")?),
    })
}

impl Shipped {
    fn context<'a>(&'a self, family: Family, register: &'a [Timeline]) -> backtest::Context<'a> {
        backtest::Context {
            catalog: &self.catalog,
            rules: &self.rules,
            assumed: &self.assumed,
            family,
            register,
        }
    }
}

impl RegisterArgs {
    /// The year-dated sales of `--register` that feed the first-delivery delay (none
    /// without one): its US deals on catalog lines ordered before
    /// `--register-ordered-before`, less those `timelines` hold.
    fn sales(&self, timelines: &[Timeline], catalog: &Catalog) -> anyhow::Result<Vec<Timeline>> {
        let Some(path) = &self.register else {
            return Ok(Vec::new());
        };
        let register = sipri::read_path(path)?;
        let selection = sipri_sales::Selection {
            ordered_from: None,
            ordered_before: self.register_ordered_before,
            for_calibration: true,
        };
        let sales = sipri_sales::register_sales(&register, catalog, timelines, selection);
        if sales.timelines.is_empty() {
            return Err(anyhow!(
                "--register: {} holds no US deal of new weapons on a catalog line{}",
                path.display(),
                self.register_ordered_before
                    .map_or(String::new(), |year| format!(" ordered before {year}"))
            ));
        }
        Ok(sales.timelines)
    }
}

/// Runs `calibrate`.
pub fn run_calibrate(args: CalibrateArgs) -> anyhow::Result<()> {
    let rows = read_timelines(&args.timelines)?;
    let observed = match args.observed {
        Some(date) => date,
        None => latest_date(&rows).ok_or_else(|| {
            anyhow!(
                "{}: no dated milestone; give --observed",
                args.timelines.display()
            )
        })?,
    };
    let shipped = shipped()?;
    let register = args.register.sales(&rows, &shipped.catalog)?;
    let params = backtest::calibrate_with_engine(
        &rows,
        observed,
        &args.timelines.display().to_string(),
        &shipped.context(args.family.into(), &register),
    );
    if let Some(out) = &args.out {
        let command = format!(
            "expedite {}",
            std::env::args().skip(1).collect::<Vec<_>>().join(" ")
        );
        let text = params.to_toml_string(&command)?;
        std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
    }
    match args.format {
        Format::Json => output::print_json(&params),
        Format::Csv => output::print_csv(&FIT_COLUMNS, fit_rows(&params)),
        Format::Table => print_fits(&params, args.observed.is_none()),
    }
}

const FIT_COLUMNS: [&str; 9] = [
    "parameter",
    "n",
    "observed",
    "censored",
    "p10_days",
    "p50_days",
    "p90_days",
    "method",
    "interval",
];

fn days(value: Option<f64>) -> String {
    value.map(|days| format!("{days:.0}")).unwrap_or_default()
}

fn fit_rows(params: &Params) -> Vec<Vec<String>> {
    params
        .fits
        .iter()
        .map(|fit| {
            vec![
                fit.parameter.clone(),
                fit.n.to_string(),
                fit.observed.to_string(),
                fit.censored.to_string(),
                days(fit.p10_days),
                days(fit.p50_days),
                days(fit.p90_days),
                fit.method.clone(),
                fit.interval.clone(),
            ]
        })
        .collect()
}

fn print_fits(params: &Params, observed_defaulted: bool) -> anyhow::Result<()> {
    output::print_text(&format!(
        "Calibration on {}, facts complete to {}{}. Days; stage durations: {} by maximum \
         likelihood with right-censoring, each beside the other family's log-likelihood; \
         first-delivery delays: signed normal offsets, a mean per line with enough sales and \
         one spread shared by all; a fit needs {} observed intervals.",
        params.source,
        params.observed,
        if observed_defaulted {
            " (the latest date in the file; give --observed)"
        } else {
            ""
        },
        match params.family {
            Family::LogNormal => "log-normal fits (--family lognormal)",
            Family::Weibull => "Weibull fits (--family weibull)",
            Family::Likelier => "log-normal or Weibull, the more likely (--family likelier)",
        },
        expedite_portfolio::calibrate::MIN_OBSERVED
    ))?;
    let mut table = output::table(&["parameter", "n", "obs", "cens", "P10", "P50", "P90", "fit"]);
    for fit in &params.fits {
        table.add_row(vec![
            Cell::new(&fit.parameter),
            Cell::new(fit.n),
            Cell::new(fit.observed),
            Cell::new(fit.censored),
            Cell::new(days(fit.p10_days)),
            Cell::new(days(fit.p50_days)),
            Cell::new(days(fit.p90_days)),
            Cell::new(&fit.method),
        ]);
    }
    output::print_text(&table.to_string())?;
    output::print_text("Not identified by the timelines, kept as stated assumptions:")?;
    for assumption in &params.assumptions {
        let value = match assumption.parameter.as_str() {
            "line_defaults.rate_multiplier" => params.line_defaults.rate_multiplier.to_string(),
            "line_defaults.ramp_slip" => params.line_defaults.ramp_slip.to_string(),
            _ => String::new(),
        };
        output::print_text(&format!(
            "- {} = {value}: {} Source: {}",
            assumption.parameter, assumption.why, assumption.source
        ))?;
    }
    Ok(())
}

/// Runs `backtest`.
pub fn run_backtest(args: BacktestArgs) -> anyhow::Result<()> {
    let shipped = shipped()?;
    let (rows, left_out) = if args.sipri {
        register_sales(&args, &shipped.catalog)?
    } else {
        (read_timelines(&args.timelines)?, Vec::new())
    };
    let options = Options {
        observed: args.observed,
        as_of: as_of_kinds(args.as_of, args.sipri)?,
        calibration: match args.calibration {
            CalibrationArg::Shipped => CalibrationMode::Shipped,
            CalibrationArg::LeaveOneOut => CalibrationMode::LeaveOneOut,
        },
        trials: args.trials,
        seed: args.seed,
    };
    let params = given_params(args.params.as_deref(), args.calibration)?;
    let family = refit_family(args.family, args.calibration)?;
    if args.register.register.is_some() && args.calibration == CalibrationArg::Shipped {
        return Err(anyhow!(
            "--register: goes with --calibration leave-one-out; shipped parameters (or \
             --params) already hold what their register gave"
        ));
    }
    let register = args.register.sales(&rows, &shipped.catalog)?;
    let context = shipped.context(family, &register);
    let mut result = backtest::backtest(&rows, &options, &context, &params);
    result.skipped.extend(left_out);
    match args.format {
        Format::Json => output::print_json(&result),
        Format::Csv => output::print_csv(&FORECAST_COLUMNS, forecast_rows(&result)),
        Format::Table => print_backtest(&result, args.params.as_deref()),
    }
}

const FORECAST_COLUMNS: [&str; 20] = [
    "id",
    "line",
    "as_of_kind",
    "as_of",
    "actual_first_delivery",
    "p10",
    "p50",
    "p90",
    "outcome",
    "error_months",
    "band_months",
    "baseline_first_delivery",
    "baseline_error_months",
    "baseline_p10",
    "baseline_p90",
    "baseline_outcome",
    "rate_backdated",
    "interval_score_months",
    "baseline_interval_score_months",
    "promised_first_delivery",
];

fn months(value: Option<f64>) -> String {
    value.map(|m| format!("{m:.1}")).unwrap_or_default()
}

fn forecast_rows(result: &Backtest) -> Vec<Vec<String>> {
    result
        .forecasts
        .iter()
        .map(|f| {
            vec![
                f.id.clone(),
                f.line.clone(),
                f.as_of_kind.as_str().to_owned(),
                f.as_of.to_string(),
                f.actual_first_delivery
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                f.first_delivery.p10.to_string(),
                f.first_delivery.p50.to_string(),
                f.first_delivery.p90.to_string(),
                f.outcome.as_str().to_owned(),
                months(f.error_months),
                months(Some(f.band_months)),
                f.baseline_first_delivery
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                months(f.baseline_error_months),
                f.baseline_band
                    .map(|band| band.p10.to_string())
                    .unwrap_or_default(),
                f.baseline_band
                    .map(|band| band.p90.to_string())
                    .unwrap_or_default(),
                f.baseline_outcome
                    .map(|outcome| outcome.as_str().to_owned())
                    .unwrap_or_default(),
                f.rate_backdated.to_string(),
                months(f.interval_score_months),
                months(f.baseline_interval_score_months),
                f.promised_first_delivery
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ]
        })
        .collect()
}

fn figure(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_owned(), |c| format!("{:.0}%", c * 100.0))
}

/// The summary's figures for each line, when the forecasts are on more than one.
fn print_by_line(result: &Backtest) -> anyhow::Result<()> {
    if result.by_line.len() < 2 {
        return Ok(());
    }
    let mut table = output::table(&[
        "line",
        "scored",
        "inside",
        "early",
        "late",
        "pending",
        "coverage",
        "median |error|",
        "baseline",
        "median band",
        "interval score",
    ]);
    for (line, s) in &result.by_line {
        table.add_row(vec![
            Cell::new(line),
            Cell::new(s.first.scored),
            Cell::new(s.first.inside),
            Cell::new(s.first.early),
            Cell::new(s.first.late),
            Cell::new(s.first.pending),
            Cell::new(percent(s.first.coverage)),
            Cell::new(figure(s.first.median_abs_error_months)),
            Cell::new(figure(s.baseline_median_abs_error_months)),
            Cell::new(figure(s.first.median_band_months)),
            Cell::new(figure(s.first.mean_interval_score_months)),
        ]);
    }
    output::print_text("By line (months; baseline: history's median |error| as of LOA):")?;
    output::print_text(&table.to_string())
}

fn print_backtest(result: &Backtest, params: Option<&Path>) -> anyhow::Result<()> {
    output::print_text(&format!(
        "Back-test of first delivery, facts complete to {}; {} parameters, {} trials, seed {}. \
         Error = P50 - actual, months.",
        result.observed,
        match (result.calibration, params) {
            (CalibrationMode::Shipped, Some(path)) => format!("{}'s", path.display()),
            (CalibrationMode::Shipped, None) => "shipped".to_owned(),
            (CalibrationMode::LeaveOneOut, _) => match result.family {
                Some(Family::Weibull) => "leave-one-out Weibull".to_owned(),
                Some(Family::Likelier) => "leave-one-out (the likelier family)".to_owned(),
                _ => "leave-one-out".to_owned(),
            },
        },
        result.trials,
        result.seed
    ))?;
    let mut table = output::table(&[
        "sale", "as of", "actual", "P10", "P50", "P90", "outcome", "error", "baseline",
    ]);
    for f in &result.forecasts {
        let as_of = format!(
            "{} {}{}{}",
            f.as_of_kind.as_str(),
            f.as_of,
            known_to(f.as_of_precision),
            if f.promised_first_delivery.is_some() {
                " (promise)"
            } else {
                ""
            }
        );
        table.add_row(vec![
            Cell::new(format!(
                "{}{}",
                f.id,
                if f.rate_backdated { " *" } else { "" }
            )),
            Cell::new(as_of),
            Cell::new(match (f.actual_first_delivery, f.actual_precision) {
                (Some(day), Some(precision)) => format!("{day}{}", known_to(precision)),
                (Some(day), None) => day.to_string(),
                (None, _) => "-".to_owned(),
            }),
            Cell::new(f.first_delivery.p10),
            Cell::new(f.first_delivery.p50),
            Cell::new(f.first_delivery.p90),
            Cell::new(f.outcome.as_str()),
            Cell::new(match (f.error_months, f.error_at_least_months) {
                (Some(error), _) => format!("{error:+.1}"),
                (None, Some(bound)) => format!("{bound:+.1} or more"),
                (None, None) => String::new(),
            }),
            Cell::new(months(f.baseline_error_months)),
        ]);
    }
    output::print_text(&table.to_string())?;
    if result.forecasts.iter().any(|f| f.rate_backdated) {
        output::print_text(
            "* the catalog knew no rate for the line yet: its first rate step was moved back \
             to the forecast day",
        )?;
    }
    let imprecise = |precision: Precision| precision != Precision::Day;
    if result
        .forecasts
        .iter()
        .any(|f| imprecise(f.as_of_precision) || f.actual_precision.is_some_and(imprecise))
    {
        output::print_text(
            "(month), (year): the sources give only the month or the year; its middle is shown, \
             forecast from and scored",
        )?;
    }
    let promised: Vec<String> = result
        .forecasts
        .iter()
        .filter_map(|f| {
            let promise = f.promised_first_delivery?;
            Some(format!(
                "{} as of {}: promised {promise}",
                f.id,
                f.as_of_kind.as_str()
            ))
        })
        .collect();
    if !promised.is_empty() {
        output::print_text(&format!(
            "(promise) the first delivery promised was public before the forecast day: the \
             forecast is that promise plus the fitted slip of promises ({})",
            promised.join("; ")
        ))?;
    }
    let mut assumed: Vec<&str> = result
        .forecasts
        .iter()
        .flat_map(|f| f.assumed_parameters.iter().map(String::as_str))
        .collect();
    assumed.sort_unstable();
    assumed.dedup();
    if !assumed.is_empty() {
        output::print_text(&format!(
            "Not fitted (too few sales in the parameters' file), taken from the demo template's \
             assumptions: {}",
            assumed.join(", ")
        ))?;
    }
    if !result.skipped.is_empty() {
        output::print_text("Not forecast:")?;
        for skipped in &result.skipped {
            output::print_text(&format!(
                "- {}{}: {}",
                skipped.id,
                skipped
                    .as_of_kind
                    .map(|kind| format!(" (as of {})", kind.as_str()))
                    .unwrap_or_default(),
                skipped.reason
            ))?;
        }
    }
    print_by_line(result)?;
    let s = &result.summary;
    output::print_text(&format!(
        "Scored {} (pending {}): inside {}, early {}, late {}; coverage {}. Median |error| {} \
         months; median band {} months; mean interval score {} months (band + 10 x miss, lower \
         is better). As of LOA ({} forecasts): median |error| {} months, baseline {} months. \
         History's own band (P10-P90 of the other sales' LOA to first delivery, {} forecasts \
         as of LOA): median {} months, coverage {}, interval score {}; the model's on the \
         same: median {} months, coverage {}, interval score {}.",
        s.first.scored,
        s.first.pending,
        s.first.inside,
        s.first.early,
        s.first.late,
        percent(s.first.coverage),
        figure(s.first.median_abs_error_months),
        figure(s.first.median_band_months),
        figure(s.first.mean_interval_score_months),
        s.baseline_n,
        figure(s.median_abs_error_months_loa),
        figure(s.baseline_median_abs_error_months),
        s.baseline_scored,
        figure(s.baseline_median_band_months),
        percent(s.baseline_coverage),
        figure(s.baseline_mean_interval_score_months),
        figure(s.median_band_months_loa),
        percent(s.coverage_loa),
        figure(s.mean_interval_score_months_loa),
    ))?;
    let f = &s.final_delivery;
    output::print_text(&format!(
        "Final delivery: scored {} (pending {}): inside {}, early {}, late {}; coverage {}. \
         Median |error| {} months; median band {} months; mean interval score {} months.",
        f.scored,
        f.pending,
        f.inside,
        f.early,
        f.late,
        percent(f.coverage),
        figure(f.median_abs_error_months),
        figure(f.median_band_months),
        figure(f.mean_interval_score_months),
    ))
}

/// How a date read from a month or a year is marked in the table: its middle is shown.
fn known_to(precision: Precision) -> &'static str {
    match precision {
        Precision::Month => " (month)",
        Precision::Year => " (year)",
        Precision::Day => "",
    }
}
