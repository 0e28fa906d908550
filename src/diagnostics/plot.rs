//! SVG charts of training diagnostics (feature `plot`): loss curves, gradient norms per layer
//! on a log scale, saturation, saliency against ablation.
//!
//! Each function draws [`Series`] (from a [`Trace`](super::Trace), or made by hand) into an SVG
//! file with [`plotters`]. On a logarithmic axis, points that are not positive have no place
//! and are left out.

use std::format;
use std::io;
use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use super::Series;

/// Titles and scales of a chart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Chart<'a> {
    /// The caption above the chart.
    pub title: &'a str,
    /// The horizontal axis' description.
    pub x_label: &'a str,
    /// The vertical axis' description.
    pub y_label: &'a str,
    /// A logarithmic horizontal axis.
    pub log_x: bool,
    /// A logarithmic vertical axis.
    pub log_y: bool,
}

/// Draws each series as a line, with a legend.
///
/// # Errors
/// If the file cannot be written, or no series has a point to draw.
pub fn lines(path: impl AsRef<Path>, chart: &Chart<'_>, series: &[Series]) -> io::Result<()> {
    draw(path.as_ref(), chart, series, false)
}

/// Draws each series as points, with a legend.
///
/// # Errors
/// If the file cannot be written, or no series has a point to draw.
pub fn scatter(path: impl AsRef<Path>, chart: &Chart<'_>, series: &[Series]) -> io::Result<()> {
    draw(path.as_ref(), chart, series, true)
}

/// Colours that stay apart on white, then plotters' palette.
fn colour(i: usize) -> RGBColor {
    const COLOURS: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    COLOURS.get(i).copied().unwrap_or_else(|| {
        let (r, g, b) = Palette99::pick(i).rgb();
        RGBColor(r, g, b)
    })
}

/// The range of the drawable values, widened a little; `None` if there are none.
fn range(values: impl Iterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    let (low, high) = values
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if low > high {
        return None;
    }
    Some(if log {
        (low / 1.5, high * 1.5)
    } else if low == high {
        (low - 1.0, high + 1.0)
    } else {
        let pad = 0.05 * (high - low);
        (low - pad, high + pad)
    })
}

fn draw(path: &Path, chart: &Chart<'_>, series: &[Series], points: bool) -> io::Result<()> {
    let xs = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)), chart.log_x);
    let ys = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)), chart.log_y);
    let (Some((x0, x1)), Some((y0, y1))) = (xs, ys) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("nothing to draw in {}", chart.title),
        ));
    };
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    let result = match (chart.log_x, chart.log_y) {
        (false, false) => draw_on(&root, chart, series, points, x0..x1, y0..y1),
        (false, true) => draw_on(&root, chart, series, points, x0..x1, (y0..y1).log_scale()),
        (true, false) => draw_on(&root, chart, series, points, (x0..x1).log_scale(), y0..y1),
        (true, true) => draw_on(&root, chart, series, points, (x0..x1).log_scale(), (y0..y1).log_scale()),
    };
    result.and_then(|()| root.present()).map_err(io::Error::other)
}

type DrawResult = Result<(), DrawingAreaErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>>;

fn draw_on<X, Y>(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    chart: &Chart<'_>,
    series: &[Series],
    points: bool,
    x: X,
    y: Y,
) -> DrawResult
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    root.fill(&WHITE)?;
    let mut context = ChartBuilder::on(root)
        .caption(chart.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(x, y)?;
    let scientific = |v: &f64| format!("{v:.0e}");
    let plain = |v: &f64| format!("{v}");
    let mut mesh = context.configure_mesh();
    mesh.x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .light_line_style(WHITE.mix(0.0));
    if chart.log_x {
        mesh.x_label_formatter(&scientific);
    } else {
        mesh.x_label_formatter(&plain);
    }
    if chart.log_y {
        mesh.y_label_formatter(&scientific);
    }
    mesh.draw()?;
    let keep = |&&(px, py): &&(f64, f64)| {
        px.is_finite() && py.is_finite() && (!chart.log_x || px > 0.0) && (!chart.log_y || py > 0.0)
    };
    for (i, s) in series.iter().enumerate() {
        let colour = colour(i);
        let data = s.points.iter().filter(keep).copied();
        let drawn = if points {
            context.draw_series(data.map(|p| Circle::new(p, 4, colour.filled())))?
        } else {
            context.draw_series(LineSeries::new(data, colour.stroke_width(2)))?
        };
        drawn
            .label(s.label.as_str())
            .legend(move |(lx, ly)| PathElement::new([(lx, ly), (lx + 20, ly)], colour.stroke_width(3)));
    }
    context
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_written_as_svg_and_empty_ones_refused() {
        let dir = std::env::temp_dir().join(format!("static-nn-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut a = Series::new("first");
        a.points = vec![(1.0, 1e-3), (2.0, 1e-5), (3.0, 0.0)];
        let mut b = Series::new("second");
        b.points = vec![(1.0, 0.5), (2.0, 0.25)];
        let chart = Chart {
            title: "gradient norms",
            x_label: "step",
            y_label: "‖g‖",
            log_y: true,
            ..Chart::default()
        };
        let path = dir.join("lines.svg");
        lines(&path, &chart, &[a.clone(), b.clone()]).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("gradient norms") && svg.contains("second"));
        scatter(dir.join("scatter.svg"), &Chart { log_y: false, ..chart }, &[a]).unwrap();
        let empty = lines(dir.join("empty.svg"), &chart, &[Series::new("none")]);
        assert_eq!(empty.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
