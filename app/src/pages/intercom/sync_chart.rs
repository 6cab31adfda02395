//! Runs over time as an inline SVG: records changed and failed as bars against the left
//! axis, the duration as a line against the right one. The geometry is a plain function
//! so that it is tested without a browser.

use leptos::prelude::*;

use crate::domain::SyncRun;

/// One ended run, as the chart draws it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunPoint {
    pub id: i64,
    /// When it started (queued, if it never did): the chart's order.
    pub at: i64,
    pub seconds: i64,
    pub changed: u64,
    pub failed: u64,
}

impl RunPoint {
    /// Ended runs only: a queued or running one has no final duration or counts yet.
    pub fn of(run: &SyncRun) -> Option<Self> {
        if run.status.is_active() {
            return None;
        }
        let totals = run.totals();
        Some(RunPoint {
            id: run.id,
            at: run.started_at.unwrap_or(run.queued_at),
            seconds: run.finished_at.map(|end| run.duration(end).unwrap_or(0)).unwrap_or(0),
            changed: totals.changed(),
            failed: totals.failed,
        })
    }
}

/// The drawing area in SVG units, and the margins left for the axes' labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    fn plot_width(&self) -> f64 {
        (self.width - self.left - self.right).max(0.0)
    }

    fn plot_height(&self) -> f64 {
        (self.height - self.top - self.bottom).max(0.0)
    }

    /// The y of the plot's floor.
    pub fn base(&self) -> f64 {
        self.height - self.bottom
    }

    pub fn plot_right(&self) -> f64 {
        self.width - self.right
    }
}

