//! Writes a synthetic portfolio scenario to stdout.
//!
//! `cargo run --release -p expedite-forecast --example generate_portfolio -- --cases 2000
//! --lines 30 --seed 1 > big.toml`

use std::process::ExitCode;

use expedite_forecast::generate::{PortfolioSpec, portfolio};

fn main() -> ExitCode {
    match spec_from_args(std::env::args().skip(1)) {
        Ok(spec) => match toml::to_string(&portfolio(spec)) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::from(2)
            }
        },
        Err(message) => {
            eprintln!(
                "error: {message}\nusage: generate_portfolio [--cases N] [--lines N] [--seed N]"
            );
            ExitCode::from(2)
        }
    }
}

fn spec_from_args(mut args: impl Iterator<Item = String>) -> Result<PortfolioSpec, String> {
    let mut spec = PortfolioSpec {
        cases: 2000,
        lines: 30,
        seed: 1,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: '{value}' is not a whole number"))?;
        let size = usize::try_from(number).map_err(|_| format!("{flag}: {number} is too large"))?;
        match flag.as_str() {
            "--cases" => spec.cases = size,
            "--lines" => spec.lines = size.max(1),
            "--seed" => spec.seed = number,
            _ => return Err(format!("unknown flag '{flag}'")),
        }
    }
    Ok(spec)
}
