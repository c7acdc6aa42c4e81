//! Small server-rendered SVG charts, so people can look instead of read,
//! with no chart library and no script.

use maud::{Markup, html};

/// A bar chart of `(label, value)` pairs; labels under every bar, value on hover.
pub fn bars(title: &str, data: &[(String, i64)]) -> Markup {
    let width = 640.0_f64;
    let height = 160.0_f64;
    let max = data.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let n = data.len().max(1) as f64;
    let slot = width / n;
    let bar = (slot * 0.7).max(1.0);
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (width) " " (height + 24.0) } role="img" aria-label=(title) {
                @for (i, (label, value)) in data.iter().enumerate() {
                    @let h = (*value as f64 / max) * height;
                    @let x = i as f64 * slot + (slot - bar) / 2.0;
                    rect x=(format!("{x:.1}")) y=(format!("{:.1}", height - h)) width=(format!("{bar:.1}")) height=(format!("{h:.1}")) class="bar" {
                        title { (label) ": " (value) }
                    }
                    @if *value > 0 {
                        text x=(format!("{:.1}", x + bar / 2.0)) y=(format!("{:.1}", (height - h - 3.0).max(9.0))) class="value" text-anchor="middle" { (value) }
                    }
                    // Label every other bar counting from the newest, so today is always labelled.
                    @if (data.len() - 1 - i).is_multiple_of(2) || data.len() <= 8 {
                        text x=(format!("{:.1}", x + bar / 2.0)) y=(format!("{:.1}", height + 16.0)) class="axis" text-anchor="middle" { (label.get(5..).unwrap_or(label)) }
                    }
                }
            }
            figcaption { (title) }
        }
    }
}

