//! Real case timelines: see the crate documentation.
