//! Live progress of a run, on stderr.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Live progress: an overall bar with ETA and one line per worker on a
/// terminal; plain periodic lines otherwise (indicatif draws nothing when
/// stderr is not a terminal, and CI logs should still show progress).
///
/// Trials run longest first, so the ETA is based on the estimated cost done
/// (multiply-adds), not on the count of trials: counting would promise the
/// sweep ends much later than it does. The cost done includes the epochs
/// finished of the trials still running, so the bar and the ETA move from
/// the first epoch, not only when the first (longest) trial ends; the
/// clock ticks on its own.
pub(super) struct Progress {
    total: usize,
    total_cost: u64,
    done: AtomicUsize,
    done_cost: AtomicU64,
    /// Per worker, the cost of the epochs its running trial has finished.
    partial: Vec<AtomicU64>,
    start: Instant,
    bars: Option<(MultiProgress, ProgressBar, Vec<ProgressBar>)>,
    last_line: Mutex<Instant>,
    quiet: bool,
}

impl Progress {
    pub(super) fn new(total: usize, total_cost: u64, jobs: usize, quiet: bool) -> Progress {
        let bars = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            // The bar's length is the total cost; the message counts trials.
            let overall = multi.add(ProgressBar::new(total_cost));
            overall.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40.cyan/blue}] {msg}, ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            overall.set_message(format!("0/{total} trials"));
            overall.enable_steady_tick(Duration::from_millis(500));
            let workers = (0..jobs)
                .map(|i| {
                    let b = multi.add(ProgressBar::new_spinner());
                    b.set_style(
                        ProgressStyle::with_template("  {prefix} {msg}").expect("valid template"),
                    );
                    b.set_prefix(format!("[{i}]"));
                    b.set_message("waiting");
                    b
                })
                .collect::<Vec<_>>();
            (multi, overall, workers)
        });
        Progress {
            total,
            total_cost: total_cost.max(1),
            done: AtomicUsize::new(0),
            done_cost: AtomicU64::new(0),
            partial: (0..jobs.max(1)).map(|_| AtomicU64::new(0)).collect(),
            start: Instant::now(),
            bars,
            last_line: Mutex::new(Instant::now()),
            quiet,
        }
    }

    /// Worker `worker`'s trial `label` finished `epoch` of `epochs`, the
    /// whole trial costing `cost`, at mean minibatch `loss`.
    pub(super) fn epoch(
        &self,
        worker: usize,
        label: &str,
        (epoch, epochs, cost): (usize, usize, u64),
        loss: f64,
    ) {
        let part = cost.saturating_mul(epoch as u64) / epochs.max(1) as u64;
        if let Some(p) = self.partial.get(worker) {
            p.store(part, Ordering::SeqCst);
        }
        if let Some((_, overall, workers)) = &self.bars {
            overall.set_position(self.cost_done());
            if let Some(b) = workers.get(worker) {
                b.set_message(format!(
                    "{label}  epoch {epoch}/{epochs}  loss {}",
                    crate::study::short_float(loss)
                ));
            }
            return;
        }
        self.line(false);
    }

    /// The cost of finished trials and of the finished epochs of running ones.
    fn cost_done(&self) -> u64 {
        let running: u64 = self.partial.iter().map(|p| p.load(Ordering::SeqCst)).sum();
        (self.done_cost.load(Ordering::SeqCst) + running).min(self.total_cost)
    }

    pub(super) fn finished(&self, worker: usize, cost: u64) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        self.done_cost.fetch_add(cost, Ordering::SeqCst);
        if let Some(p) = self.partial.get(worker) {
            p.store(0, Ordering::SeqCst);
        }
        if let Some((_, overall, workers)) = &self.bars {
            overall.set_position(self.cost_done());
            overall.set_message(format!("{done}/{} trials", self.total));
            if let Some(b) = workers.get(worker) {
                b.set_message("waiting");
            }
            return;
        }
        self.line(done == self.total);
    }

    /// Without a terminal: a plain line every five seconds (and at the end).
    fn line(&self, last_one: bool) {
        if self.quiet {
            return;
        }
        let mut last = self.last_line.lock().expect("lock");
        if !last_one && last.elapsed() < Duration::from_secs(5) {
            return;
        }
        *last = Instant::now();
        let elapsed = self.start.elapsed().as_secs_f64();
        let share = self.cost_done() as f64 / self.total_cost as f64;
        let eta = if share > 0.0 {
            format!("{:.0}s", elapsed / share * (1.0 - share))
        } else {
            "unknown".into()
        };
        eprintln!(
            "progress: {}/{} trials ({:.0}% of the work), {:.1}s elapsed, ETA {eta}",
            self.done.load(Ordering::SeqCst),
            self.total,
            100.0 * share,
            elapsed,
        );
    }

    pub(super) fn clear(&self) {
        if let Some((multi, overall, workers)) = &self.bars {
            for b in workers {
                b.finish_and_clear();
            }
            overall.finish();
            let _ = multi.clear();
        }
    }
}
