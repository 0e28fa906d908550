//! Mini-batches of a compile-time width from a slice of samples, for hand-written loops.

use alloc::vec::Vec;
use core::marker::PhantomData;

use bytemuck::Zeroable;
use nalgebra::SMatrix;

use crate::train::LastBatch;
use crate::{Real, Rng};
use crate::{Sample, Target, gather};

/// A slice of samples and an order to visit them in, cut into batches of any compile-time
/// width `B`: what [`Trainer`](crate::Trainer) does each epoch, for a loop of your own.
///
/// `K` is the network's output width, which the target type `Y` fixes (`Class<C>` needs `C`
/// outputs, `[T; K]` needs `K`); it is inferred.
///
/// Batches follow the current order ([`Dataset::shuffle`] draws a new one), and an incomplete
/// last batch is completed with the first samples of the order or dropped, as
/// [`LastBatch`] says, exactly as in the trainer. The order is allocated once, in
/// [`Dataset::new`]; drawing batches allocates nothing.
///
/// ```
/// use static_nn::prelude::*;
/// use static_nn::data::Dataset;
///
/// type Net = (Dense<f32, 2, 8>, Tanh, Dense<f32, 8, 2>);
/// // Is x above y?
/// let samples: Vec<([f32; 2], Class<2>)> = (0..50)
///     .map(|i| {
///         let (x, y) = ((i % 7) as f32 / 7.0, (i % 5) as f32 / 5.0);
///         ([x, y], Class::new(usize::from(x > y)).unwrap())
///     })
///     .collect();
/// let mut net = Net::build(Init::XavierUniform, &mut Rng::new(0));
/// let mut adam = Adam::new(AdamConfig::with_lr(0.02));
/// let mut workspace = Workspace::new();
/// let mut data = Dataset::new(&samples);
/// let mut rng = Rng::new(1);
/// for _epoch in 0..100 {
///     data.shuffle(&mut rng);
///     for (x, labels) in data.batches::<10>(LastBatch::Fill) {
///         // x: SMatrix<f32, 2, 10>, labels: [Class<2>; 10]
///         workspace.train_step(&mut net, &mut adam, &CrossEntropy, &x, &labels);
///     }
/// }
/// let correct = samples.iter().filter(|(x, label)| net.classify(x) == *label).count();
/// assert!(correct >= 48, "{correct} of 50");
/// ```
#[derive(Clone, Debug)]
pub struct Dataset<'a, T, const I: usize, Y, const K: usize> {
    samples: &'a [Sample<T, I, Y>],
    order: Vec<usize>,
}

impl<'a, T: Real, Y: Target<T, K>, const I: usize, const K: usize> Dataset<'a, T, I, Y, K> {
    /// The samples, in slice order.
    pub fn new(samples: &'a [Sample<T, I, Y>]) -> Self {
        Self {
            samples,
            order: (0..samples.len()).collect(),
        }
    }

    /// The samples.
    pub fn samples(&self) -> &'a [Sample<T, I, Y>] {
        self.samples
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The order batches follow: sample indices.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// A new random order, drawn from `rng`. Each draw starts from slice order, as the
    /// trainer's epochs do, so the order depends only on the generator's state.
    pub fn shuffle(&mut self, rng: &mut Rng) {
        for (i, index) in self.order.iter_mut().enumerate() {
            *index = i;
        }
        rng.shuffle(&mut self.order);
    }

    /// The batches of one pass over the samples, in the current order: `⌈n / B⌉` of them with
    /// [`LastBatch::Fill`], `⌊n / B⌋` with [`LastBatch::Drop`]. Each is an input matrix whose
    /// columns are samples and the matching batch target.
    pub fn batches<const B: usize>(&self, last_batch: LastBatch) -> Batches<'_, 'a, T, I, Y, K, B> {
        let n = self.samples.len();
        let count = match last_batch {
            LastBatch::Fill => n.div_ceil(B),
            LastBatch::Drop => n / B,
        };
        Batches {
            dataset: self,
            next: 0,
            count,
            width: PhantomData,
        }
    }
}