/// A horizontal bar chart with the label and value beside each bar, for
/// categories with long names.
pub fn hbars(title: &str, data: &[(String, i64)]) -> Markup {
    let row = 22.0_f64;
    let label_w = 180.0_f64;
    let bar_w = 400.0_f64;
    let max = data.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let height = row * data.len() as f64;
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (label_w + bar_w + 60.0) " " (height.max(row)) } role="img" aria-label=(title) {
                @for (i, (label, value)) in data.iter().enumerate() {
                    @let y = i as f64 * row;
                    @let w = (*value as f64 / max) * bar_w;
                    text x=(format!("{:.1}", label_w - 6.0)) y=(format!("{:.1}", y + 15.0)) class="axis" text-anchor="end" { (label) }
                    rect x=(format!("{label_w:.1}")) y=(format!("{:.1}", y + 4.0)) width=(format!("{w:.1}")) height="14" class="bar" { title { (label) ": " (value) } }
                    text x=(format!("{:.1}", label_w + w + 4.0)) y=(format!("{:.1}", y + 15.0)) class="value" { (value) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// One series of a stacked bar chart: the key it is known by in the page
/// (`data-series`) and the label people read in the legend.
#[derive(Clone, Debug)]
pub struct Series {
    pub key: String,
    pub label: String,
}

/// Fills for the series, in order; they repeat after ten. Presentation
/// attributes, not styles: the content security policy allows no inline
/// style, and the stylesheet knows nothing of series.
const SERIES_FILLS: [&str; 10] =
    ["#0b5cad", "#b42318", "#067647", "#b54708", "#6941c6", "#0e7090", "#c11574", "#4e5ba6", "#854a0e", "#5b6577"];

/// Where an axis label centred under `x` goes so that it stays inside the
/// chart: labels near an edge are aligned to it instead of centred.
fn axis_label_place(x: f64, width: f64) -> (f64, &'static str) {
    // About half the width of `11-25 10:00` at the axis font size.
    const HALF_LABEL: f64 = 32.0;
    if x < HALF_LABEL {
        (0.0, "start")
    } else if x > width - HALF_LABEL {
        (width, "end")
    } else {
        (x, "middle")
    }
}

/// The plot of the charts with a legend: its width and height, the axis
/// labels' band under it, and a legend row.
#[derive(Clone, Copy)]
struct Frame {
    width: f64,
    height: f64,
    axis: f64,
    legend_row: f64,
}

const FRAME: Frame = Frame { width: 640.0, height: 160.0, axis: 24.0, legend_row: 18.0 };

impl Frame {
    /// The whole chart's height with a legend of `series` in `columns`.
    fn total_height(&self, series: usize, columns: usize) -> f64 {
        self.height + self.axis + series.div_ceil(columns.max(1)) as f64 * self.legend_row
    }
}

/// The value at the top of a plot whose largest value is `max` (1 for an
/// empty plot, so that nothing divides by zero).
fn scale_of(max: f64) -> f64 {
    if max > 0.0 { max } else { 1.0 }
}

/// The colour of series `i`.
fn series_fill(i: usize) -> &'static str {
    SERIES_FILLS.get(i % SERIES_FILLS.len()).copied().unwrap_or("#5b6577")
}

/// The legend under a chart: a swatch and a label per series, in rows of
/// `columns` starting at `top`.
fn legend(series: &[Series], width: f64, top: f64, columns: usize, row: f64) -> Markup {
    html! {
        @for (j, s) in series.iter().enumerate() {
            @let x = (j % columns) as f64 * (width / columns as f64);
            @let y = top + (j / columns) as f64 * row;
            g class="legend" data-series=(s.key) {
                rect x=(format!("{x:.1}")) y=(format!("{:.1}", y + 3.0)) width="10" height="10" fill=(series_fill(j)) {}
                text x=(format!("{:.1}", x + 14.0)) y=(format!("{:.1}", y + 12.0)) class="axis" { (s.label) }
            }
        }
    }
}

/// A stacked bar chart: one bar per `(label, values)` stack, one segment
/// per series (`values` in the order of `series`), a legend below. Labels
/// go under every `label_every`-th bar counting from the newest (the last),
/// so the current one is always labelled; each segment tells its series and
/// value on hover.
pub fn stacked_bars(title: &str, series: &[Series], stacks: &[(String, Vec<i64>)], label_every: usize) -> Markup {
    let Frame { width, height, axis, legend_row } = FRAME;
    let legend_columns = 4_usize;
    let total_height = FRAME.total_height(series.len(), legend_columns);
    let total = |values: &[i64]| values.iter().map(|v| (*v).max(0)).sum::<i64>();
    let max = stacks.iter().map(|(_, v)| total(v)).max().unwrap_or(0).max(1) as f64;
    let n = stacks.len().max(1) as f64;
    let slot = width / n;
    let bar = (slot * 0.7).max(1.0);
    let label_every = label_every.max(1);
    // (series index, value, top, height) of each non-empty segment, stacked
    // upwards from the axis in series order.
    let segments = |values: &[i64]| {
        let mut top = height;
        let mut out = Vec::new();
        for (j, value) in values.iter().enumerate().take(series.len()) {
            if *value > 0 {
                let h = (*value as f64 / max) * height;
                top -= h;
                out.push((j, *value, top, h));
            }
        }
        out
    };
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (width) " " (total_height) } role="img" aria-label=(title) {
                line x1="0" y1=(height) x2=(width) y2=(height) stroke="#dde1e8" {}
                text x="2" y="10" class="axis" { (max as i64) }
                @for (i, (label, values)) in stacks.iter().enumerate() {
                    @let x = i as f64 * slot + (slot - bar) / 2.0;
                    g class="stack" data-label=(label) data-total=(total(values)) {
                        title { (label) ": " (total(values)) }
                        @for (j, value, y, h) in segments(values) {
                            @let name = series.get(j).map(|s| (s.key.as_str(), s.label.as_str())).unwrap_or_default();
                            rect x=(format!("{x:.1}")) y=(format!("{y:.1}")) width=(format!("{bar:.1}")) height=(format!("{h:.1}"))
                                class="seg" fill=(series_fill(j)) data-series=(name.0) data-value=(value) {
                                title { (label) " · " (name.1) ": " (value) }
                            }
                        }
                    }
                    @if (stacks.len() - 1 - i).is_multiple_of(label_every) {
                        @let (label_x, anchor) = axis_label_place(x + bar / 2.0, width);
                        text x=(format!("{label_x:.1}")) y=(format!("{:.1}", height + 16.0)) class="axis" text-anchor=(anchor) { (label) }
                    }
                }
                (legend(series, width, height + axis, legend_columns, legend_row))
            }
            figcaption { (title) }
        }
    }
}

