//! Charts as SVG drawn on the server with plotters: every chart has a title and axis labels,
//! and the page puts a table with the same numbers beside it (the text alternative).
//!
//! Four shapes serve every page: rows of dates (a timeline or a fan chart: points and
//! P10–P90 bands with a P50 tick), horizontal bars (counts, shares) with reference lines,
//! lines over a numeric axis (rates over time, a share over the years), and lines over
//! quarters (the metrics).

use std::ops::Range;

use expedite_core::Date;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::PageError;

/// Colours of the series, in order; chosen to stay apart for common colour blindness.
const COLOURS: [RGBColor; 6] = [
    RGBColor(0, 90, 181),
    RGBColor(220, 50, 32),
    RGBColor(0, 140, 80),
    RGBColor(150, 70, 160),
    RGBColor(200, 120, 0),
    RGBColor(90, 90, 90),
];

const WIDTH: u32 = 860;
const FONT: &str = "sans-serif";

fn colour(series: usize) -> RGBColor {
    COLOURS[series % COLOURS.len()]
}

fn chart_error(error: impl std::fmt::Debug) -> PageError {
    PageError::Internal(format!("chart: {error:?}"))
}

/// The drawing area a chart is drawn on.
type Canvas<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A chart over two numeric axes on a [`Canvas`].
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws one chart with `draw` on a white canvas `height` pixels high and returns it as a
/// named, scalable SVG ([`finish`]).
fn svg_chart(
    title: &str,
    height: u32,
    draw: impl FnOnce(&Canvas<'_>) -> Result<(), PageError>,
) -> Result<String, PageError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        draw(&root)?;
        root.present().map_err(chart_error)?;
    }
    Ok(finish(svg, title))
}

/// The chart area every shape shares: the title as caption, the same margin and room for
/// the x axis's labels; `y_label_width` is the room for the y axis's.
fn chart_on<'a, 'b>(
    root: &'a Canvas<'b>,
    title: &str,
    y_label_width: u32,
    x: Range<f64>,
    y: Range<f64>,
) -> Result<Chart<'a, 'b>, PageError> {
    ChartBuilder::on(root)
        .caption(title, (FONT, 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(y_label_width)
        .build_cartesian_2d(x, y)
        .map_err(chart_error)
}

/// The legend box every shape draws, in the corner its marks leave free.
fn draw_legend<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    position: SeriesLabelPosition,
) -> Result<(), PageError> {
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(chart_error)
}

/// A line's legend entry: a short stroke in its colour.
fn line_legend(paint: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], paint.stroke_width(2))
}

/// Splits points at quarter indexes (x) that do not follow each other, so a line drawn
/// through each run leaves a gap where a quarter has no figure. The page of `expedite
/// metrics --report` draws its lines the same way.
pub fn quarter_runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    for &point in points {
        match runs.last_mut() {
            Some(run)
                if run
                    .last()
                    .is_some_and(|last| (point.0 - last.0 - 1.0).abs() < 0.01) =>
            {
                run.push(point);
            }
            _ => runs.push(vec![point]),
        }
    }
    runs
}

/// Days since 1970-01-01, as the charts' x axis counts dates.
pub fn day_number(date: Date) -> f64 {
    date.duration_since(Date::constant(1970, 1, 1)).as_secs() as f64 / 86_400.0
}

fn date_of_day(day: f64) -> String {
    let seconds = (day.round() as i64).saturating_mul(86_400);
    Date::constant(1970, 1, 1)
        .checked_add(jiff::SignedDuration::from_secs(seconds))
        .map(|date| date.to_string())
        .unwrap_or_default()
}

/// Makes plotters' SVG scale with the page and read as one image with a name.
fn finish(svg: String, title: &str) -> String {
    let label: String = title
        .chars()
        .map(|c| match c {
            '"' => '\''.to_string(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            other => other.to_string(),
        })
        .collect();
    svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" class=\"chart\" "),
        1,
    )
}

