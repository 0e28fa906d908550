//! Many trainings at once: every configuration with every seed, on every core.

use alloc::vec::Vec;
use core::fmt;

/// Every combination of a list of configurations (hyper-parameters, say) and a list of seeds
/// (or folds), each trained by a function the caller gives, with a table of the results.
///
/// [`Sweep::run`] runs the trainings in parallel on every core with the `parallel` feature
/// (through `rayon`), one after another without it; [`Sweep::run_sequential`] always runs them
/// one after another. Each training builds its own network, optimizer and trainer, so runs
/// share nothing, each one's epochs allocate nothing (as [`Trainer`](crate::Trainer)'s do),
/// and a result depends only on its configuration and seed: the table is the same on one core
/// or many, and in (configuration, seed) order whatever order the runs finished in.
///
/// ```
/// use static_nn::train::Sweep;
///
/// // Which learning rate minimises a quadratic after 20 gradient steps, over three starts?
/// let sweep = Sweep::new([0.01, 0.1, 0.5], [1, 2, 3]);
/// let results = sweep.run(|&lr: &f64, seed| {
///     let mut x = seed as f64;
///     for _ in 0..20 {
///         x -= lr * 2.0 * x;
///     }
///     x * x
/// });
/// let (best, (mean, _std)) = results.best_by(|mean, _| -mean);
/// assert_eq!(*best, 0.5);
/// assert_eq!(mean, 0.0);
/// assert_eq!(results, sweep.run_sequential(|&lr: &f64, seed| {
///     let mut x = seed as f64;
///     for _ in 0..20 { x -= lr * 2.0 * x; }
///     x * x
/// }));
/// println!("{results}"); // one line per learning rate: mean ± std over the seeds
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep<C> {
    configs: Vec<C>,
    seeds: Vec<u64>,
}

impl<C> Sweep<C> {
    /// Every configuration of `configs` with every seed of `seeds`.
    pub fn new(configs: impl IntoIterator<Item = C>, seeds: impl IntoIterator<Item = u64>) -> Self {
        Self {
            configs: configs.into_iter().collect(),
            seeds: seeds.into_iter().collect(),
        }
    }

    /// The number of trainings: configurations times seeds.
    pub fn len(&self) -> usize {
        self.configs.len() * self.seeds.len()
    }

    /// Whether there is nothing to train.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `train(config, seed)` for every pair, one after another, and tabulates the scores
    /// it returns.
    pub fn run_sequential(&self, train: impl Fn(&C, u64) -> f64) -> SweepResults<C>
    where
        C: Clone,
    {
        let scores = (0..self.len())
            .map(|i| {
                let (config, seed) = self.pair(i);
                train(config, seed)
            })
            .collect();
        self.results(scores)
    }

    /// Runs `train(config, seed)` for every pair, on every core with the `parallel` feature
    /// (rayon's global pool: `RAYON_NUM_THREADS` limits it), and tabulates the scores it
    /// returns, in (configuration, seed) order.
    #[cfg(feature = "parallel")]
    pub fn run(&self, train: impl Fn(&C, u64) -> f64 + Sync) -> SweepResults<C>
    where
        C: Clone + Sync,
    {
        use rayon::prelude::*;
        let scores = (0..self.len())
            .into_par_iter()
            .map(|i| {
                let (config, seed) = self.pair(i);
                train(config, seed)
            })
            .collect();
        self.results(scores)
    }

    /// Runs `train(config, seed)` for every pair, one after another (the `parallel` feature
    /// runs them on every core), and tabulates the scores it returns.
    #[cfg(not(feature = "parallel"))]
    pub fn run(&self, train: impl Fn(&C, u64) -> f64) -> SweepResults<C>
    where
        C: Clone,
    {
        self.run_sequential(train)
    }

    fn pair(&self, index: usize) -> (&C, u64) {
        let per_config = self.seeds.len();
        (&self.configs[index / per_config], self.seeds[index % per_config])
    }