/// A grouped bar chart: one group per `(label, values)`, one bar per series
/// side by side (`values` in the order of `series`, `None`: no data, no
/// bar), a legend below. `show` formats a value for the hover text and the
/// top-left maximum.
pub fn grouped_bars(
    title: &str,
    series: &[Series],
    groups: &[(String, Vec<Option<f64>>)],
    show: impl Fn(f64) -> String,
) -> Markup {
    let Frame { width, height, axis, legend_row } = FRAME;
    // Long series names: no more columns than series.
    let legend_columns = series.len().clamp(1, 3);
    let total_height = FRAME.total_height(series.len(), legend_columns);
    let max = groups.iter().flat_map(|(_, v)| v.iter().flatten()).fold(0.0_f64, |m, v| m.max(*v));
    let scale = scale_of(max);
    let slot = width / groups.len().max(1) as f64;
    let bar = (slot * 0.8 / series.len().max(1) as f64).max(1.0);
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (width) " " (total_height) } role="img" aria-label=(title) {
                line x1="0" y1=(height) x2=(width) y2=(height) stroke="#dde1e8" {}
                text x="2" y="10" class="axis" { (show(max)) }
                @for (i, (label, values)) in groups.iter().enumerate() {
                    @let x0 = i as f64 * slot + slot * 0.1;
                    g class="group" data-label=(label) {
                        @for (j, value) in values.iter().enumerate().take(series.len()) {
                            @if let Some(v) = value {
                                @let h = (v.max(0.0) / scale) * height;
                                @let name = series.get(j).map(|s| (s.key.as_str(), s.label.as_str())).unwrap_or_default();
                                rect x=(format!("{:.1}", x0 + j as f64 * bar)) y=(format!("{:.1}", height - h)) width=(format!("{bar:.1}")) height=(format!("{h:.1}"))
                                    class="seg" fill=(series_fill(j)) data-series=(name.0) data-value=(format!("{v}")) {
                                    title { (label) " · " (name.1) ": " (show(*v)) }
                                }
                            }
                        }
                    }
                    @let (label_x, anchor) = axis_label_place(x0 + slot * 0.4, width);
                    text x=(format!("{label_x:.1}")) y=(format!("{:.1}", height + 16.0)) class="axis" text-anchor=(anchor) { (label) }
                }
                (legend(series, width, height + axis, legend_columns, legend_row))
            }
            figcaption { (title) }
        }
    }
}

/// A line chart of `(unix second, value)` points over the last `span`
/// seconds ending at `end`; the newest value on the right, hover for each
/// point's value.
pub fn line(title: &str, points: &[(i64, u64)], end: i64, span: i64) -> Markup {
    let width = 640.0_f64;
    let height = 120.0_f64;
    let span = span.max(1);
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let x = |t: i64| ((t - (end - span)) as f64 / span as f64).clamp(0.0, 1.0) * width;
    let y = |v: u64| height - (v as f64 / max) * height;
    let path: Vec<String> = points.iter().map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v))).collect();
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (width) " " (height + 20.0) } role="img" aria-label=(title) {
                polyline points=(path.join(" ")) fill="none" stroke="currentColor" stroke-width="1.5" class="line" {}
                @for (t, v) in points {
                    circle cx=(format!("{:.1}", x(*t))) cy=(format!("{:.1}", y(*v))) r="2" class="point" { title { (v) } }
                }
                text x="0" y=(format!("{:.1}", height + 16.0)) class="axis" { "-" (span) " s" }
                text x=(format!("{width:.1}")) y="10" class="value" text-anchor="end" { "max " (max as u64) }
            }
            figcaption { (title) }
        }
    }
}

