//! PNG plots (plotters): training curves, spectrogram comparisons, dynamics sweeps.
//!
//! Text needs a TrueType font; DejaVu Sans (Debian `fonts-dejavu-core`, installed by
//! scripts/setup.sh) is registered on first use.

use plotters::prelude::*;
use std::path::Path;

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

fn ensure_font() -> Result<(), String> {
    static FONT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| {
        for p in FONT_PATHS {
            if let Ok(bytes) = std::fs::read(p) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                return plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                    .map_err(|_| format!("{p}: not a usable font"));
            }
        }
        Err(format!("no TrueType font found for plot labels (looked at {})", FONT_PATHS.join(", ")))
    })
    .clone()
}

type PlotResult = Result<(), String>;

fn err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> String + '_ {
    move |e| format!("{}: cannot draw plot: {e}", path.display())
}

/// Line plot of one or more named curves of (x, y) points.
pub fn curves(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(&str, Vec<(f32, f32)>)],
    log_y: bool,
) -> PlotResult {
    ensure_font()?;
    let e = err(path);
    let root = BitMapBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let pts = series.iter().flat_map(|(_, s)| s.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return Err(format!("{}: nothing to plot", path.display()));
    }
    let pad = ((y1 - y0) * 0.05).max(1e-3);
    let colours = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            x0..x1.max(x0 + 1e-3),
            if log_y { (y0 - pad).max(1e-4)..y1 + pad } else { y0 - pad..y1 + pad },
        )
        .map_err(&e)?;
    chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw().map_err(&e)?;
    for (i, (name, s)) in series.iter().enumerate() {
        let c = colours[i % colours.len()];
        chart
            .draw_series(LineSeries::new(s.iter().copied(), c.stroke_width(2)))
            .map_err(&e)?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(())
}

/// Spectrograms side by side: each panel is (title, frames x bins of dB values, seconds per
/// frame, Hz per bin). Colour range: `floor_db`..0 relative to the loudest cell of all panels.
pub fn spectrograms(
    path: &Path,
    title: &str,
    panels: &[(String, Vec<Vec<f32>>, f32, f32)],
    floor_db: f32,
) -> PlotResult {
    ensure_font()?;
    let e = err(path);
    let cols = panels.len().clamp(1, 4) as u32;
    let rows = (panels.len() as u32).div_ceil(cols);
    let root = BitMapBackend::new(path, (420 * cols, 320 * rows + 40)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (top, body) = root.split_vertically(40);
    top.draw_text(title, &("sans-serif", 22).into_text_style(&top), (10, 10)).map_err(&e)?;
    let max_db = panels.iter().flat_map(|p| p.1.iter().flatten()).fold(f32::MIN, |m, &v| m.max(v));
    for (area, (name, frames, dt, df)) in body.split_evenly((rows as usize, cols as usize)).into_iter().zip(panels) {
        let t_max = frames.len() as f32 * dt;
        let bins = frames.first().map(Vec::len).unwrap_or(0);
        let f_max = bins as f32 * df;
        let mut chart = ChartBuilder::on(&area)
            .caption(name, ("sans-serif", 15))
            .margin(6)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0f32..t_max.max(1e-3), 0f32..f_max.max(1.0))
            .map_err(&e)?;
        chart.configure_mesh().disable_mesh().x_desc("s").y_desc("Hz").draw().map_err(&e)?;
        let cells = frames.iter().enumerate().flat_map(|(i, col)| {
            col.iter().enumerate().map(move |(j, &v)| {
                let level = ((v - max_db - floor_db) / -floor_db).clamp(0.0, 1.0);
                let c = ViridisRGB::get_color(level as f64);
                Rectangle::new([(i as f32 * dt, j as f32 * df), ((i + 1) as f32 * dt, (j + 1) as f32 * df)], c.filled())
            })
        });
        chart.draw_series(cells).map_err(&e)?;
    }
    root.present().map_err(&e)?;
    Ok(())
}

/// Line plots in a grid (3 columns): each panel is (title, named curves of (x, y) points); all
/// panels share one y range so they compare at a glance.
pub fn curve_panels(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    panels: &[(String, Vec<(String, Vec<(f32, f32)>)>)],
) -> PlotResult {
    ensure_font()?;
    let e = err(path);
    let cols = panels.len().clamp(1, 3) as u32;
    let rows = (panels.len() as u32).div_ceil(cols);
    let root = BitMapBackend::new(path, (440 * cols, 300 * rows + 40)).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let (top, body) = root.split_vertically(40);
    top.draw_text(title, &("sans-serif", 22).into_text_style(&top), (10, 10)).map_err(&e)?;
    let pts = || panels.iter().flat_map(|p| p.1.iter().flat_map(|s| s.1.iter()));
    let (x0, x1) = pts().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = pts().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    if x0 > x1 {
        return Err(format!("{}: nothing to plot", path.display()));
    }
    let colours = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    for (area, (name, series)) in body.split_evenly((rows as usize, cols as usize)).into_iter().zip(panels) {
        let mut chart = ChartBuilder::on(&area)
            .caption(name, ("sans-serif", 15))
            .margin(6)
            .x_label_area_size(30)
            .y_label_area_size(45)
            .build_cartesian_2d(x0..x1.max(x0 + 1e-3), y0..y1.max(y0 + 1e-3))
            .map_err(&e)?;
        chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw().map_err(&e)?;
        for (i, (label, s)) in series.iter().enumerate() {
            let c = colours[i % colours.len()];
            chart
                .draw_series(LineSeries::new(s.iter().copied(), c.stroke_width(1)))
                .map_err(&e)?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        }
        if series.len() > 1 {
            chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(&e)?;
        }
    }
    root.present().map_err(&e)?;
    Ok(())
}
