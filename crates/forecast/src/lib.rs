//! Capacity-aware Monte Carlo delivery forecast for foreign military sales.
//!
//! Given a portfolio of cases and the production lines that build their items, the forecast
//! says when each case will be on contract, first delivered and fully delivered, as
//! percentiles over many trials, and what a named policy ("expedite") would change. The
//! model is DESIGN.md's "The forecast model", made exact by issues 3 and 8:
//!
//! 1. facts first: a case's dated milestones (notification, LOA, contract, deliveries) are
//!    never drawn again ([`scenario`]);
//! 2. paperwork: each remaining stage before `on_contract` lasts a draw of its channel's
//!    distribution ([`dist`]), the current one conditioned on the days already spent;
//!    congressional review lasts what the AECA §36(b) rules of `expedite-core` give;
//! 3. production: each line keeps an order book from its book date and builds one unit at
//!    a time at its dated rate (times a realised multiplier, ramp-ups slipped), taking the
//!    waiting unit of lowest (tier, order time, id, line, unit) ([`engine`]);
//! 4. delivery: the last unit's completion plus transport; the first delivery plus a
//!    first-delivery delay for a new configuration.
//!
//! [`Scenario::queue_positions`] reads each case's place in its lines' queues off the
//! scenario, without a trial ([`queue`]).
//!
//! With [`RunOptions::band_parts`] each case also gets the part of its band each source of
//! uncertainty makes alone ([`BandParts`]).
//!
//! This crate is pure: it depends on `expedite-core`, the `rand` family, `statrs` (special
//! functions), `rayon`, `serde`, `serde_path_to_error`, `toml`, `thiserror` and `jiff`,
//! reads no file and no clock. The caller passes in the scenario text, the trials and the
//! seed. Start with [`Scenario::from_toml_str`] and [`run`]:
//!
//! ```
//! use expedite_forecast::{run, RunOptions, Scenario};
//! let scenario = Scenario::from_toml_str(r#"
//!     name = "one case"
//!     start = "2025-01-01"
//!     [[lines]]
//!     id = "shells"
//!     rate = [ { from = "2024-01-01", per_year = 365 } ]
//!     [[cases]]
//!     id = "PL-B-AAA"
//!     purchaser = "POL"
//!     stage = "on_contract"
//!     since = "2025-01-01"
//!     lines = [ { line = "shells", quantity = 10, unit_usd = 1000 } ]
//! "#).expect("valid scenario");
//! let report = run(&scenario, &RunOptions { trials: Some(10), ..RunOptions::default() })
//!     .expect("known policies");
//! assert_eq!(report.runs[0].cases[0].final_delivery.p50.to_string(), "2025-01-11");
//! ```
//!
//! Determinism (STYLE.md habit 8): trial `k` draws from ChaCha8 seeded with the scenario
//! seed on stream `k`, for the base and every policy alike (the sources of issue 8 at fixed
//! word offsets of that stream), and outcomes are folded in trial order, so the report is
//! the same for any number of threads.

pub mod dist;
pub mod engine;
pub mod generate;
pub mod queue;
pub mod report;
pub mod scenario;

use rayon::prelude::*;

pub use dist::{DistError, DurationDist};
pub use engine::{Model, Paperwork, Scratch, Sources, TrialOutcome};
pub use report::{
    BandParts, Bottleneck, CaseForecast, LineForecast, Percentiles, Report, Run, SourceWidths,
};
pub use scenario::{Policy, Scenario, ScenarioError};

use report::RunAccumulator;

/// Trials simulated between two progress reports (and folded into the report at once);
/// bounds the memory held for outcomes not yet folded.
const BLOCK_TRIALS: u64 = 256;

/// How to run a scenario; `None` fields take the scenario's values.
#[derive(Default, Clone, Copy)]
pub struct RunOptions<'a> {
    /// Trials per run, instead of the scenario's.
    pub trials: Option<u32>,
    /// Seed, instead of the scenario's.
    pub seed: Option<u64>,
    /// Run only these policies (the base always runs); `None` runs every policy.
    pub policies: Option<&'a [String]>,
    /// Called after each block of trials with (trials done, trials in all runs).
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
    /// Also measure each case's band parts (issue 8 §5): one more pass of the trials per
    /// source of uncertainty the scenario has, with only that source random.
    pub band_parts: bool,
}

impl std::fmt::Debug for RunOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("trials", &self.trials)
            .field("seed", &self.seed)
            .field("policies", &self.policies)
            .field("progress", &self.progress.is_some())
            .field("band_parts", &self.band_parts)
            .finish()
    }
}

/// Why a run could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// A policy asked for is not in the scenario.
    #[error("unknown policy '{name}': the scenario has {known}")]
    UnknownPolicy {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// Zero trials.
    #[error("trials must be 1 or more")]
    NoTrials,
}

/// Runs the base scenario and the selected policies, on the current rayon thread pool.
///
/// # Errors
/// [`RunError`] for an unknown policy name or zero trials.
pub fn run(scenario: &Scenario, options: &RunOptions<'_>) -> Result<Report, RunError> {
    let trials = options.trials.unwrap_or(scenario.trials);
    if trials == 0 {
        return Err(RunError::NoTrials);
    }
    let seed = options.seed.unwrap_or(scenario.seed);
    let policies = selected_policies(scenario, options.policies)?;
    let mut variants: Vec<(&str, Option<&Policy>)> = vec![("base", None)];
    variants.extend(
        policies
            .into_iter()
            .map(|policy| (policy.name.as_str(), Some(policy))),
    );
    let passes = if options.band_parts {
        1 + band_parts_passes(scenario.cases.len())
    } else {
        1
    };
    let total = u64::from(trials) * variants.len() as u64 * passes;
    let mut done = 0;
    let mut on_block = |block: u64| {
        done += block;
        if let Some(progress) = options.progress {
            progress(done, total);
        }
    };
    let runs = variants
        .into_iter()
        .map(|(name, policy)| {
            let model = Model::compile(scenario, policy, seed);
            let accumulator = run_one(&model, trials, Sources::ALL, &mut on_block);
            let parts = options
                .band_parts
                .then(|| band_parts(&model, trials, &mut on_block));
            let mut run = accumulator.finish(name, &model, scenario);
            if let Some(parts) = parts {
                for (case, parts) in run.cases.iter_mut().zip(parts) {
                    case.band_parts = Some(parts);
                }
            }
            run
        })
        .collect();
    Ok(Report {
        scenario: scenario.name.clone(),
        start: scenario.start,
        trials,
        seed,
        target: scenario.target,
        runs,
    })
}