    fn results(&self, scores: Vec<f64>) -> SweepResults<C>
    where
        C: Clone,
    {
        SweepResults {
            configs: self.configs.clone(),
            seeds: self.seeds.clone(),
            scores,
        }
    }
}

/// The scores of a [`Sweep`]: one per configuration and seed, with each configuration's mean
/// and standard deviation. `Display` prints the table.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepResults<C> {
    /// The configurations, in the sweep's order.
    pub configs: Vec<C>,
    /// The seeds, in the sweep's order.
    pub seeds: Vec<u64>,
    /// `scores[c * seeds.len() + s]` is configuration `c`'s score with seed `s`.
    pub scores: Vec<f64>,
}

impl<C> SweepResults<C> {
    /// Configuration `config`'s scores, one per seed.
    ///
    /// # Panics
    /// If `config` is not below the number of configurations.
    pub fn scores_of(&self, config: usize) -> &[f64] {
        let n = self.seeds.len();
        &self.scores[config * n..(config + 1) * n]
    }

    /// Configuration `config`'s mean score and sample standard deviation over the seeds (0 for
    /// one seed).
    ///
    /// # Panics
    /// If `config` is not below the number of configurations.
    pub fn mean_std(&self, config: usize) -> (f64, f64) {
        let scores = self.scores_of(config);
        let n = scores.len() as f64;
        let mean = scores.iter().sum::<f64>() / n;
        let squares = scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>();
        let std = if scores.len() > 1 {
            libm::sqrt(squares / (n - 1.0))
        } else {
            0.0
        };
        (mean, std)
    }

    /// The configuration whose `(mean, std)` gives the largest `key` (`|mean, _| mean` for an
    /// accuracy, `|mean, _| -mean` for a loss), with its mean and standard deviation; the first
    /// such on ties.
    ///
    /// # Panics
    /// If there are no configurations or no seeds.
    pub fn best_by(&self, key: impl Fn(f64, f64) -> f64) -> (&C, (f64, f64)) {
        assert!(
            !self.configs.is_empty() && !self.seeds.is_empty(),
            "an empty sweep has no best configuration"
        );
        let mut best = 0;
        for c in 1..self.configs.len() {
            let (mean, std) = self.mean_std(c);
            let (best_mean, best_std) = self.mean_std(best);
            if key(mean, std) > key(best_mean, best_std) {
                best = c;
            }
        }
        (&self.configs[best], self.mean_std(best))
    }
}

impl<C: fmt::Debug> fmt::Display for SweepResults<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<24} {:>22}  runs", "configuration", "mean ± std")?;
        for (c, config) in self.configs.iter().enumerate() {
            let (mean, std) = self.mean_std(c);
            let name = alloc::format!("{config:?}");
            writeln!(f, "{name:<24} {mean:>12.6} ± {std:<8.6}  {}", self.seeds.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_configuration_and_seed_order_with_their_statistics() {
        let sweep = Sweep::new(["a", "b"], [10, 20, 30]);
        assert_eq!(sweep.len(), 6);
        let results = sweep.run(|config, seed| if *config == "a" { seed as f64 } else { 1.0 });
        assert_eq!(results.scores, [10.0, 20.0, 30.0, 1.0, 1.0, 1.0]);
        assert_eq!(results.scores_of(0), [10.0, 20.0, 30.0]);
        assert_eq!(results.mean_std(0), (20.0, 10.0));
        assert_eq!(results.mean_std(1), (1.0, 0.0));
        assert_eq!(results.best_by(|mean, _| -mean).0, &"b");
        assert_eq!(
            results,
            sweep.run_sequential(|config, seed| if *config == "a" { seed as f64 } else { 1.0 })
        );
        let table = results.to_string();
        assert!(
            table.contains("\"a\"") && table.contains("20.000000 ± 10.000000"),
            "{table}"
        );
    }
}
