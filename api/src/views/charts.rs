//! A small server-side SVG chart renderer for the console (no script, no inline style): bar, line
//! and ranking charts with axis ticks, an accessible title and description, and the same numbers
//! as a data table for screen readers. Every label is escaped here; templates insert `svg` as is.

use std::fmt::Write;

/// One rendered chart: the SVG markup (escaped, safe to insert) and its data table.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Unique on the page; used for element ids.
    pub id: String,
    pub title: String,
    /// One sentence saying what the chart shows (also the SVG's `<desc>`).
    pub summary: String,
    pub svg: String,
    pub table: Table,
}

/// The chart's numbers as rows, shown as the fallback table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// How values are shown on ticks, in tooltips and in the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    Count,
    /// A ratio 0–1, shown as a percentage.
    Ratio,
    /// Milliseconds, shown in ms, s, min or h.
    Millis,
    /// A 0–100 score with one decimal.
    Score,
}

impl Unit {
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Count => format!("{}", v.round() as i64),
            Unit::Ratio => trim(format!("{:.1}", v * 100.0)) + "%",
            Unit::Score => trim(format!("{v:.1}")),
            Unit::Millis => {
                let ms = v.abs();
                if ms < 1000.0 {
                    format!("{} ms", v.round() as i64)
                } else if ms < 60_000.0 {
                    trim(format!("{:.1}", v / 1000.0)) + " s"
                } else if ms < 3_600_000.0 {
                    trim(format!("{:.1}", v / 60_000.0)) + " min"
                } else {
                    trim(format!("{:.1}", v / 3_600_000.0)) + " h"
                }
            }
        }
    }
}

/// `12.0` → `12`, `12.5` stays.
pub(super) fn trim(s: String) -> String {
    match s.strip_suffix(".0") {
        Some(t) => t.to_owned(),
        None => s,
    }
}

/// One named series of values, one per x label (`None`: no value there).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    /// An SVG colour (a presentation attribute, allowed by the CSP).
    pub color: &'static str,
    pub values: Vec<Option<f64>>,
}

impl Series {
    /// The median (blue) and p90 (amber) series of one quantity.
    pub fn median_and_p90(median: Vec<Option<f64>>, p90: Vec<Option<f64>>) -> [Series; 2] {
        [
            Series {
                name: "Median".into(),
                color: BLUE,
                values: median,
            },
            Series {
                name: "p90".into(),
                color: AMBER,
                values: p90,
            },
        ]
    }
}

pub const BLUE: &str = "#0b5cad";
pub const RED: &str = "#cf222e";
pub const GREEN: &str = "#1a7f37";
pub const AMBER: &str = "#9a6700";

/// Escapes text for SVG/HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters of `s`, with an ellipsis when cut.
pub(super) fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n.saturating_sub(1)).collect::<String>() + "…"
    }
}

/// Tick values from 0 to a "nice" maximum at or above `max` (steps of 1, 2 or 5 × 10ⁿ).
pub fn ticks(max: f64, unit: Unit) -> Vec<f64> {
    let floor = match unit {
        Unit::Count => 1.0,
        Unit::Ratio => 0.1,
        Unit::Millis => 1000.0,
        Unit::Score => 100.0,
    };
    let max = if max.is_finite() && max > 0.0 {
        max.max(floor)
    } else {
        floor
    };
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let step = if unit == Unit::Count {
        step.max(1.0).round()
    } else {
        step
    };
    let mut out = vec![0.0];
    while *out.last().unwrap_or(&0.0) < max - 1e-9 && out.len() < 12 {
        out.push(out.len() as f64 * step);
    }
    out
}

pub(super) const W: f64 = 640.0;
pub(super) const H: f64 = 240.0;
pub(super) const LEFT: f64 = 64.0;
pub(super) const RIGHT: f64 = 12.0;
pub(super) const TOP: f64 = 28.0;
pub(super) const BOTTOM: f64 = 36.0;

pub(super) fn open_svg(out: &mut String, id: &str, title: &str, summary: &str, height: f64) {
    let _ = write!(
        out,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {height}\" \
         role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" aria-label=\"{t}\">\
         <title id=\"{id}-title\">{t}</title><desc id=\"{id}-desc\">{s}</desc>",
        id = esc(id),
        t = esc(title),
        s = esc(summary),
    );
}

