//! Real public data for expedite, and the analytics over it.
//!
//! Four sources answer the questions behind the "expedite" initiative (DESIGN.md, "Data"):
//!
//! - [`sipri`]: the SIPRI Arms Transfers Database trade register, as a user downloads it
//!   from SIPRI. [`sipri::read_path`] and [`sipri::read`] parse both the old one-row-per-deal
//!   layout and the newer one-row-per-delivery-year layout; [`sipri::leadtime`] turns deals
//!   into lead times from order to first and to full delivery, by supplier, recipient,
//!   category or pair. The program never ships SIPRI's file: the caller passes it in.
//! - [`nato`]: NATO's published defence expenditure (share of GDP and of equipment, by
//!   member and year, 2014–2025), the members and the targets, shipped as the project's own
//!   CSV files under `data/nato/` and compiled in. [`nato::NatoData::builtin`] is the start.
//! - [`dsca`]: DSCA's congressional notifications of proposed sales to European allies and
//!   comparison buyers, 2022–2025, with the source address of each (`data/dsca/`).
//! - [`replay`]: the DSCA notifications judged under a rule set and under the law in force
//!   on each date: which would Congress not have seen under a bill?
//! - [`capacity`]: a catalog of US production lines (PAC-3 MSE, GMLRS, HIMARS, Javelin,
//!   155 mm shells, F-35, AH-64E, M1A2) with rates as published and a citation per number
//!   (`data/capacity/lines.toml`), and the mapping from notification items to those lines.
//! - [`timelines`]: 43 real sales with their dated milestones, request to final delivery
//!   (`data/cases/timelines.csv`, facts complete to 2026-03-31), the ground truth of
//!   `expedite calibrate` and `expedite backtest`.
//! - [`sources`]: every data source with the day it was last refreshed; older than a year
//!   is stale.
//! - [`demo`]: the scenario template of `expedite demo`, where every assumption the public
//!   data cannot supply is written down (`data/demo/scenario-template.toml`).
//!
//! Nothing here reads a global path or the clock: files and readers come from the caller.
//! Every parse error is a [`DataError`] naming the input, the line and the field.
//!
//! ```
//! let nato = expedite_data::nato::NatoData::builtin().expect("the shipped files parse");
//! let status = nato.status(Some(2023), expedite_data::Percent::from_hundredths(200));
//! assert_eq!(status.expect("2023 has figures").count_meeting, 10);
//! ```

pub mod capacity;
pub mod demo;
pub mod dsca;
mod error;
pub mod nato;
mod percent;
pub mod replay;
pub mod sipri;
pub mod sources;
pub mod stats;
pub mod timelines;

pub use error::DataError;
pub use percent::Percent;
