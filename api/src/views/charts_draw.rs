//! Drawing the console's charts as SVG: vertical bars (side by side or stacked), lines with points,
//! and a horizontal ranking. The model, scales and escaping are in `charts`.

use std::fmt::Write;

use super::charts::{
    Chart, H, LEFT, RIGHT, Series, TOP, Table, Unit, W, axes, esc, legend, open_svg, shorten,
    table_of, ticks, y_of,
};

/// How a bar chart draws several series at one label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarLayout {
    /// A bar per series, next to each other.
    SideBySide,
    /// Each series' bar on top of the ones before it.
    Stacked,
}

/// A chart over days (bars or lines): its element id, title, one-sentence summary, the day
/// labels of its x axis and the unit of its values.
pub struct TimeChart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub labels: &'a [String],
    pub unit: Unit,
}

impl TimeChart<'_> {
    /// The SVG up to its marks (frame, legend, axes scaled to `max`), the top of the scale and
    /// the width of one label's slot.
    fn open(&self, series: &[Series], max: f64) -> (String, f64, f64) {
        let ticks = ticks(max, self.unit);
        let top = ticks.last().copied().unwrap_or(1.0);
        let mut svg = String::new();
        open_svg(&mut svg, self.id, self.title, self.summary, H);
        legend(&mut svg, series);
        axes(&mut svg, self.labels, &ticks, self.unit);
        let slot = (W - LEFT - RIGHT) / self.labels.len().max(1) as f64;
        (svg, top, slot)
    }

    /// The chart, its SVG closed, with its data table.
    fn finish(&self, series: &[Series], mut svg: String) -> Chart {
        svg.push_str("</svg>");
        Chart {
            id: self.id.to_owned(),
            title: self.title.to_owned(),
            summary: self.summary.to_owned(),
            svg,
            table: table_of(self.labels, series, self.unit, "Day"),
        }
    }

    /// Vertical bars per x label: side by side, or stacked (each series on the ones before it).
    /// Bars of zero or no value are not drawn.
    pub fn bars(&self, series: &[Series], layout: BarLayout) -> Chart {
        let stacked = layout == BarLayout::Stacked;
        let (labels, unit) = (self.labels, self.unit);
        let value = |s: &Series, i: usize| s.values.get(i).copied().flatten().unwrap_or(0.0);
        let max = (0..labels.len())
            .map(|i| {
                let vals = series.iter().map(|s| value(s, i));
                if stacked {
                    vals.sum()
                } else {
                    vals.fold(0.0, f64::max)
                }
            })
            .fold(0.0, f64::max);
        let (mut svg, top, slot) = self.open(series, max);
        let lanes = if stacked { 1 } else { series.len().max(1) };
        let bar_w = (slot * 0.8 / lanes as f64).max(1.0);
        for (i, label) in labels.iter().enumerate() {
            let mut base = 0.0;
            for (k, s) in series.iter().enumerate() {
                let v = value(s, i);
                if v <= 0.0 {
                    continue;
                }
                let lane = if stacked { 0 } else { k };
                let x = LEFT + slot * i as f64 + slot * 0.1 + bar_w * lane as f64;
                let (y0, y1) = (y_of(base, top), y_of(base + v, top));
                if stacked {
                    base += v;
                }
                let _ = write!(
                    svg,
                    "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\" fill=\"{}\" \
                 data-x=\"{}\" data-series=\"{}\" data-value=\"{v}\"><title>{}: {} {}</title></rect>",
                    (y0 - y1).max(0.5),
                    s.color,
                    esc(label),
                    esc(&s.name),
                    esc(label),
                    esc(&unit.format(v)),
                    esc(&s.name.to_lowercase()),
                );
            }
        }
        self.finish(series, svg)
    }

    /// Lines through each series' values (broken where a value is missing), a point per value.
    pub fn lines(&self, series: &[Series]) -> Chart {
        let (labels, unit) = (self.labels, self.unit);
        let max = series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .copied()
            .fold(0.0, f64::max);
        let (mut svg, top, slot) = self.open(series, max);
        for s in series {
            let points: Vec<Option<(f64, f64)>> = (0..labels.len())
                .map(|i| {
                    s.values
                        .get(i)
                        .copied()
                        .flatten()
                        .filter(|v| v.is_finite())
                        .map(|v| (LEFT + slot * (i as f64 + 0.5), y_of(v, top)))
                })
                .collect();
            for run in points.split(Option::is_none) {
                if run.len() < 2 {
                    continue;
                }
                let d: Vec<String> = run
                    .iter()
                    .flatten()
                    .map(|(x, y)| format!("{x:.1},{y:.1}"))
                    .collect();
                let _ = write!(
                    svg,
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
                    d.join(" "),
                    s.color
                );
            }
            for (i, p) in points.iter().enumerate() {
                let (Some((x, y)), Some(v)) = (p, s.values.get(i).copied().flatten()) else {
                    continue;
                };
                let _ = write!(
                    svg,
                    "<circle class=\"point\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{}\" data-x=\"{}\" \
                 data-series=\"{}\" data-value=\"{v}\"><title>{}: {} {}</title></circle>",
                    s.color,
                    esc(&labels[i]),
                    esc(&s.name),
                    esc(&labels[i]),
                    esc(&s.name.to_lowercase()),
                    esc(&unit.format(v)),
                );
            }
        }
        self.finish(series, svg)
    }
}

