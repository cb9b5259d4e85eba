//! Parsing the full SIPRI trade register and computing lead times by supplier.
//!
//! Reads `../shared/data/sipri/trade-register.csv` beside the repository (SIPRI's export is
//! never committed). Without it the benchmark says so and measures nothing.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use expedite_data::sipri::{self, leadtime};

fn register_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sipri/trade-register.csv")
}

fn bench(c: &mut Criterion) {
    let path = register_path();
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipping: {} is not there", path.display());
        return;
    };
    c.bench_function("sipri parse (29,515 deals)", |b| {
        b.iter(|| sipri::parse_bytes(black_box(&bytes), "trade-register.csv"))
    });
    c.bench_function("sipri parse + lead times by supplier", |b| {
        b.iter(|| {
            let register = sipri::parse_bytes(black_box(&bytes), "trade-register.csv")
                .expect("the shared register parses");
            leadtime::lead_times(
                &register,
                &leadtime::DealFilter::default(),
                leadtime::GroupBy::Supplier,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