/// A chart of several lines over time: `points` are `(unix second,
/// values)` with `values` in the order of `series`, drawn from `from` to
/// `to`; a legend below, times (UTC) under the axis, `show` formats the
/// top-left maximum and each line's hover text (its latest value). The
/// lines share one scale, so give it series of one unit.
pub fn lines(
    title: &str,
    series: &[Series],
    points: &[(i64, Vec<f64>)],
    from: i64,
    to: i64,
    show: impl Fn(f64) -> String,
) -> Markup {
    let Frame { width, height, axis, legend_row } = FRAME;
    let legend_columns = series.len().clamp(1, 4);
    let total_height = FRAME.total_height(series.len(), legend_columns);
    let max = points.iter().flat_map(|(_, v)| v.iter()).fold(0.0_f64, |m, v| m.max(*v));
    let scale = scale_of(max);
    let span = (to - from).max(1) as f64;
    let x = |t: i64| ((t - from) as f64 / span).clamp(0.0, 1.0) * width;
    let y = |v: f64| height - (v.max(0.0) / scale) * height;
    let clock = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .map(|d| format!("{:02}-{:02} {:02}:{:02}", u8::from(d.month()), d.day(), d.hour(), d.minute()))
            .unwrap_or_default()
    };
    let ticks = [(from, 0.0), (from + (to - from) / 2, width / 2.0), (to, width)];
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (width) " " (total_height) } role="img" aria-label=(title) data-points=(points.len()) {
                line x1="0" y1=(height) x2=(width) y2=(height) stroke="#dde1e8" {}
                text x="2" y="10" class="axis" { (show(max)) }
                @for (j, s) in series.iter().enumerate() {
                    @let path: Vec<String> = points.iter().filter_map(|(t, v)| v.get(j).map(|v| format!("{:.1},{:.1}", x(*t), y(*v)))).collect();
                    @let last = points.last().and_then(|(_, v)| v.get(j)).copied().unwrap_or(0.0);
                    polyline points=(path.join(" ")) fill="none" stroke=(series_fill(j)) stroke-width="1.5" class="line" data-series=(s.key) {
                        title { (s.label) ": " (show(last)) }
                    }
                }
                @for (t, tx) in ticks {
                    @let (label_x, anchor) = axis_label_place(tx, width);
                    text x=(format!("{label_x:.1}")) y=(format!("{:.1}", height + 16.0)) class="axis" text-anchor=(anchor) { (clock(t)) }
                }
                (legend(series, width, height + axis, legend_columns, legend_row))
            }
            figcaption { (title) }
        }
    }
}

/// One slot of a [`week_profile`] chart.
#[derive(Clone, Debug)]
pub struct ProfileSlot {
    /// Its name on hover (`Tue 14:00`).
    pub label: String,
    /// The usual value and its typical deviation.
    pub usual: f64,
    pub spread: f64,
    /// Learnt enough to be used.
    pub ready: bool,
    /// More hover text (`3 weeks`).
    pub note: String,
}

/// What a [`week_profile`] chart shows.
#[derive(Clone, Debug)]
pub struct WeekProfile<'a> {
    pub title: &'a str,
    /// Oldest hour of the week first (168 for a week of hours).
    pub slots: &'a [ProfileSlot],
    /// The slot of now, marked, with `now` (the value now) on it.
    pub current: Option<usize>,
    pub now: Option<f64>,
    /// Labels under the axis, each centred on its equal share of the
    /// slots (the days of the week).
    pub days: &'a [&'a str],
    /// The legend: the usual value, its spread, the slots not ready, now.
    pub legend: [&'a str; 4],
}

/// Grey of the slots not ready: their shading and their dashed line.
const NOT_READY_FILL: &str = "#eef1f5";
const NOT_READY_STROKE: &str = "#98a2b3";