/// One mark on a row of dates.
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    /// A day something happened or is due.
    Point {
        /// The day.
        date: Date,
        /// Which series (colour and legend entry).
        series: usize,
    },
    /// A forecast band from P10 to P90 with a tick at P50.
    Band {
        /// 10th percentile.
        p10: Date,
        /// Median.
        p50: Date,
        /// 90th percentile.
        p90: Date,
        /// Which series.
        series: usize,
    },
}

/// One labelled row of a date chart.
#[derive(Debug, Clone)]
pub struct Row {
    /// The row's label on the y axis.
    pub label: String,
    /// Its marks.
    pub marks: Vec<Mark>,
}

/// Rows of dates: a case's timeline, or a fan chart of many cases.
///
/// # Errors
/// A drawing failure, as [`PageError::Internal`].
pub fn date_rows(
    title: &str,
    series: &[&str],
    rows: &[Row],
    today: Option<Date>,
) -> Result<String, PageError> {
    let days: Vec<f64> = rows
        .iter()
        .flat_map(|row| row.marks.iter())
        .flat_map(|mark| match *mark {
            Mark::Point { date, .. } => vec![day_number(date)],
            Mark::Band { p10, p90, .. } => vec![day_number(p10), day_number(p90)],
        })
        .chain(today.map(day_number))
        .collect();
    let (mut first, mut last) = days
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), &day| {
            (low.min(day), high.max(day))
        });
    if !first.is_finite() {
        (first, last) = (0.0, 1.0);
    }
    let margin = ((last - first) * 0.04).max(15.0);
    let count = rows.len().max(1);
    let height = u32::try_from(110 + 26 * count).unwrap_or(4_000).min(4_000);
    let label_width = rows
        .iter()
        .map(|row| row.label.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 40);
    svg_chart(title, height, |root| {
        let mut chart = chart_on(
            root,
            title,
            u32::try_from(label_width * 7 + 10).unwrap_or(200),
            (first - margin)..(last + margin),
            -0.5..count as f64 - 0.5,
        )?;
        let labels: Vec<String> = rows.iter().map(|row| row.label.clone()).collect();
        chart
            .configure_mesh()
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 14))
            .disable_y_mesh()
            .y_labels(count + 1)
            .y_label_formatter(&|y| {
                if (y - y.round()).abs() > 1e-6 || *y < 0.0 {
                    return String::new();
                }
                let from_top = count.saturating_sub(y.round() as usize + 1);
                labels.get(from_top).cloned().unwrap_or_default()
            })
            .x_labels(6)
            .x_label_formatter(&|x| date_of_day(*x))
            .x_desc("date")
            .draw()
            .map_err(chart_error)?;
        let row_y = |index: usize| (count - index - 1) as f64;
        let series_count = series.len().max(1);
        for (series_index, name) in series.iter().enumerate() {
            let paint = colour(series_index);
            let band_height = 0.7 / series_count as f64;
            let offset = |y: f64| y - 0.35 + band_height * series_index as f64;
            let mut bands = Vec::new();
            let mut points = Vec::new();
            for (index, row) in rows.iter().enumerate() {
                for mark in &row.marks {
                    match *mark {
                        Mark::Band {
                            p10,
                            p50,
                            p90,
                            series,
                        } if series == series_index => {
                            bands.push((offset(row_y(index)), p10, p50, p90));
                        }
                        Mark::Point { date, series } if series == series_index => {
                            points.push((day_number(date), row_y(index)));
                        }
                        _ => {}
                    }
                }
            }
            let legend = move |(x, y): (i32, i32)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], paint.filled())
            };
            if !bands.is_empty() {
                chart
                    .draw_series(bands.iter().map(|&(y, p10, _, p90)| {
                        Rectangle::new(
                            [
                                (day_number(p10), y),
                                (day_number(p90) + 1.0, y + band_height * 0.9),
                            ],
                            paint.mix(0.4).filled(),
                        )
                    }))
                    .map_err(chart_error)?
                    .label(*name)
                    .legend(legend);
                chart
                    .draw_series(bands.iter().map(|&(y, _, p50, _)| {
                        PathElement::new(
                            vec![
                                (day_number(p50), y),
                                (day_number(p50), y + band_height * 0.9),
                            ],
                            paint.stroke_width(3),
                        )
                    }))
                    .map_err(chart_error)?;
            } else if !points.is_empty() {
                chart
                    .draw_series(
                        points
                            .iter()
                            .map(|&point| Circle::new(point, 6, paint.filled())),
                    )
                    .map_err(chart_error)?
                    .label(*name)
                    .legend(legend);
            }
        }
        if let Some(today) = today {
            let x = day_number(today);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, -0.5), (x, count as f64 - 0.5)],
                    BLACK.mix(0.6).stroke_width(1),
                )))
                .map_err(chart_error)?
                .label("today")
                .legend(|(x, y)| PathElement::new(vec![(x + 7, y - 6), (x + 7, y + 6)], BLACK));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

