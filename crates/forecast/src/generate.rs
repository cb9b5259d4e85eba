//! A synthetic portfolio for benchmarks and demos: many cases over many lines, in mixed
//! stages, channels and tiers. The numbers are plausible, not real: real portfolios come
//! from the data crate's DSCA notifications.

use std::collections::BTreeMap;

use expedite_core::{Stage, Usd};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::scenario::{
    RawCase, RawCaseLine, RawDate, RawDist, RawLine, RawPolicy, RawRateChange, RawRateStep,
    RawScenario, RawTierChange,
};

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
    let cases = (0..spec.cases)
        .map(|index| case(index, &lines, &mut rng))
        .collect();
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
    RawLine {
        id: format!("line-{index:02}"),
        name: format!("Production line {index}"),
        backlog: i64::from(rng.random_range(0_u32..=1000)).into(),
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
                announced: None,
            },
        ],
        ..RawLine::default()
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
    let since = jiff::civil::date(2025, 3, 1)
        .checked_sub(
            jiff::Span::new()
                .try_days(days_in_stage)
                .unwrap_or_default(),
        )
        .unwrap_or_default();
    let line_count = rng.random_range(1_usize..=3);
    let case_lines = (0..line_count)
        .map(|_| RawCaseLine {
            line: lines[rng.random_range(0..lines.len())].id.clone(),
            quantity: i64::from(rng.random_range(1_u32..=40)),
            unit_usd: Usd::from_dollars(rng.random_range(1_u64..=2000) * 50_000)
                .unwrap_or_default(),
            mde: rng.random_bool(0.7),
            category: None,
        })
        .collect();
    RawCase {
        id: format!(
            "{}-{}-{index:04}",
            &purchaser[..2],
            ['B', 'D', 'P'][index % 3]
        ),
        purchaser: purchaser.to_owned(),
        channel,
        stage: Some(stage.as_str().to_owned()),
        since: Some(RawDate(since.to_string())),
        tier: Some(i64::from(rng.random_range(1_u32..=3))),
        lines: case_lines,
        ..RawCase::default()
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