/// The usual level through the slots of a week (an hour-of-week profile):
/// a line with the spread as a band around it (usual ± spread), the slots
/// not ready shaded and their stretch of line dashed, the current slot
/// marked by a vertical line with the value now as a dot on it. Each slot
/// (`g.slot`, `data-slot`, `data-ready`) tells its values on hover; `show`
/// formats values.
pub fn week_profile(p: &WeekProfile<'_>, show: impl Fn(f64) -> String) -> Markup {
    let Frame { width, height, axis, legend_row } = FRAME;
    let n = p.slots.len().max(1);
    let w = width / n as f64;
    let top = p.slots.iter().map(|s| s.usual.max(0.0) + s.spread.max(0.0)).fold(0.0_f64, f64::max);
    let now = p.now.unwrap_or(0.0);
    // A rate far over the usual (an attack) would flatten the week: the
    // scale stops at twice the usual's top, the dot sits on the edge with
    // its value.
    let max = if top > 0.0 && now > 2.0 * top { 2.0 * top } else { top.max(now) };
    let scale = scale_of(max);
    let x = |i: usize| (i as f64 + 0.5) * w;
    let y = |v: f64| height - (v.max(0.0) / scale).min(1.0) * height;
    let point = |i: usize, v: f64| format!("{:.1},{:.1}", x(i), y(v));
    let band: Vec<String> = (p.slots.iter().enumerate().map(|(i, s)| point(i, s.usual + s.spread.max(0.0))))
        .chain(p.slots.iter().enumerate().rev().map(|(i, s)| point(i, s.usual - s.spread.max(0.0))))
        .collect();
    // Runs of slots alike in readiness, each joined to the slot before it.
    let mut runs: Vec<(bool, Vec<String>)> = Vec::new();
    for (i, s) in p.slots.iter().enumerate() {
        match runs.last_mut() {
            Some((ready, points)) if *ready == s.ready => points.push(point(i, s.usual)),
            _ => {
                let mut points = Vec::new();
                if let Some(j) = i.checked_sub(1)
                    && let Some(before) = p.slots.get(j)
                {
                    points.push(point(j, before.usual));
                }
                points.push(point(i, s.usual));
                runs.push((s.ready, points));
            }
        }
    }
    let day_w = width / p.days.len().max(1) as f64;
    let current = p.current.filter(|c| *c < p.slots.len());
    let legend_x = |j: usize| j as f64 * (width / 4.0);
    let legend_y = height + axis;
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (width) " " (height + axis + legend_row) } role="img" aria-label=(p.title) data-slots=(p.slots.len()) data-current=[current] {
                @for (i, s) in p.slots.iter().enumerate() {
                    @if !s.ready {
                        rect x=(format!("{:.2}", i as f64 * w)) y="0" width=(format!("{w:.2}")) height=(height) fill=(NOT_READY_FILL) class="not-ready" {}
                    }
                }
                @for d in 1..p.days.len() {
                    line x1=(format!("{:.1}", d as f64 * day_w)) y1="0" x2=(format!("{:.1}", d as f64 * day_w)) y2=(height) stroke="#dde1e8" {}
                }
                line x1="0" y1=(height) x2=(width) y2=(height) stroke="#dde1e8" {}
                polygon points=(band.join(" ")) fill=(series_fill(0)) fill-opacity="0.15" class="band" {}
                @for (ready, points) in &runs {
                    @if *ready {
                        polyline points=(points.join(" ")) fill="none" stroke=(series_fill(0)) stroke-width="1.5" class="usual" data-ready="true" {}
                    } @else {
                        polyline points=(points.join(" ")) fill="none" stroke=(NOT_READY_STROKE) stroke-width="1.5" stroke-dasharray="3 2" class="usual" data-ready="false" {}
                    }
                }
                @if let Some(c) = current {
                    line x1=(format!("{:.1}", x(c))) y1="0" x2=(format!("{:.1}", x(c))) y2=(height) stroke=(series_fill(1)) stroke-width="1.5" class="current" data-slot=(c) {}
                    @if let Some(v) = p.now {
                        // Kept whole inside the chart.
                        circle cx=(format!("{:.1}", x(c))) cy=(format!("{:.1}", y(v).max(3.0))) r="3" fill=(series_fill(1)) class="now" data-value=(format!("{v}")) {
                            title { (p.legend[3]) ": " (show(v)) }
                        }
                        @if v > max {
                            @let (label_x, anchor) = if x(c) > width / 2.0 { (x(c) - 6.0, "end") } else { (x(c) + 6.0, "start") };
                            text x=(format!("{label_x:.1}")) y="12" class="value" text-anchor=(anchor) data-off-scale="true" { "↑ " (show(v)) }
                        }
                    }
                }
                text x="2" y="10" class="axis" { (show(max)) }
                @for (d, label) in p.days.iter().enumerate() {
                    text x=(format!("{:.1}", (d as f64 + 0.5) * day_w)) y=(format!("{:.1}", height + 16.0)) class="axis" text-anchor="middle" { (label) }
                }
                // Last, so that hovering anywhere in a slot's column tells it.
                @for (i, s) in p.slots.iter().enumerate() {
                    g class="slot" data-slot=(i) data-ready=(s.ready) {
                        rect x=(format!("{:.2}", i as f64 * w)) y="0" width=(format!("{w:.2}")) height=(height) fill="#fff" fill-opacity="0" {
                            title { (s.label) ": " (show(s.usual)) " ± " (show(s.spread)) @if !s.note.is_empty() { " (" (s.note) ")" } }
                        }
                    }
                }
                g class="legend" data-series="usual" {
                    line x1=(legend_x(0)) y1=(legend_y + 8.0) x2=(legend_x(0) + 12.0) y2=(legend_y + 8.0) stroke=(series_fill(0)) stroke-width="2" {}
                    text x=(legend_x(0) + 16.0) y=(legend_y + 12.0) class="axis" { (p.legend[0]) }
                }
                g class="legend" data-series="spread" {
                    rect x=(legend_x(1)) y=(legend_y + 3.0) width="12" height="10" fill=(series_fill(0)) fill-opacity="0.15" {}
                    text x=(legend_x(1) + 16.0) y=(legend_y + 12.0) class="axis" { (p.legend[1]) }
                }
                g class="legend" data-series="not-ready" {
                    rect x=(legend_x(2)) y=(legend_y + 3.0) width="12" height="10" fill=(NOT_READY_FILL) stroke=(NOT_READY_STROKE) stroke-dasharray="3 2" {}
                    text x=(legend_x(2) + 16.0) y=(legend_y + 12.0) class="axis" { (p.legend[2]) }
                }
                g class="legend" data-series="now" {
                    line x1=(legend_x(3) + 6.0) y1=(legend_y + 2.0) x2=(legend_x(3) + 6.0) y2=(legend_y + 14.0) stroke=(series_fill(1)) stroke-width="1.5" {}
                    circle cx=(legend_x(3) + 6.0) cy=(legend_y + 8.0) r="3" fill=(series_fill(1)) {}
                    text x=(legend_x(3) + 16.0) y=(legend_y + 12.0) class="axis" { (p.legend[3]) }
                }
            }
            figcaption { (p.title) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_hold_a_segment_per_nonzero_value_and_edge_labels_stay_inside() {
        // Built by a function: the i18n test reads literal series keys as label keys.
        let one = |key: &str, label: &str| Series { key: key.to_owned(), label: label.to_owned() };
        let series = vec![one("dga", "dga"), one("phishing", "<b>Phishing</b>")];
        let stacks: Vec<(String, Vec<i64>)> =
            (0..48).map(|i| (format!("h{i}"), if i == 47 { vec![3, 1] } else { vec![0, 0] })).collect();
        let svg = stacked_bars("per hour", &series, &stacks, 6).into_string();
        assert_eq!(svg.matches("class=\"stack\"").count(), 48);
        assert_eq!(svg.matches("class=\"seg\"").count(), 2, "zeros draw nothing");
        assert!(svg.contains("data-series=\"dga\" data-value=\"3\""));
        assert!(svg.contains("&lt;b&gt;Phishing&lt;/b&gt;") && !svg.contains("<b>"), "labels are text");
        assert!(svg.contains("text-anchor=\"end\">h47<"), "the newest label ends at the edge: {svg}");
        assert!(svg.contains("text-anchor=\"middle\">h41<"));
        assert!(!svg.contains(">h46<"), "only every sixth hour is labelled");
        // The tallest stack fills the height: 3 + 1 of 4.
        assert!(svg.contains("y=\"40.0\" width=\"9.3\" height=\"120.0\""), "{svg}");
    }

    #[test]
    fn groups_draw_a_bar_per_known_value_scaled_to_the_largest() {
        let one = |key: &str, label: &str| Series { key: key.to_owned(), label: label.to_owned() };
        let series = vec![one("a", "A"), one("b", "B")];
        let groups =
            vec![("2026-10".to_owned(), vec![Some(2.0), None]), ("2026-11".to_owned(), vec![Some(4.0), Some(1.0)])];
        let svg = grouped_bars("times", &series, &groups, |v| format!("{v} h")).into_string();
        assert_eq!(svg.matches("class=\"group\"").count(), 2);
        assert_eq!(svg.matches("class=\"seg\"").count(), 3, "no bar for no data");
        assert!(svg.contains("data-series=\"a\" data-value=\"4\""), "{svg}");
        // 4 h is the full height, 2 h half of it.
        assert!(svg.contains("height=\"160.0\""), "{svg}");
        assert!(svg.contains("height=\"80.0\""), "{svg}");
        assert!(svg.contains("<title>2026-11 · B: 1 h</title>"), "{svg}");
    }

    #[test]
    fn a_line_puts_the_newest_point_on_the_right_and_the_highest_on_top() {
        let svg = line("pps", &[(940, 0), (999, 50), (1_000, 100)], 1_000, 60).into_string();
        assert!(svg.contains("points=\"0.0,120.0 629.3,60.0 640.0,0.0\""), "{svg}");
        assert_eq!(svg.matches("class=\"point\"").count(), 3);
        assert!(svg.contains("<title>100</title>"), "{svg}");
    }

    #[test]
    fn a_week_profile_draws_the_usual_line_in_a_band_and_marks_not_ready_slots_and_now() {
        let slot = |i: usize| ProfileSlot {
            label: format!("s{i}"),
            usual: if i == 1 { 30.0 } else { 10.0 },
            spread: if i == 1 { 10.0 } else { 0.0 },
            ready: i < 2,
            note: String::new(),
        };
        let slots: Vec<ProfileSlot> = (0..4).map(slot).collect();
        let p = WeekProfile {
            title: "usual",
            slots: &slots,
            current: Some(2),
            now: Some(80.0),
            days: &["a", "<b>"],
            legend: ["usual", "± spread", "not ready", "now"],
        };
        let svg = week_profile(&p, |v| format!("{v:.0}")).into_string();
        assert!(svg.contains("data-slots=\"4\" data-current=\"2\""), "{svg}");
        assert_eq!(svg.matches("class=\"slot\"").count(), 4);
        assert_eq!(svg.matches("data-ready=\"false\"").count(), 2 + 1, "two slots and their stretch of line");
        assert_eq!(svg.matches("class=\"not-ready\"").count(), 2);
        // 80 now is the top: slot 1 at 30 is 3/8 of the way up; the line
        // is solid over the ready slots, dashed from the last ready one on.
        assert!(svg.contains("points=\"80.0,140.0 240.0,100.0\" fill=\"none\" stroke=\"#0b5cad\""), "{svg}");
        assert!(svg.contains("points=\"240.0,100.0 400.0,140.0 560.0,140.0\""), "{svg}");
        // The band: usual + spread forwards, usual - spread back.
        assert!(svg.contains("points=\"80.0,140.0 240.0,80.0 400.0,140.0 560.0,140.0 560.0,140.0 400.0,140.0 240.0,120.0 80.0,140.0\""), "{svg}");
        assert!(svg.contains("class=\"current\" data-slot=\"2\""), "{svg}");
        assert!(svg.contains("cy=\"3.0\" r=\"3\""), "now at the top, whole: {svg}");
        assert!(!svg.contains("data-off-scale"), "{svg}");
        assert!(svg.contains("<title>s1: 30 ± 10</title>"), "{svg}");
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"), "labels are text");
        // Far over the usual: the scale stops at twice its top (40), the
        // value is written by the dot.
        let svg = week_profile(&WeekProfile { now: Some(1000.0), ..p }, |v| format!("{v:.0}")).into_string();
        assert!(svg.contains("points=\"80.0,140.0 240.0,100.0\""), "the same scale as with 80 now: {svg}");
        assert!(svg.contains("data-off-scale=\"true\">↑ 1000<"), "{svg}");
        assert!(svg.contains(">80<"), "the top of the scale: {svg}");
    }

    #[test]
    fn lines_share_one_scale_and_name_their_series() {
        let one = |key: &str, label: &str| Series { key: key.to_owned(), label: label.to_owned() };
        let series = vec![one("pps", "pps"), one("peak", "<peak>")];
        let points = vec![(0, vec![10.0, 40.0]), (1800, vec![20.0, 20.0]), (3600, vec![0.0, 5.0])];
        let svg = lines("traffic", &series, &points, 0, 3600, |v| format!("{v:.0}")).into_string();
        assert_eq!(svg.matches("class=\"line\"").count(), 2);
        assert!(svg.contains("data-points=\"3\""), "{svg}");
        // 40 is the top; 10 of 40 is three quarters down; the end is on the right.
        assert!(svg.contains("points=\"0.0,120.0 320.0,80.0 640.0,160.0\""), "{svg}");
        assert!(svg.contains("points=\"0.0,0.0 320.0,80.0 640.0,140.0\""), "{svg}");
        assert!(svg.contains("&lt;peak&gt;") && !svg.contains("<peak>"), "labels are text");
        assert!(svg.contains(">01-01 00:00<") && svg.contains(">01-01 01:00<"), "{svg}");
        assert!(svg.contains(">40<"), "the maximum is shown: {svg}");
    }
}
