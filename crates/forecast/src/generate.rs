//! A synthetic portfolio for benchmarks and demos: many cases over many lines, in mixed
//! stages, channels and tiers, with every key of issue 8's order book: backlogs stated as
//! of a date (holding the cases ordered by then), other customers' orders, rate
//! multipliers, ramp slips, first-delivery delays and milestones. The numbers are
//! plausible, not real: real portfolios come from the data crate's DSCA notifications.

use std::collections::BTreeMap;

use expedite_core::{Stage, Usd};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::scenario::{
    RawBacklog, RawCase, RawCaseLine, RawDate, RawDatedBacklog, RawDelivery, RawDist, RawLine,
    RawMilestones, RawMultiplier, RawOrder, RawPolicy, RawRateChange, RawRateStep, RawScenario,
    RawTierChange,
};

/// The start of every generated portfolio.
const START: (i16, i8, i8) = (2025, 3, 1);
/// The day every generated backlog is stated as of.
const BACKLOG_AS_OF: &str = "2025-01-01";

/// Purchasers drawn from: NATO allies and partners that buy through FMS.
const PURCHASERS: [&str; 16] = [
    "POL", "EST", "LVA", "LTU", "DEU", "NLD", "ROU", "FIN", "SWE", "NOR", "DNK", "CZE", "JPN",
    "KOR", "AUS", "SAU",
];

/// The stages a generated case can be in, with the on-contract stages weighted up, as in a
/// real portfolio where most of the value is already in production.
const STAGES: [Stage; 9] = [
    Stage::LorReceived,
    Stage::LorActionable,
    Stage::LoaDevelopment,
    Stage::CongressionalReview,
    Stage::Offered,
    Stage::Implemented,
    Stage::OnContract,
    Stage::OnContract,
    Stage::Delivering,
];

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortfolioSpec {
    /// Number of cases.
    pub cases: usize,
    /// Number of production lines.
    pub lines: usize,
    /// Seed of the generator (not of the forecast).
    pub seed: u64,
}

/// Builds the portfolio as a scenario file's shape; write it with `toml::to_string`.
pub fn portfolio(spec: PortfolioSpec) -> RawScenario {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let lines: Vec<RawLine> = (0..spec.lines.max(1))
        .map(|index| line(index, &mut rng))
        .collect();
    let cases: Vec<RawCase> = (0..spec.cases)
        .map(|index| case(index, &lines, &mut rng))
        .collect();
    let mut lines = lines;
    hold_cases_in_backlogs(&mut lines, &cases);
    RawScenario {
        name: format!(
            "Synthetic portfolio: {} cases over {} lines (generator seed {})",
            spec.cases,
            lines.len(),
            spec.seed
        ),
        start: "2025-03-01".into(),
        trials: Some(10_000),
        seed: Some(7),
        target: Some("2030-12-31".into()),
        channels: channels(),
        policies: vec![expedite_policy(&lines)],
        lines,
        cases,
    }
}

fn dist_pert(min: f64, mode: f64, max: f64) -> RawDist {
    RawDist::Pert { min, mode, max }
}

