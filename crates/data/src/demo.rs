//! The scenario template of `expedite demo`: the assumptions the demo needs and public data
//! does not give (the stage of each case on a date, stage durations, backlogs, build times,
//! the expedite policy), each labelled as an assumption or sourced in the file.
//!
//! The file is `data/demo/scenario-template.toml`, compiled in. This crate only ships it;
//! `expedite_portfolio::template` reads and checks it.

/// The shipped template (TOML).
pub const SCENARIO_TEMPLATE: &str = include_str!("../data/demo/scenario-template.toml");
