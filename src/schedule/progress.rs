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
/// sweep ends much later than it does.
pub(super) struct Progress {
    total: usize,
    total_cost: u64,
    done: AtomicUsize,
    done_cost: AtomicU64,
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
            start: Instant::now(),
            bars,
            last_line: Mutex::new(Instant::now()),
            quiet,
        }
    }

    pub(super) fn epoch(&self, worker: usize, label: &str, epoch: usize, epochs: usize, loss: f64) {
        if let Some((_, _, workers)) = &self.bars
            && let Some(b) = workers.get(worker)
        {
            b.set_message(format!("{label}  epoch {epoch}/{epochs}  loss {loss:.4}"));
        }
    }

    pub(super) fn finished(&self, worker: usize, cost: u64) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        let done_cost = self.done_cost.fetch_add(cost, Ordering::SeqCst) + cost;
        if let Some((_, overall, workers)) = &self.bars {
            overall.inc(cost);
            overall.set_message(format!("{done}/{} trials", self.total));
            if let Some(b) = workers.get(worker) {
                b.set_message("waiting");
            }
            return;
        }
        if self.quiet {
            return;
        }
        let mut last = self.last_line.lock().expect("lock");
        if done == self.total || last.elapsed() >= Duration::from_secs(5) {
            *last = Instant::now();
            let elapsed = self.start.elapsed().as_secs_f64();
            let share = done_cost as f64 / self.total_cost as f64;
            let eta = elapsed / share * (1.0 - share);
            eprintln!(
                "progress: {done}/{} trials ({:.0}% of the work), {:.1}s elapsed, ETA {:.0}s",
                self.total,
                100.0 * share,
                elapsed,
                eta
            );
        }
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