/// The stage times of issue 3's example, for FMS; shorter ones for the other channels.
fn channels() -> BTreeMap<String, BTreeMap<String, RawDist>> {
    let fms = BTreeMap::from([
        (
            "lor_received".to_owned(),
            RawDist::Triangular {
                min: 5.0,
                mode: 20.0,
                max: 90.0,
            },
        ),
        (
            "lor_actionable".to_owned(),
            RawDist::Uniform {
                min: 0.0,
                max: 30.0,
            },
        ),
        ("loa_development".to_owned(), dist_pert(45.0, 150.0, 420.0)),
        (
            "offered".to_owned(),
            RawDist::Lognormal {
                median: 60.0,
                p90: 180.0,
            },
        ),
        ("implemented".to_owned(), dist_pert(60.0, 180.0, 720.0)),
        ("transport".to_owned(), RawDist::Fixed { days: 30.0 }),
        (
            "first_delivery_delay".to_owned(),
            dist_pert(30.0, 120.0, 540.0),
        ),
    ]);
    let g2g = BTreeMap::from([
        ("loa_development".to_owned(), dist_pert(20.0, 45.0, 120.0)),
        ("implemented".to_owned(), dist_pert(20.0, 60.0, 180.0)),
        (
            "transport".to_owned(),
            RawDist::Uniform {
                min: 20.0,
                max: 45.0,
            },
        ),
    ]);
    let dcs = BTreeMap::from([
        (
            "lor_received".to_owned(),
            RawDist::Triangular {
                min: 10.0,
                mode: 30.0,
                max: 120.0,
            },
        ),
        ("implemented".to_owned(), dist_pert(30.0, 90.0, 365.0)),
        ("transport".to_owned(), RawDist::Fixed { days: 30.0 }),
    ]);
    BTreeMap::from([
        ("fms".to_owned(), fms),
        ("g2g".to_owned(), g2g),
        ("dcs".to_owned(), dcs),
    ])
}

fn line(index: usize, rng: &mut ChaCha8Rng) -> RawLine {
    let per_year = f64::from(rng.random_range(50_u32..=150)) * 10.0;
    let growth = 1.0 + f64::from(rng.random_range(0_u32..=50)) / 100.0;
    let orders = (0..rng.random_range(0_u32..=2))
        .map(|_| RawOrder {
            date: RawDate(format!(
                "{}-{:02}-01",
                rng.random_range(2025_u32..=2027),
                rng.random_range(1_u32..=12)
            )),
            units: i64::from(rng.random_range(10_u32..=200)),
            tier: Some(i64::from(rng.random_range(1_u32..=2))),
            customer: Some("US Army".to_owned()),
        })
        .collect();
    RawLine {
        id: format!("line-{index:02}"),
        name: format!("Production line {index}"),
        backlog: RawBacklog::Dated(RawDatedBacklog {
            units: i64::from(rng.random_range(0_u32..=1000)),
            as_of: BACKLOG_AS_OF.into(),
            includes_cases: true,
            tier: None,
        }),
        orders,
        lead_time_days: f64::from(rng.random_range(90_u32..=540)),
        rate: vec![
            RawRateStep {
                from: "2024-01-01".into(),
                per_year,
                announced: None,
            },
            RawRateStep {
                from: RawDate(format!("{}-01-01", rng.random_range(2026_u32..=2029))),
                per_year: (per_year * growth).round(),
                announced: Some("2024-06-01".into()),
            },
        ],
        rate_multiplier: Some(RawMultiplier::Lognormal {
            median: 0.9,
            p90: 1.0 + f64::from(rng.random_range(0_u32..=20)) / 100.0,
        }),
        ramp_slip: Some(dist_pert(0.0, 90.0, 365.0)),
        // Every fifth line delays a new buyer: half by a PERT, half by a signed normal
        // offset as the shipped calibration writes it.
        first_delivery_delay: index.is_multiple_of(5).then(|| {
            if index.is_multiple_of(10) {
                dist_pert(60.0, 240.0, 900.0)
            } else {
                RawDist::Normal {
                    median: 240.0,
                    p90: 780.0,
                }
            }
        }),
        // Every third line paces its buyers' deliveries, as the shipped calibration fits.
        delivery_span: index.is_multiple_of(3).then_some(RawDist::Lognormal {
            median: 300.0,
            p90: 1200.0,
        }),
        // Unscaled: the SimPy model draws the span alone.
        delivery_span_scale: None,
    }
}

