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
    let width = 640.0_f64;
    let height = 160.0_f64;
    let axis = 24.0_f64;
    let legend_columns = 4_usize;
    let legend_row = 18.0_f64;
    let legend_rows = series.len().div_ceil(legend_columns);
    let total_height = height + axis + legend_rows as f64 * legend_row;
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
    let width = 640.0_f64;
    let height = 160.0_f64;
    let axis = 24.0_f64;
    let legend_row = 18.0_f64;
    // Long series names: no more columns than series.
    let legend_columns = series.len().clamp(1, 3);
    let total_height = height + axis + series.len().div_ceil(legend_columns) as f64 * legend_row;
    let max = groups.iter().flat_map(|(_, v)| v.iter().flatten()).fold(0.0_f64, |m, v| m.max(*v));
    let scale = if max > 0.0 { max } else { 1.0 };
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
    let width = 640.0_f64;
    let height = 160.0_f64;
    let axis = 24.0_f64;
    let legend_row = 18.0_f64;
    let legend_columns = series.len().clamp(1, 4);
    let total_height = height + axis + series.len().div_ceil(legend_columns) as f64 * legend_row;
    let max = points.iter().flat_map(|(_, v)| v.iter()).fold(0.0_f64, |m, v| m.max(*v));
    let scale = if max > 0.0 { max } else { 1.0 };
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