/// A vertical scale from zero to `max` in steps of `step` (both whole numbers).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub max: u64,
    pub step: u64,
    /// Each tick's value and its y.
    pub ticks: Vec<(u64, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// Where one run is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub point: RunPoint,
    /// The middle of the run's band on the x axis.
    pub x: f64,
    pub changed: Bar,
    pub failed: Bar,
    /// The duration's point on the line.
    pub duration_y: f64,
    /// Whether its id is written under the axis (one in every few when runs are many).
    pub labelled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChartLayout {
    pub slots: Vec<Slot>,
    pub records: Axis,
    pub seconds: Axis,
}

/// No more ids than this under the x axis; the others are left out, evenly.
const MAX_X_LABELS: usize = 12;
/// Wider bars than this read as a blob when there are only one or two runs.
const MAX_BAR_WIDTH: f64 = 28.0;

/// The smallest 1, 2 or 5 × 10ⁿ at least `n` (and at least 1).
pub fn nice_step(n: u64) -> u64 {
    let mut magnitude = 1u64;
    loop {
        for m in [1, 2, 5] {
            let step = m * magnitude;
            if step >= n {
                return step;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// About four round steps from zero to at least `highest`.
pub fn axis(highest: u64, frame: &Frame) -> Axis {
    let step = nice_step(highest.div_ceil(4));
    let max = highest.div_ceil(step).max(1) * step;
    let ticks = (0..=max / step).map(|i| (i * step, y_of(i * step, max, frame))).collect();
    Axis { max, step, ticks }
}

/// An SVG number to one decimal, written with integer formatting: formatting an `f64`
/// (`{}`, `{:.1}`, or an `f64` attribute) would bring the float formatter, ~20 KB, into
/// the browser bundle for this chart alone.
pub fn svg_number(value: f64) -> String {
    let tenths = (value * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let (whole, tenth) = (tenths.unsigned_abs() / 10, tenths.unsigned_abs() % 10);
    if tenth == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{tenth}")
    }
}

fn y_of(value: u64, max: u64, frame: &Frame) -> f64 {
    frame.base() - value as f64 / max as f64 * frame.plot_height()
}

/// Places the runs oldest first, whatever order they come in.
pub fn layout(points: &[RunPoint], frame: &Frame) -> ChartLayout {
    let mut points = points.to_vec();
    points.sort_by_key(|p| (p.at, p.id));
    let records = axis(points.iter().map(|p| p.changed.max(p.failed)).max().unwrap_or(0), frame);
    let seconds = axis(points.iter().map(|p| p.seconds.max(0) as u64).max().unwrap_or(0), frame);
    let band = frame.plot_width() / points.len().max(1) as f64;
    let bar_width = (band * 0.35).min(MAX_BAR_WIDTH);
    let label_every = points.len().div_ceil(MAX_X_LABELS).max(1);
    let count = points.len();
    let slots = points
        .into_iter()
        .enumerate()
        .map(|(i, point)| {
            let x = frame.left + band * (i as f64 + 0.5);
            let bar = |value: u64, x: f64| {
                let y = y_of(value, records.max, frame);
                Bar { x, y, width: bar_width, height: frame.base() - y }
            };
            Slot {
                point,
                x,
                changed: bar(point.changed, x - bar_width),
                failed: bar(point.failed, x),
                duration_y: y_of(point.seconds.max(0) as u64, seconds.max, frame),
                // The newest run is always named, the others every few counting back from it.
                labelled: (count - 1 - i).is_multiple_of(label_every),
            }
        })
        .collect();
    ChartLayout { slots, records, seconds }
}

/// What the chart shows, in a sentence, for screen readers.
pub fn summary(points: &[RunPoint]) -> String {
    let (Some(shortest), Some(longest)) =
        (points.iter().map(|p| p.seconds).min(), points.iter().map(|p| p.seconds).max())
    else {
        return "No ended runs yet.".to_string();
    };
    let changed: u64 = points.iter().map(|p| p.changed).sum();
    let failed: u64 = points.iter().map(|p| p.failed).sum();
    let runs = if points.len() == 1 { "1 run".to_string() } else { format!("{} runs", points.len()) };
    let durations =
        if shortest == longest { format!("took {longest} s") } else { format!("took {shortest} to {longest} s") };
    format!("{runs}, oldest to newest: {durations}; {changed} records changed and {failed} failed in all.")
}

const FRAME: Frame = Frame { width: 720.0, height: 240.0, left: 52.0, right: 52.0, top: 14.0, bottom: 40.0 };

#[component]
pub fn RunChart(runs: Signal<Vec<SyncRun>>) -> impl IntoView {
    move || {
        let points: Vec<RunPoint> = runs.with(|runs| runs.iter().filter_map(RunPoint::of).collect());
        if points.is_empty() {
            return view! { <p class="hint" data-testid="chart-empty">"The chart appears once a run has ended."</p> }
                .into_any();
        }
        let label = summary(&points);
        let ChartLayout { slots, records, seconds } = layout(&points, &FRAME);
        let line = slots
            .iter()
            .map(|s| format!("{},{}", svg_number(s.x), svg_number(s.duration_y)))
            .collect::<Vec<_>>()
            .join(" ");
        let view_box = format!("0 0 {} {}", svg_number(FRAME.width), svg_number(FRAME.height));
        view! {
            <figure class="run-chart">
                <svg id="sync-chart" role="img" aria-label=label viewBox=view_box preserveAspectRatio="xMidYMid meet" data-runs=slots.len()>
                    {view! { <Axes records seconds /> }.into_any()}
                    {slots.iter().map(|slot| {
                        let Slot { point, x, changed, failed, duration_y, labelled } = slot.clone();
                        let tip = format!("Run {}: {} records changed, {} failed, {} s", point.id, point.changed, point.failed, point.seconds);
                        view! {
                            <g class="chart-run" data-run-id=point.id>
                                <title>{tip}</title>
                                <rect class="series-changed" x=svg_number(changed.x) y=svg_number(changed.y) width=svg_number(changed.width) height=svg_number(changed.height) />
                                <rect class="series-failed" x=svg_number(failed.x) y=svg_number(failed.y) width=svg_number(failed.width) height=svg_number(failed.height) />
                                {labelled.then(|| view! {
                                    <text class="tick-label" x=svg_number(x) y=svg_number(FRAME.base() + 16.0) text-anchor="middle">{format!("#{}", point.id)}</text>
                                })}
                                <circle class="series-duration" cx=svg_number(x) cy=svg_number(duration_y) r="4" />
                            </g>
                        }
                    }).collect_view()}
                    <polyline class="series-duration-line" points=line />
                </svg>
                <figcaption>
                    <ul class="chart-legend">
                        <li><span class="swatch swatch-changed"></span>"Records changed (left axis)"</li>
                        <li><span class="swatch swatch-failed"></span>"Failed records (left axis)"</li>
                        <li><span class="swatch swatch-duration"></span>"Duration in seconds (right axis)"</li>
                    </ul>
                </figcaption>
            </figure>
        }
        .into_any()
    }
}

#[component]
fn Axes(records: Axis, seconds: Axis) -> impl IntoView {
    let (left, right, base) = (FRAME.left, FRAME.plot_right(), FRAME.base());
    let middle_y = FRAME.top + (base - FRAME.top) / 2.0;
    view! {
        <g class="axes">
            {records.ticks.into_iter().map(|(value, y)| view! {
                <line class="grid" x1=svg_number(left) x2=svg_number(right) y1=svg_number(y) y2=svg_number(y) />
                <text class="tick-label" x=svg_number(left - 6.0) y=svg_number(y + 4.0) text-anchor="end">{value.to_string()}</text>
            }).collect_view()}
            {seconds.ticks.into_iter().map(|(value, y)| view! {
                <text class="tick-label" x=svg_number(right + 6.0) y=svg_number(y + 4.0) text-anchor="start">{value.to_string()}</text>
            }).collect_view()}
            <line class="axis" x1=svg_number(left) x2=svg_number(right) y1=svg_number(base) y2=svg_number(base) />
            <text class="axis-label" x="12" y=svg_number(middle_y) text-anchor="middle" transform=format!("rotate(-90 12 {})", svg_number(middle_y))>"Records"</text>
            <text class="axis-label" x=svg_number(FRAME.width - 10.0) y=svg_number(middle_y) text-anchor="middle"
                transform=format!("rotate(90 {} {})", svg_number(FRAME.width - 10.0), svg_number(middle_y))>"Seconds"</text>
            <text class="axis-label" x=svg_number(left + (right - left) / 2.0) y=svg_number(FRAME.height - 4.0) text-anchor="middle">"Runs, oldest to newest"</text>
        </g>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_numbers_are_written_to_one_decimal_without_a_trailing_zero() {
        assert_eq!(svg_number(12.0), "12");
        assert_eq!(svg_number(12.34), "12.3");
        assert_eq!(svg_number(12.36), "12.4");
        assert_eq!(svg_number(0.04), "0");
        assert_eq!(svg_number(-6.5), "-6.5");
        assert_eq!(svg_number(-0.25), "-0.3");
    }

    const F: Frame = Frame { width: 500.0, height: 200.0, left: 50.0, right: 50.0, top: 0.0, bottom: 0.0 };

    fn point(id: i64, at: i64, seconds: i64, changed: u64, failed: u64) -> RunPoint {
        RunPoint { id, at, seconds, changed, failed }
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        let cases = [
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 5),
            (5, 5),
            (6, 10),
            (11, 20),
            (26, 50),
            (51, 100),
            (309, 500),
            (1_001, 2_000),
        ];
        for (n, step) in cases {
            assert_eq!(nice_step(n), step, "nice_step({n})");
        }
    }

    #[test]
    fn an_axis_reaches_past_the_highest_value_in_about_four_round_steps() {
        let cases = [(0, 1, 1), (3, 3, 1), (7, 8, 2), (20, 20, 5), (37, 40, 10), (1_234, 1_500, 500)];
        for (highest, max, step) in cases {
            let a = axis(highest, &F);
            assert_eq!((a.max, a.step), (max, step), "axis({highest})");
            assert_eq!(a.ticks.first(), Some(&(0, 200.0)), "zero sits on the floor");
            assert_eq!(a.ticks.last(), Some(&(max, 0.0)), "the top tick is the top of the plot");
        }
    }

    #[test]
    fn runs_are_placed_oldest_first_in_equal_bands() {
        let layout = layout(&[point(3, 300, 10, 40, 0), point(1, 100, 5, 20, 2), point(2, 200, 20, 0, 0)], &F);
        let ids: Vec<i64> = layout.slots.iter().map(|s| s.point.id).collect();
        assert_eq!(ids, [1, 2, 3]);
        let xs: Vec<f64> = layout.slots.iter().map(|s| s.x).collect();
        for (x, want) in xs.iter().zip([50.0 + 400.0 / 6.0, 250.0, 450.0 - 400.0 / 6.0]) {
            assert!((x - want).abs() < 1e-9, "{xs:?}");
        }
    }

    #[test]
    fn bars_and_points_scale_to_their_own_axis() {
        let layout = layout(&[point(1, 100, 20, 40, 10), point(2, 200, 5, 0, 0)], &F);
        assert_eq!(layout.records.max, 40);
        assert_eq!(layout.seconds.max, 20);
        let first = &layout.slots[0];
        assert_eq!((first.changed.y, first.changed.height), (0.0, 200.0), "the highest bar fills the plot");
        assert_eq!((first.failed.y, first.failed.height), (150.0, 50.0));
        assert_eq!(first.duration_y, 0.0);
        let second = &layout.slots[1];
        assert_eq!(second.changed.height, 0.0);
        assert_eq!(second.duration_y, 150.0);
        assert!(first.changed.x + first.changed.width <= first.failed.x + 1e-9, "the two bars sit side by side");
    }

    #[test]
    fn one_run_gets_one_slot_with_narrow_bars_and_an_empty_history_none() {
        let one = layout(&[point(7, 1, 0, 0, 0)], &F);
        assert_eq!(one.slots.len(), 1);
        assert_eq!(one.slots[0].x, 250.0);
        assert_eq!(one.slots[0].changed.width, MAX_BAR_WIDTH);
        assert!(one.slots[0].labelled);
        assert_eq!((one.records.max, one.seconds.max), (1, 1), "an all-zero run still has a scale");
        assert!(layout(&[], &F).slots.is_empty());
    }

    #[test]
    fn with_many_runs_only_some_ids_are_written_and_the_newest_always() {
        let points: Vec<RunPoint> = (1..=50).map(|i| point(i, i * 10, 1, 1, 0)).collect();
        let layout = layout(&points, &F);
        let labelled: Vec<i64> = layout.slots.iter().filter(|s| s.labelled).map(|s| s.point.id).collect();
        assert!(labelled.len() <= MAX_X_LABELS, "{labelled:?}");
        assert_eq!(labelled.last(), Some(&50));
    }

    #[test]
    fn the_summary_says_how_many_runs_how_long_and_what_changed() {
        assert_eq!(summary(&[]), "No ended runs yet.");
        assert_eq!(
            summary(&[point(1, 1, 12, 60, 0)]),
            "1 run, oldest to newest: took 12 s; 60 records changed and 0 failed in all."
        );
        assert_eq!(
            summary(&[point(1, 1, 12, 60, 1), point(2, 2, 3, 5, 2)]),
            "2 runs, oldest to newest: took 3 to 12 s; 65 records changed and 3 failed in all."
        );
    }
}