fn case(index: usize, lines: &[RawLine], rng: &mut ChaCha8Rng) -> RawCase {
    let purchaser = PURCHASERS[rng.random_range(0..PURCHASERS.len())];
    let stage = STAGES[rng.random_range(0..STAGES.len())];
    let channel = match rng.random_range(0_u32..10) {
        0 => Some("g2g".to_owned()),
        1 => Some("dcs".to_owned()),
        _ => None,
    };
    let days_in_stage = rng.random_range(0_i64..=400);
    let start = jiff::civil::date(START.0, START.1, START.2);
    let days_before = |days: i64| {
        start
            .checked_sub(jiff::Span::new().try_days(days).unwrap_or_default())
            .unwrap_or_default()
    };
    let since = days_before(days_in_stage);
    let line_count = rng.random_range(1_usize..=3);
    let case_lines: Vec<RawCaseLine> = (0..line_count)
        .map(|_| RawCaseLine {
            line: lines[rng.random_range(0..lines.len())].id.clone(),
            quantity: i64::from(rng.random_range(1_u32..=40)),
            unit_usd: Usd::from_dollars(rng.random_range(1_u64..=2000) * 50_000)
                .unwrap_or_default(),
            mde: rng.random_bool(0.7),
            category: None,
        })
        .collect();
    // Facts: a signed LOA, a contract, the first units delivered; the stage and its date
    // follow from them.
    let milestones = match stage {
        Stage::Implemented => Some(RawMilestones {
            loa: Some(RawDate(since.to_string())),
            ..RawMilestones::default()
        }),
        Stage::OnContract => Some(RawMilestones {
            contract: Some(RawDate(since.to_string())),
            ..RawMilestones::default()
        }),
        Stage::Delivering => Some(RawMilestones {
            contract: Some(RawDate(days_before(days_in_stage + 300).to_string())),
            deliveries: vec![RawDelivery {
                date: RawDate(since.to_string()),
                units: (case_lines[0].quantity / 2).max(1),
                line: Some(case_lines[0].line.clone()),
            }],
            ..RawMilestones::default()
        }),
        _ => None,
    };
    let (stage, since) = if milestones.is_some() {
        (None, None)
    } else {
        (
            Some(stage.as_str().to_owned()),
            Some(RawDate(since.to_string())),
        )
    };
    RawCase {
        id: format!(
            "{}-{}-{index:04}",
            &purchaser[..2],
            ['B', 'D', 'P'][index % 3]
        ),
        purchaser: purchaser.to_owned(),
        channel,
        stage,
        since,
        tier: Some(i64::from(rng.random_range(1_u32..=3))),
        new_configuration: Some(rng.random_bool(0.5)),
        milestones,
        promised_first_delivery: None,
        lines: case_lines,
    }
}

/// Adds to each line's stated backlog the undelivered units of the cases ordered by its
/// date, which `includes_cases = true` says it holds (so the file is valid whatever the
/// draws).
fn hold_cases_in_backlogs(lines: &mut [RawLine], cases: &[RawCase]) {
    for line in lines {
        let RawBacklog::Dated(backlog) = &mut line.backlog else {
            continue;
        };
        let as_of = backlog.as_of.0.as_str();
        for case in cases {
            let Some(milestones) = &case.milestones else {
                continue;
            };
            let Some(contract) = &milestones.contract else {
                continue;
            };
            if contract.0.as_str() > as_of {
                continue;
            }
            for (at, case_line) in case.lines.iter().enumerate() {
                if case_line.line != line.id {
                    continue;
                }
                let delivered: i64 = milestones
                    .deliveries
                    .iter()
                    .filter(|delivery| {
                        delivery.date.0.as_str() <= as_of
                            && (at == 0 && delivery.line.as_deref() == Some(&case_line.line))
                    })
                    .map(|delivery| delivery.units)
                    .sum();
                backlog.units += case_line.quantity - delivered;
            }
        }
    }
}

fn expedite_policy(lines: &[RawLine]) -> RawPolicy {
    RawPolicy {
        name: "expedite".to_owned(),
        stage_scale: BTreeMap::from([
            ("loa_development".to_owned(), 0.5),
            ("implemented".to_owned(), 0.6),
        ]),
        rate: lines
            .iter()
            .take(5)
            .map(|line| RawRateChange {
                line: line.id.clone(),
                from: "2026-01-01".into(),
                multiplier: 1.3,
            })
            .collect(),
        tier: vec![RawTierChange {
            purchasers: ["POL", "EST", "LVA", "LTU"].map(str::to_owned).to_vec(),
            tier: 1,
        }],
    }
}
