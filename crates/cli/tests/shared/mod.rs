//! The shared data folder beside the checkout (`../shared`), which holds the SIPRI export
//! the project may read in tests but not copy.

use std::path::PathBuf;

/// SIPRI's export in the shared folder; `None` (with the reason printed) when it is not
/// there, a failure under CI.
pub fn shared_register() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/sipri/trade-register.csv");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {} is missing",
        path.display()
    );
    eprintln!("skipped: {} is not there", path.display());
    None
}