/// A ranking: one horizontal bar per row, its label on the left and its value at the end: its
/// element id, title, one-sentence summary, the unit of its values and the colour of its bars.
#[derive(Clone, Copy)]
pub struct Ranking<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub unit: Unit,
    pub color: &'static str,
}

impl Ranking<'_> {
    /// The chart of `rows` (label, value); `extra` adds columns to the data table (header, one
    /// value per row).
    pub fn draw(&self, rows: &[(String, f64)], extra: &[(String, Vec<String>)]) -> Chart {
        let Ranking {
            id,
            title,
            summary,
            unit,
            color,
        } = *self;
        const ROW: f64 = 22.0;
        const LABEL: f64 = 220.0;
        let height = TOP + ROW * rows.len().max(1) as f64 + 24.0;
        let max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
        let ticks = ticks(max, unit);
        let top = ticks.last().copied().unwrap_or(1.0);
        let width = W - LABEL - RIGHT - 48.0;
        let mut svg = String::new();
        open_svg(&mut svg, id, title, summary, height);
        for t in &ticks {
            let x = LABEL + width * (t / top);
            let _ = write!(
                svg,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{}\" y2=\"{:.1}\" stroke=\"#d5dae0\"/>\
                 <text class=\"tick\" x=\"{x:.1}\" y=\"18\" font-size=\"11\" text-anchor=\"middle\" fill=\"#59636e\">{}</text>",
                TOP - 4.0,
                height - 20.0,
                esc(&unit.format(*t))
            );
        }
        for (i, (label, v)) in rows.iter().enumerate() {
            let y = TOP + ROW * i as f64;
            let w = (width * (v / top).clamp(0.0, 1.0)).max(if *v > 0.0 { 1.0 } else { 0.0 });
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1b1f24\">{}</text>\
                 <rect class=\"bar\" x=\"{LABEL}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{color}\" \
                 data-x=\"{}\" data-value=\"{v}\"><title>{}: {}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1b1f24\">{}</text>",
                LABEL - 8.0,
                y + 15.0,
                esc(&shorten(label, 30)),
                y + 3.0,
                ROW - 6.0,
                esc(label),
                esc(label),
                esc(&unit.format(*v)),
                LABEL + w + 6.0,
                y + 15.0,
                esc(&unit.format(*v)),
            );
        }
        if rows.is_empty() {
            let _ = write!(
                svg,
                "<text x=\"{LABEL}\" y=\"{}\" font-size=\"12\" fill=\"#59636e\">No data in this window</text>",
                TOP + 15.0
            );
        }
        svg.push_str("</svg>");
        let mut headers = vec![String::new(), title.to_owned()];
        headers.extend(extra.iter().map(|(h, _)| h.clone()));
        let table_rows = rows
            .iter()
            .enumerate()
            .map(|(i, (l, v))| {
                let mut row = vec![l.clone(), unit.format(*v)];
                row.extend(
                    extra
                        .iter()
                        .map(|(_, col)| col.get(i).cloned().unwrap_or_default()),
                );
                row
            })
            .collect();
        Chart {
            id: id.to_owned(),
            title: title.to_owned(),
            summary: summary.to_owned(),
            svg,
            table: Table {
                headers,
                rows: table_rows,
            },
        }
    }
}
