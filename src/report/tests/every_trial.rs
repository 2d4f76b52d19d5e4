//! Every trial shown: the figures read against the trials they draw
//! (parsed SVG, roxmltree), for configurations whose seeds diverged,
//! non-numeric settings, honest profile denominators, study-wide colours,
//! the heatmap, and the figures that say why they were not drawn.
use super::*;
use polars::prelude::{IntoColumn, NamedFrom, Series};

/// A parsed SVG's elements called `tag`.
fn elements<'a>(doc: &'a roxmltree::Document, tag: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants().filter(|n| n.has_tag_name(tag)).collect()
}

/// The text of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("valid SVG");
    elements(&doc, "text")
        .iter()
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect()
}

/// The rendered figure called `file`.
fn figure<'a>(figures: &'a [plot::Figure], file: &str) -> &'a plot::Figure {
    let names: Vec<&str> = figures.iter().map(|f| f.file.as_str()).collect();
    figures
        .iter()
        .find(|f| f.file == file)
        .unwrap_or_else(|| panic!("{file} not among {names:?}"))
}

/// Width 8's four seeds all diverged: it keeps its place on the axis
/// (tick "8"), with a marker and "4/4 div" at the top edge, and its
/// histogram panel says so. Catches the one-line bug this issue began
/// with: figures drew `finished_rows` only, so the series just stopped.
#[test]
fn a_configuration_whose_seeds_all_diverged_keeps_its_place() {
    let n = f64::NAN;
    let (e, plan, records) = stored_study("", &[0.5, 0.2, 0.9, 0.4, n, n, n, n]);
    let rows = plot::stored_rows(&plan, &records);
    let p = plot::axis_plot(&e, &rows, &[], Metric::TrainLoss, "model.width").unwrap();
    assert_eq!(p.positions.labels, ["2", "8"]);
    assert_eq!(p.series[0].broken, [(1, 4, 4)]);
    assert_eq!(p.series[0].dots.len(), 4);
    let r = build(&e, &plan, &records).unwrap();
    let figures = plot::render(&e, &plan, &records, &r, None).unwrap();
    let f = figure(&figures, "train_loss_vs_width.svg");
    let t = texts(&f.svg);
    assert!(
        t.iter().any(|s| s == "8") && t.iter().any(|s| s == "4/4 div"),
        "{t:?}"
    );
    assert!(f.caption.contains("diverged or failed"), "{}", f.caption);
    let h = texts(&figure(&figures, "hist_train_loss.svg").svg);
    assert!(h.iter().any(|s| s.contains("(4/4 diverged)")), "{h:?}");
}

/// `batch_size = [8, "full"]`: "full" is a position after 8 holding its
/// eight seeds as dots, and its tick reads "full". Catches the filter
/// that kept only numeric settings (the "full" seeds vanished while the
/// caption said "one dot per seed").
#[test]
fn a_named_setting_has_its_own_position() {
    let losses: Vec<f64> = (0..16).map(|i| 0.1 + 0.01 * i as f64).collect();
    let (e, plan, records) = stored_study("batch_size = [8, \"full\"]\n", &losses);
    let rows = plot::stored_rows(&plan, &records);
    let p = plot::axis_plot(&e, &rows, &[], Metric::TrainLoss, "train.batch_size").unwrap();
    assert_eq!(p.positions.labels, ["8", "full"]);
    let at_full: usize = p
        .series
        .iter()
        .map(|s| s.dots.iter().filter(|d| d.at == 1).count())
        .sum();
    assert_eq!(at_full, 8);
    let claim = "[[claims]]\nname = \"b\"\nexpect = \"decreasing\"\nalong = \"batch_size\"\n";
    let (e, plan, records) = stored_study(&format!("batch_size = [8, \"full\"]\n{claim}"), &losses);
    let r = build(&e, &plan, &records).unwrap();
    let figures = plot::render(&e, &plan, &records, &r, None).unwrap();
    let t = texts(&figure(&figures, "train_loss_vs_batch_size.svg").svg);
    assert!(t.iter().any(|s| s == "full"), "{t:?}");
}