/// The iterator of [`Dataset::batches`]: `(SMatrix<T, I, B>, Y::Batch<B>)` per batch.
#[derive(Clone, Debug)]
pub struct Batches<'d, 'a, T, const I: usize, Y, const K: usize, const B: usize> {
    dataset: &'d Dataset<'a, T, I, Y, K>,
    next: usize,
    count: usize,
    width: PhantomData<[(); B]>,
}

impl<T: Real, Y: Target<T, K>, const I: usize, const K: usize, const B: usize> Iterator
    for Batches<'_, '_, T, I, Y, K, B>
{
    type Item = (SMatrix<T, I, B>, Y::Batch<B>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == self.count {
            return None;
        }
        let order = &self.dataset.order;
        let start = self.next * B;
        let indices: [usize; B] = core::array::from_fn(|j| order[(start + j) % order.len()]);
        let mut inputs = SMatrix::zeros();
        let mut targets = <Y::Batch<B>>::zeroed();
        gather(self.dataset.samples, &indices, &mut inputs, &mut targets);
        self.next += 1;
        Some((inputs, targets))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.count - self.next;
        (left, Some(left))
    }
}

impl<T: Real, Y: Target<T, K>, const I: usize, const K: usize, const B: usize> ExactSizeIterator
    for Batches<'_, '_, T, I, Y, K, B>
{
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Class;

    /// Samples whose feature and target are their index.
    fn numbered(n: usize) -> Vec<([f64; 1], [f64; 1])> {
        (0..n).map(|i| ([i as f64], [i as f64 + 0.5])).collect()
    }

    fn columns<const B: usize>(x: &SMatrix<f64, 1, B>) -> Vec<usize> {
        x.iter().map(|&v| v as usize).collect()
    }

    #[test]
    fn batches_follow_the_order_and_fill_or_drop_the_last() {
        let samples = numbered(7);
        let data = Dataset::new(&samples);
        let filled: Vec<_> = data.batches::<3>(LastBatch::Fill).collect();
        assert_eq!(filled.len(), 3);
        assert_eq!(columns(&filled[2].0), [6, 0, 1]);
        assert_eq!(filled[2].1, SMatrix::<f64, 1, 3>::new(6.5, 0.5, 1.5));
        let dropped = data.batches::<3>(LastBatch::Drop);
        assert_eq!(dropped.len(), 2);
        assert_eq!(
            dropped.map(|(x, _)| columns(&x)).collect::<Vec<_>>(),
            [[0, 1, 2], [3, 4, 5]]
        );
    }

    #[test]
    fn shuffling_is_seeded_and_visits_every_sample() {
        let samples = numbered(10);
        let mut data = Dataset::new(&samples);
        data.shuffle(&mut Rng::new(4));
        let first = data.order().to_vec();
        let mut again = Dataset::new(&samples);
        again.shuffle(&mut Rng::new(4));
        assert_eq!(again.order(), first);
        assert_ne!(first, (0..10).collect::<Vec<_>>());
        let mut seen: Vec<usize> = data
            .batches::<5>(LastBatch::Drop)
            .flat_map(|(x, _)| columns(&x))
            .collect();
        assert_eq!(seen[..5], first[..5]);
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn class_targets_become_label_arrays() {
        let samples = [
            ([1.0_f32, 2.0], Class::<3>::new(2).unwrap()),
            ([3.0, 4.0], Class::new(0).unwrap()),
        ];
        let data = Dataset::new(&samples);
        let (x, labels) = data.batches::<2>(LastBatch::Fill).next().unwrap();
        assert_eq!(x, SMatrix::<f32, 2, 2>::new(1.0, 3.0, 2.0, 4.0));
        assert_eq!(labels.map(Class::index), [2, 0]);
        assert!(
            Dataset::new(&samples[..0])
                .batches::<2>(LastBatch::Fill)
                .next()
                .is_none()
        );
    }
}
