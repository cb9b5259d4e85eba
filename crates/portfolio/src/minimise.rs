//! The two minimisers the fits need, from argmin rather than written here: golden-section
//! search on an interval (one parameter, unimodal) and Nelder–Mead (two parameters, smooth).
//! Pure numerics: no I/O.

use argmin::core::{CostFunction, Error, Executor, State};
use argmin::solver::goldensectionsearch::GoldenSectionSearch;
use argmin::solver::neldermead::NelderMead;

/// A closure as argmin's cost function.
struct Cost<F>(F);

impl<F: Fn(f64) -> f64> CostFunction for Cost<F> {
    type Param = f64;
    type Output = f64;

    fn cost(&self, x: &f64) -> Result<f64, Error> {
        Ok((self.0)(*x))
    }
}

/// A closure of two variables as argmin's cost function.
struct Cost2<F>(F);

impl<F: Fn([f64; 2]) -> f64> CostFunction for Cost2<F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, point: &Vec<f64>) -> Result<f64, Error> {
        match point.as_slice() {
            [x, y] => Ok((self.0)([*x, *y])),
            _ => Err(Error::msg("a point of two coordinates")),
        }
    }
}

/// The smallest point of `f` on `[low, high]`, where it must be unimodal, to a relative
/// `tolerance`; `None` if the interval is empty or not finite.
pub fn golden_section(f: impl Fn(f64) -> f64, low: f64, high: f64, tolerance: f64) -> Option<f64> {
    let solver = GoldenSectionSearch::new(low, high)
        .and_then(|solver| solver.with_tolerance(tolerance))
        .ok()?;
    let result = Executor::new(Cost(f), solver)
        .configure(|state| state.param((low + high) / 2.0).max_iters(500))
        .run()
        .ok()?;
    result.state().get_best_param().copied()
}

/// The smallest point of the smooth `f` near `start` (Nelder–Mead from the simplex of
/// `start` and two points half a unit along each axis), stopping when the values at the
/// simplex's corners agree to `1e-12`; `None` if it fails.
pub fn nelder_mead(f: impl Fn([f64; 2]) -> f64, start: [f64; 2]) -> Option<[f64; 2]> {
    let simplex = vec![
        vec![start[0], start[1]],
        vec![start[0] + 0.5, start[1]],
        vec![start[0], start[1] + 0.5],
    ];
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-12).ok()?;
    let result = Executor::new(Cost2(f), solver)
        .configure(|state| state.max_iters(2000))
        .run()
        .ok()?;
    match result.state().get_best_param()?.as_slice() {
        [x, y] => Some([*x, *y]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_section_finds_the_bottom_of_a_parabola() {
        let bottom = golden_section(|x| (x - 479.0).powi(2), -3650.0, 3650.0, 1e-9);
        assert!(
            bottom.is_some_and(|x| (x - 479.0).abs() < 1e-3),
            "{bottom:?}"
        );
    }

    #[test]
    fn golden_section_refuses_an_empty_interval() {
        assert_eq!(golden_section(|x| x * x, 1.0, 1.0, 1e-9), None);
    }

    #[test]
    fn nelder_mead_finds_the_bottom_of_a_bowl() {
        let bottom = nelder_mead(
            |[x, y]| (x - 5.3).powi(2) + 3.0 * (y + 0.9).powi(2),
            [0.0, 0.0],
        );
        let [x, y] = bottom.expect("a bottom");
        assert!((x - 5.3).abs() < 1e-4 && (y + 0.9).abs() < 1e-4, "{x}, {y}");
    }
}
