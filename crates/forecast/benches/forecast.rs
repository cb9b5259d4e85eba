//! One trial of the generated 2,000-case, 30-line portfolio (issue 3, "Performance").
//!
//! Run with `cargo bench -p expedite-forecast --bench forecast`; `bench/forecast.sh` runs it
//! beside the SimPy model and prints the ratio.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use expedite_forecast::generate::{PortfolioSpec, portfolio};
use expedite_forecast::{Model, Scenario, Scratch};

fn one_trial_of_the_large_portfolio(c: &mut Criterion) {
    let raw = portfolio(PortfolioSpec {
        cases: 2000,
        lines: 30,
        seed: 1,
    });
    let text = toml::to_string(&raw).expect("the generated portfolio serialises");
    let scenario = Scenario::from_toml_str(&text).expect("the generated portfolio is valid");
    let model = Model::compile(&scenario, None, scenario.seed);
    let mut scratch = Scratch::default();
    let mut trial = 0_u64;
    c.bench_function("one_trial_2000_cases_30_lines", |b| {
        b.iter(|| {
            trial += 1;
            black_box(model.simulate(black_box(trial), &mut scratch))
        })
    });
}

criterion_group!(benches, one_trial_of_the_large_portfolio);
criterion_main!(benches);