/// Five seeds, two diverged: the profile tops out at 3/5 = 60%. Catches
/// diverged seeds left out of the denominator (the curve climbed to 100%).
#[test]
fn a_profile_counts_diverged_seeds_in_its_denominator() {
    let src = "name = \"a\"\nseeds = 5\n[grid]\nwidth = [2, 8]\n";
    let e = crate::testkit::study(src);
    let plan = Plan::new(&e).unwrap();
    let losses = [0.5, 0.2, f64::NAN, 0.4, f64::NAN, 0.3, 0.3, 0.2, 0.1, 0.25];
    let records: Vec<TrialRecord> = plan
        .trials
        .iter()
        .zip(losses)
        .map(|(t, l)| {
            let s = if l.is_nan() {
                Status::Diverged
            } else {
                Status::Ok
            };
            record(t, l, s)
        })
        .collect();
    let rows = plot::stored_rows(&plan, &records);
    let p = width_profile(&e, &rows);
    let top = |c: usize| {
        p.panels[0].curves[c]
            .share
            .iter()
            .copied()
            .fold(0.0, f64::max)
    };
    assert_eq!((top(0), top(1)), (0.6, 1.0));
}

/// The stroke colours of the 2-px lines of an SVG, in document order.
fn line_colours(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("valid SVG");
    elements(&doc, "polyline")
        .iter()
        .filter(|n| n.attribute("stroke-width") == Some("2"))
        .filter_map(|n| n.attribute("stroke").map(str::to_string))
        .collect()
}

/// Twelve configurations split the profile into a panel per depth; width 2
/// at depth 2 never ran, so that panel (drawn last) has width 8 alone. Its
/// curve keeps width 8's colour (the legend's second entry), not the
/// first colour of the palette. Catches colour by place in a panel
/// (purple was lr=3 in one panel and lr=10 in the next).
#[test]
fn a_setting_has_one_colour_in_every_panel() {
    let (e, plan, records) = stored_study("depth = [1, 2, 3, 4, 5, 6]\n", &[0.5; 48]);
    let records: Vec<TrialRecord> = plan
        .trials
        .iter()
        .zip(records)
        .filter(|(t, _)| t.config_index != 1)
        .map(|(_, r)| r)
        .collect();
    let rows = plot::stored_rows(&plan, &records);
    let p = width_profile(&e, &rows);
    assert_eq!(p.panels.last().unwrap().title, "depth=2");
    let fig = plot::bootstrap_figures(&e, &plan, &records, &Default::default()).unwrap();
    let colours = line_colours(&figure(&fig, "profile_train_loss.svg").svg);
    // Legend (2), five panels with both widths (10), the last with one.
    assert_eq!(colours.len(), 13, "{colours:?}");
    assert_ne!(colours[0], colours[1]);
    assert_eq!(colours[12], colours[1]);
    assert_eq!(colours[2..12], [&colours[0..2]; 5].concat()[..]);
}

/// Width × depth with width 8 at depth 2 all diverged: the heatmap has
/// four cells, that one without a median and "4/4 div", the others the
/// median of their seeds (NumPy's `np.median([0.1, 0.2, 0.3, 0.4])` =
/// 0.25). Catches a broken cell dropped, a mean for the median, and axes
/// crossed.
#[test]
fn the_heatmap_marks_cells_whose_seeds_diverged() {
    let n = f64::NAN;
    let mut losses = vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5, 0.7, 0.7, 0.7, 0.7];
    losses.extend([n; 4]);
    let (e, plan, records) = stored_study("depth = [1, 2]\n", &losses);
    let r = build(&e, &plan, &records).unwrap();
    let figures = plot::render(&e, &plan, &records, &r, None).unwrap();
    let f = figure(&figures, "heatmap_train_loss.svg");
    let t = texts(&f.svg);
    for want in ["0.25", "0.5", "0.7", "none finished", "4/4 div"] {
        assert!(t.iter().any(|s| s == want), "{want} not in {t:?}");
    }
    let rows = plot::stored_rows(&plan, &records);
    let (px, py, cells) = plot::heatmap_cells(&e, &rows, &[], Metric::TrainLoss).unwrap();
    assert_eq!((px.labels.len(), py.labels.len()), (2, 2));
    let broken = cells.iter().find(|c| c.at == (1, 1)).unwrap();
    assert_eq!((broken.median, broken.broken, broken.n), (None, 4, 4));
    assert_eq!(
        cells.iter().find(|c| c.at == (0, 0)).unwrap().median,
        Some(0.25)
    );
}

