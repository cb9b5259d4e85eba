//! Integration tests of `expedite-data`: one binary (STYLE.md habit 7), one module per source.

mod capacity;
mod dsca;
mod leadtimes;
mod nato;
mod sipri_register;

use std::path::PathBuf;

/// A fixture committed beside these tests.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A SIPRI export in the shared folder beside the repository (never committed). `None`, with
/// the reason printed, when it is not there; under CI (`CI=true`) its absence fails loudly.
pub fn shared_sipri(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/sipri")
        .join(name);
    if path.is_file() {
        return Some(path);
    }
    let in_ci = std::env::var("CI").is_ok_and(|value| value == "true");
    assert!(
        !in_ci,
        "CI=true but the shared SIPRI export {} is missing",
        path.display()
    );
    eprintln!(
        "skipped: the shared SIPRI export {} is not there",
        path.display()
    );
    None
}