/// Horizontal bars with optional vertical reference lines (e.g. the 2 % target).
///
/// # Errors
/// A drawing failure, as [`PageError::Internal`].
pub fn bars(
    title: &str,
    value_label: &str,
    bars: &[(String, f64)],
    references: &[(f64, String)],
) -> Result<String, PageError> {
    let count = bars.len().max(1);
    let top = bars
        .iter()
        .map(|(_, value)| *value)
        .chain(references.iter().map(|(value, _)| *value))
        .fold(0.0_f64, f64::max)
        .max(1e-9)
        * 1.08;
    let height = u32::try_from(100 + 22 * count).unwrap_or(4_000).min(4_000);
    let label_width = bars
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(6, 36);
    svg_chart(title, height, |root| {
        let mut chart = chart_on(
            root,
            title,
            u32::try_from(label_width * 7 + 10).unwrap_or(200),
            0.0..top,
            -0.5..count as f64 - 0.5,
        )?;
        let labels: Vec<String> = bars.iter().map(|(label, _)| label.clone()).collect();
        chart
            .configure_mesh()
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 14))
            .disable_y_mesh()
            .y_labels(count + 1)
            .y_label_formatter(&|y| {
                if (y - y.round()).abs() > 1e-6 || *y < 0.0 {
                    return String::new();
                }
                let from_top = count.saturating_sub(y.round() as usize + 1);
                labels.get(from_top).cloned().unwrap_or_default()
            })
            .x_label_formatter(&|x| {
                if (x - x.round()).abs() < 1e-9 {
                    format!("{}", x.round() as i64)
                } else {
                    format!("{x:.1}")
                }
            })
            .x_desc(value_label)
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(index, (_, value))| {
                let y = (count - index - 1) as f64;
                Rectangle::new([(0.0, y - 0.35), (*value, y + 0.35)], colour(0).filled())
            }))
            .map_err(chart_error)?;
        for (index, (value, name)) in references.iter().enumerate() {
            let paint = colour(index + 1);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(*value, -0.5), (*value, count as f64 - 0.5)],
                    paint.stroke_width(2),
                )))
                .map_err(chart_error)?
                .label(name.as_str())
                .legend(line_legend(paint));
        }
        if !references.is_empty() {
            draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    })
}

/// One named line of (x, y) points.
#[derive(Debug, Clone)]
pub struct Line {
    /// The legend entry.
    pub name: String,
    /// Points in x order.
    pub points: Vec<(f64, f64)>,
    /// Whether the value holds until the next point (a rate step) instead of sloping to it.
    pub steps: bool,
}