pub(super) fn legend(out: &mut String, series: &[Series]) {
    if series.len() < 2 {
        return;
    }
    let mut x = LEFT;
    for s in series {
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"15\" font-size=\"11\" fill=\"#1b1f24\">{}</text>",
            s.color,
            x + 14.0,
            esc(&s.name)
        );
        x += 24.0 + 7.0 * s.name.chars().count() as f64;
    }
}

/// Horizontal grid lines with y tick labels, the x labels (thinned to about eight), and the axes.
pub(super) fn axes(out: &mut String, labels: &[String], ticks: &[f64], unit: Unit) {
    let top_value = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    for t in ticks {
        let y = y_of(*t, top_value);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d5dae0\"/>\
             <text class=\"tick\" x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#59636e\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&unit.format(*t))
        );
    }
    let n = labels.len().max(1);
    let every = n.div_ceil(8);
    let slot = (W - LEFT - RIGHT) / n as f64;
    for (i, l) in labels.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let x = LEFT + slot * (i as f64 + 0.5);
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{x:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#59636e\">{}</text>",
            H - BOTTOM + 16.0,
            esc(&short_date(l))
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{b}\" stroke=\"#59636e\"/>\
         <line x1=\"{LEFT}\" x2=\"{}\" y1=\"{b}\" y2=\"{b}\" stroke=\"#59636e\"/>",
        W - RIGHT,
        b = H - BOTTOM
    );
}

/// `2026-11-02` → `11-02` on the axis (other labels as they are).
pub(super) fn short_date(l: &str) -> String {
    if l.len() == 10 && l.as_bytes()[4] == b'-' {
        l[5..].to_owned()
    } else {
        shorten(l, 10)
    }
}

pub(super) fn y_of(v: f64, top: f64) -> f64 {
    let plot = H - TOP - BOTTOM;
    H - BOTTOM - plot * (v / top).clamp(0.0, 1.0)
}

pub(super) fn table_of(labels: &[String], series: &[Series], unit: Unit, first: &str) -> Table {
    let mut headers = vec![first.to_owned()];
    headers.extend(series.iter().map(|s| s.name.clone()));
    let rows = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut row = vec![l.clone()];
            row.extend(series.iter().map(|s| {
                s.values
                    .get(i)
                    .copied()
                    .flatten()
                    .map_or_else(|| "–".to_owned(), |v| unit.format(v))
            }));
            row
        })
        .collect();
    Table { headers, rows }
}

pub use super::charts_draw::{BarLayout, Ranking, TimeChart};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(7.0, Unit::Count), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(ticks(0.0, Unit::Count), vec![0.0, 1.0]);
        assert_eq!(ticks(100.0, Unit::Score), vec![0.0, 50.0, 100.0]);
        let r = ticks(0.33, Unit::Ratio);
        assert!(*r.last().expect("a tick") >= 0.33 && r.len() <= 6, "{r:?}");
    }

    #[test]
    fn labels_are_escaped_and_bars_carry_their_values() {
        let labels = vec!["2026-11-02".to_owned(), "2026-11-03".to_owned()];
        let series = [Series {
            name: "<b>Runs</b>".into(),
            color: BLUE,
            values: vec![Some(3.0), Some(0.0)],
        }];
        let c = TimeChart {
            id: "r",
            title: "Runs & <failures>",
            summary: "s",
            labels: &labels,
            unit: Unit::Count,
        }
        .bars(&series, BarLayout::SideBySide);
        assert!(!c.svg.contains("<b>"), "{}", c.svg);
        assert!(c.svg.contains("Runs &amp; &lt;failures&gt;"));
        assert_eq!(c.svg.matches("class=\"bar\"").count(), 1, "no bar for zero");
        assert!(c.svg.contains("data-x=\"2026-11-02\""));
        assert_eq!(c.table.rows[0], vec!["2026-11-02", "3"]);
        assert_eq!(Unit::Millis.format(90_000.0), "1.5 min");
        assert_eq!(Unit::Ratio.format(0.25), "25%");
    }
}