fn selected_policies<'s>(
    scenario: &'s Scenario,
    names: Option<&[String]>,
) -> Result<Vec<&'s Policy>, RunError> {
    let Some(names) = names else {
        return Ok(scenario.policies.iter().collect());
    };
    names
        .iter()
        .map(|name| {
            scenario
                .policies
                .iter()
                .find(|policy| &policy.name == name)
                .ok_or_else(|| RunError::UnknownPolicy {
                    name: name.clone(),
                    known: if scenario.policies.is_empty() {
                        "no policies".to_owned()
                    } else {
                        scenario
                            .policies
                            .iter()
                            .map(|policy| policy.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                })
        })
        .collect()
}

/// Where a band-parts pass writes its width.
type WidthField = fn(&mut SourceWidths) -> &mut i32;

/// The sources a band-parts pass makes random for every case at once, one at a time, with
/// the field of [`SourceWidths`] each fills. Paperwork is measured case by case
/// ([`paperwork_parts`]).
const PART_SOURCES: [(Sources, WidthField); 5] = [
    (
        Sources {
            rate: true,
            ..Sources::NONE
        },
        |widths| &mut widths.rate,
    ),
    (
        Sources {
            slip: true,
            ..Sources::NONE
        },
        |widths| &mut widths.slip,
    ),
    (
        Sources {
            delay: true,
            ..Sources::NONE
        },
        |widths| &mut widths.delay,
    ),
    (
        Sources {
            pace: true,
            ..Sources::NONE
        },
        |widths| &mut widths.pace,
    ),
    (
        Sources {
            transport: true,
            ..Sources::NONE
        },
        |widths| &mut widths.transport,
    ),
];

/// How many passes of the trials band parts take for a scenario of `cases` cases: one per
/// shared source, and two per case (its own paperwork, and the others' through the queue).
fn band_parts_passes(cases: usize) -> u64 {
    PART_SOURCES.len() as u64 + 2 * cases as u64
}

/// Each case's band parts: for each source the scenario has, the P10–P90 widths of first
/// and final delivery over the same trials with only that source random (zero for a
/// source it does not have, without a pass).
fn band_parts(model: &Model, trials: u32, on_block: &mut impl FnMut(u64)) -> Vec<BandParts> {
    let mut parts = vec![
        BandParts {
            first_delivery: SourceWidths::default(),
            final_delivery: SourceWidths::default(),
        };
        model.case_count()
    ];
    for (sources, field) in PART_SOURCES {
        if !model.has_source(sources) {
            on_block(u64::from(trials));
            continue;
        }
        let widths = run_one(model, trials, sources, on_block).widths();
        for (case, [first, last]) in parts.iter_mut().zip(widths) {
            *field(&mut case.first_delivery) = first;
            *field(&mut case.final_delivery) = last;
        }
    }
    paperwork_parts(model, trials, &mut parts, on_block);
    parts
}

/// The paperwork parts of each case: its own stages alone (`paperwork`), and every other
/// case's stages alone (`queue`: they decide who orders first on a shared line). A pass
/// per case and part, skipped where the part is zero by construction (no stage left to
/// draw, or no other case with stages left on the case's lines).
fn paperwork_parts(
    model: &Model,
    trials: u32,
    parts: &mut [BandParts],
    on_block: &mut impl FnMut(u64),
) {
    for (index, case) in parts.iter_mut().enumerate() {
        let own = Sources {
            paperwork: Paperwork::OnlyCase(index),
            ..Sources::NONE
        };
        let others = Sources {
            paperwork: Paperwork::AllButCase(index),
            ..Sources::NONE
        };
        let passes: [(Sources, bool, WidthField); 2] = [
            (own, model.has_source(own), |widths| &mut widths.paperwork),
            (others, model.shares_queue(index), |widths| {
                &mut widths.queue
            }),
        ];
        for (sources, worth_a_pass, field) in passes {
            if !worth_a_pass {
                on_block(u64::from(trials));
                continue;
            }
            let [first, last] = run_one(model, trials, sources, on_block).widths()[index];
            *field(&mut case.first_delivery) = first;
            *field(&mut case.final_delivery) = last;
        }
    }
}

/// Simulates `trials` trials in blocks: each block in parallel, folded in trial order.
fn run_one(
    model: &Model,
    trials: u32,
    sources: Sources,
    on_block: &mut impl FnMut(u64),
) -> RunAccumulator {
    let mut accumulator = RunAccumulator::new(model);
    let trials = u64::from(trials);
    let mut next = 0;
    while next < trials {
        let end = (next + BLOCK_TRIALS).min(trials);
        let outcomes: Vec<TrialOutcome> = (next..end)
            .into_par_iter()
            .map_init(Scratch::default, |scratch, trial| {
                model.simulate_with(trial, scratch, sources)
            })
            .collect();
        accumulator.add_block(&outcomes);
        on_block(end - next);
        next = end;
    }
    accumulator
}