/// Lines over a numeric x axis. `x_is_date` reads x as a day number ([`day_number`]).
///
/// # Errors
/// A drawing failure, as [`PageError::Internal`].
pub fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    lines: &[Line],
    x_is_date: bool,
) -> Result<String, PageError> {
    let points = lines.iter().flat_map(|line| line.points.iter());
    let (mut x_low, mut x_high, mut y_high) = (f64::INFINITY, f64::NEG_INFINITY, 0.0_f64);
    for &(x, y) in points {
        x_low = x_low.min(x);
        x_high = x_high.max(x);
        y_high = y_high.max(y);
    }
    if !x_low.is_finite() {
        (x_low, x_high) = (0.0, 1.0);
    }
    if (x_high - x_low).abs() < 1e-9 {
        x_high = x_low + 1.0;
    }
    let y_high = y_high.max(1e-9) * 1.1;
    svg_chart(title, 320, |root| {
        let mut chart = chart_on(root, title, 60, x_low..x_high, 0.0..y_high)?;
        let x_format = |x: &f64| {
            if x_is_date {
                date_of_day(*x)
            } else {
                format!("{}", x.round() as i64)
            }
        };
        chart
            .configure_mesh()
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 14))
            .x_labels(6)
            .x_label_formatter(&x_format)
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()
            .map_err(chart_error)?;
        for (index, line) in lines.iter().enumerate() {
            let paint = colour(index);
            let mut drawn: Vec<(f64, f64)> = Vec::new();
            for (position, &(x, y)) in line.points.iter().enumerate() {
                if line.steps
                    && let Some(&(_, previous)) = position
                        .checked_sub(1)
                        .and_then(|before| line.points.get(before))
                {
                    drawn.push((x, previous));
                }
                drawn.push((x, y));
            }
            if line.steps
                && let Some(&(_, y)) = line.points.last()
            {
                drawn.push((x_high, y));
            }
            chart
                .draw_series(LineSeries::new(drawn, paint.stroke_width(2)))
                .map_err(chart_error)?
                .label(line.name.as_str())
                .legend(line_legend(paint));
            chart
                .draw_series(
                    line.points
                        .iter()
                        .map(|&point| Circle::new(point, 3, paint.filled())),
                )
                .map_err(chart_error)?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    })
}

/// Lines over quarters: x is the quarter's index in `quarters` (its label on the axis), and
/// a line joins consecutive quarters only, so a quarter without a figure is a gap.
///
/// # Errors
/// A drawing failure, as [`PageError::Internal`].
pub fn by_quarter(
    title: &str,
    y_label: &str,
    quarters: &[String],
    lines: &[Line],
) -> Result<String, PageError> {
    let right = quarters.len().saturating_sub(1).max(1) as f64;
    let y_high = lines
        .iter()
        .flat_map(|line| line.points.iter().map(|&(_, y)| y))
        .fold(1.0_f64, f64::max)
        * 1.1;
    svg_chart(title, 340, |root| {
        let mut chart = chart_on(root, title, 60, -0.3..right + 0.3, 0.0..y_high)?;
        chart
            .configure_mesh()
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 14))
            .x_labels(quarters.len().clamp(2, 8))
            .x_label_formatter(&|x| {
                let index = x.round();
                if (x - index).abs() > 0.01 || index < 0.0 {
                    return String::new();
                }
                quarters.get(index as usize).cloned().unwrap_or_default()
            })
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_desc("quarter")
            .y_desc(y_label)
            .draw()
            .map_err(chart_error)?;
        for (index, line) in lines.iter().enumerate() {
            let paint = colour(index);
            for run in quarter_runs(&line.points) {
                chart
                    .draw_series(LineSeries::new(run, paint.stroke_width(2)))
                    .map_err(chart_error)?;
            }
            chart
                .draw_series(
                    line.points
                        .iter()
                        .map(|&point| Circle::new(point, 3, paint.filled())),
                )
                .map_err(chart_error)?
                .label(line.name.as_str())
                .legend(line_legend(paint));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_one_named_image_with_its_title_and_axis_label() {
        let svg = bars(
            "Cases by stage",
            "cases",
            &[("offered".to_owned(), 3.0), ("<script>".to_owned(), 1.0)],
            &[],
        )
        .expect("chart");
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"Cases by stage\""));
        assert!(
            svg.matches("Cases by stage").count() >= 2,
            "title in the label and the caption"
        );
        assert!(svg.contains("cases"), "the axis label");
        assert!(!svg.contains("<script>"), "labels are escaped");
    }

    #[test]
    fn day_numbers_read_back_as_the_same_date() {
        let day = Date::constant(2025, 3, 1);
        assert_eq!(date_of_day(day_number(day)), "2025-03-01");
    }
}