/// The lead's `collapsed` column (read when present) makes those seeds'
/// dots hollow: one flagged seed, one unfilled circle. Catches the flags
/// read from the wrong row (plan index, not stored row) or not at all.
#[test]
fn flagged_seeds_are_hollow() {
    let (e, plan, records) = stored_study("", &[0.5, 0.2, 0.9, 0.4, 0.25, 0.3, 0.35, 0.4]);
    let mut r = build(&e, &plan, &records).unwrap();
    let flags: Vec<bool> = (0..8).map(|i| i == 2).collect();
    r.trials
        .with_column(Series::new("collapsed".into(), flags).into_column())
        .unwrap();
    let figures = plot::render(&e, &plan, &records, &r, None).unwrap();
    let f = figure(&figures, "train_loss_vs_width.svg");
    let doc = roxmltree::Document::parse(&f.svg).unwrap();
    let hollow = elements(&doc, "circle")
        .iter()
        .filter(|n| n.attribute("fill") == Some("none") && n.attribute("r") == Some("3"))
        .count();
    assert_eq!(hollow, 1);
    assert!(f.caption.contains("hollow"), "{}", f.caption);
}

/// A comparison claim about validation loss along width gets its figure,
/// beside the default train-loss one. Catches figures that followed
/// trend claims only.
#[test]
fn a_comparison_claim_gets_its_figure() {
    let claim = "[[claims]]\nname = \"c\"\nmetric = \"val_loss\"\nexpect = \"less_than\"\nthis = { width = 8 }\nthan = { width = 2 }\n";
    let (e, plan, records) = stored_study(claim, &[0.5, 0.2, 0.9, 0.4, 0.25, 0.3, 0.35, 0.4]);
    let r = build(&e, &plan, &records).unwrap();
    let figures = plot::render(&e, &plan, &records, &r, None).unwrap();
    figure(&figures, "val_loss_vs_width.svg");
    figure(&figures, "train_loss_vs_width.svg");
}

/// With every trial diverged, report.md says no figure was drawn and why.
/// Catches figures left out silently.
#[test]
fn report_md_says_which_figures_were_not_drawn() {
    let n = f64::NAN;
    let (e, plan, records) = stored_study("", &[n; 8]);
    let (_, files) = render(&e, &plan, &records, None, &About::default(), None, None).unwrap();
    let md = files.iter().find(|f| f.0 == "report.md").unwrap();
    let md = String::from_utf8(md.1.clone()).unwrap();
    assert!(md.contains("### Figures not drawn"), "{md}");
    assert!(md.contains("no trial finished"), "{md}");
}

/// A random search of 24 configurations: `curves.svg` has no legend of
/// drawn settings (no "lr=" text) and a colour bar instead, and no
/// metric-vs-lr figure joins configurations that differ in l2 (report.md
/// says why it is missing). Catches the 27-entry legend over the curves
/// with a palette that repeated.
#[test]
fn a_search_colours_curves_by_loss_and_draws_no_line_along_a_key() {
    use crate::train::CurvePoint;
    let src = "name = \"s\"\nseeds = 1\n[search]\nstrategy = \"random\"\nsamples = 24\nseed = 0\n[space]\nlr = { log_uniform = [1e-4, 1.0] }\nl2 = { log_uniform = [1e-6, 1e-2] }\n[[claims]]\nname = \"t\"\nalong = \"lr\"\nexpect = \"decreasing\"\n";
    let e = crate::testkit::study(src);
    let plan = Plan::new(&e).unwrap();
    let records: Vec<TrialRecord> = plan
        .trials
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut r = record(t, 0.1 + 0.01 * i as f64, Status::Ok);
            r.curve = vec![CurvePoint {
                epoch: 1,
                batch_loss: 0.5,
                eval: r.metrics,
            }];
            r
        })
        .collect();
    let (_, files) = render(&e, &plan, &records, None, &About::default(), None, None).unwrap();
    let text = |name: &str| {
        let f = files.iter().find(|f| f.0 == name).unwrap();
        String::from_utf8(f.1.clone()).unwrap()
    };
    let svg = text("figures/curves.svg");
    assert!(!texts(&svg).iter().any(|t| t.contains("lr=")), "a legend");
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let cells = elements(&doc, "rect")
        .iter()
        .filter(|n| n.attribute("stroke") == Some("none"))
        .count();
    assert!(cells >= 64, "no colour bar: {cells}");
    assert!(!files.iter().any(|f| f.0 == "figures/train_loss_vs_lr.svg"));
    let md = text("report.md");
    assert!(
        md.contains("`train_loss_vs_lr.svg`: lr is a searched key"),
        "{md}"
    );
}
