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
