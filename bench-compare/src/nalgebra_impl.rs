//! The workloads written plainly with nalgebra's statically sized matrices, as a user would:
//! forward `W x + b`, backward with transposes, an Adam loop over the parameters. The first
//! layer skips its input gradient, as static-nn's does, so both do the same arithmetic.
//!
//! Two contenders share this code and differ only in their three matrix products ([`Products`]):
//! - "nalgebra": the operators on the statically sized matrices (`W * x`, `dz * x.transpose()`,
//!   `W.transpose() * dz`), which nalgebra computes with its own loops;
//! - "nalgebra + matrixmultiply": the products whose four sizes all exceed 5 through
//!   `Matrix::gemm` on views of the same storage with run-time (`Dyn`) shapes and strides,
//!   transposes included (no copies). nalgebra (with its `std` feature, which this crate
//!   enables) hands those to the `matrixmultiply` crate's `sgemm`, with its packed,
//!   cache-blocked kernels chosen at run time for AVX2/FMA. nalgebra offers no feature that
//!   routes statically sized products to `matrixmultiply` (its `gemm` does so only when a
//!   dimension is `Dyn`), so this is how a user gets it. Smaller products (all of W1's, and W2's
//!   4-output layer) keep the static operators: nalgebra would not call `matrixmultiply` for
//!   them either, and its `Dyn` fallback loop crashed (a segmentation fault, not investigated
//!   further) on the transposed views of W1's and W2's training steps.
use std::cell::RefCell;
use std::hint::black_box;
use std::marker::PhantomData;
use std::rc::Rc;

use nalgebra::{DMatrixViewMut, Dyn, MatrixView, SMatrix, SVector};

use std::cell::Cell;

use crate::{Batches, Contender, next};

/// The three products of a dense layer, column-major `f32`.
pub trait Products: 'static {
    /// The contender's name in the table.
    const NAME: &'static str;
    /// `W x` for `W` of `O × I` and `x` of `I × B`.
    fn forward<const I: usize, const O: usize, const B: usize>(
        w: &SMatrix<f32, O, I>,
        x: &SMatrix<f32, I, B>,
    ) -> SMatrix<f32, O, B>;
    /// `dz xᵀ`.
    fn weight_gradient<const I: usize, const O: usize, const B: usize>(
        dz: &SMatrix<f32, O, B>,
        x: &SMatrix<f32, I, B>,
    ) -> SMatrix<f32, O, I>;
    /// `Wᵀ dz`.
    fn input_gradient<const I: usize, const O: usize, const B: usize>(
        w: &SMatrix<f32, O, I>,
        dz: &SMatrix<f32, O, B>,
    ) -> SMatrix<f32, I, B>;
}

/// nalgebra's operators on statically sized matrices.
pub struct Plain;

impl Products for Plain {
    const NAME: &'static str = "nalgebra";
    fn forward<const I: usize, const O: usize, const B: usize>(
        w: &SMatrix<f32, O, I>,
        x: &SMatrix<f32, I, B>,
    ) -> SMatrix<f32, O, B> {
        w * x
    }
    fn weight_gradient<const I: usize, const O: usize, const B: usize>(
        dz: &SMatrix<f32, O, B>,
        x: &SMatrix<f32, I, B>,
    ) -> SMatrix<f32, O, I> {
        dz * x.transpose()
    }
    fn input_gradient<const I: usize, const O: usize, const B: usize>(
        w: &SMatrix<f32, O, I>,
        dz: &SMatrix<f32, O, B>,
    ) -> SMatrix<f32, I, B> {
        w.transpose() * dz
    }
}

/// nalgebra's `gemm` on `Dyn` views, which calls `matrixmultiply::sgemm`.
pub struct Blocked;

/// A `rows × columns` view of column-major storage with the given row and column strides: a
/// matrix (`1`, `rows`) or its transpose (`columns`, `1`) without copying.
fn view(data: &[f32], rows: usize, columns: usize, strides: (usize, usize)) -> MatrixView<'_, f32, Dyn, Dyn, Dyn, Dyn> {
    MatrixView::from_slice_with_strides_generic(data, Dyn(rows), Dyn(columns), Dyn(strides.0), Dyn(strides.1))
}

/// Whether nalgebra's `Dyn` gemm hands an `r × k` by `k × c` product to `matrixmultiply`.
const fn goes_to_matrixmultiply(r: usize, k: usize, c: usize) -> bool {
    r > 5 && k > 5 && c > 5
}

/// `a b` into a new `R × C` matrix through nalgebra's `Dyn` gemm.
fn blocked<const R: usize, const C: usize>(
    a: MatrixView<'_, f32, Dyn, Dyn, Dyn, Dyn>,
    b: MatrixView<'_, f32, Dyn, Dyn, Dyn, Dyn>,
) -> SMatrix<f32, R, C> {
    let mut c = SMatrix::<f32, R, C>::zeros();
    DMatrixViewMut::from_slice(c.as_mut_slice(), R, C).gemm(1.0, &a, &b, 0.0);
    c
}

impl Products for Blocked {
    const NAME: &'static str = "nalgebra + matrixmultiply";
    fn forward<const I: usize, const O: usize, const B: usize>(
        w: &SMatrix<f32, O, I>,
        x: &SMatrix<f32, I, B>,
    ) -> SMatrix<f32, O, B> {
        if !goes_to_matrixmultiply(O, I, B) {
            return Plain::forward(w, x);
        }
        blocked(view(w.as_slice(), O, I, (1, O)), view(x.as_slice(), I, B, (1, I)))
    }
    fn weight_gradient<const I: usize, const O: usize, const B: usize>(
        dz: &SMatrix<f32, O, B>,
        x: &SMatrix<f32, I, B>,
    ) -> SMatrix<f32, O, I> {
        if !goes_to_matrixmultiply(O, B, I) {
            return Plain::weight_gradient(dz, x);
        }
        blocked(view(dz.as_slice(), O, B, (1, O)), view(x.as_slice(), B, I, (I, 1)))
    }
    fn input_gradient<const I: usize, const O: usize, const B: usize>(
        w: &SMatrix<f32, O, I>,
        dz: &SMatrix<f32, O, B>,
    ) -> SMatrix<f32, I, B> {
        if !goes_to_matrixmultiply(I, O, B) {
            return Plain::input_gradient(w, dz);
        }
        blocked(view(w.as_slice(), I, O, (O, 1)), view(dz.as_slice(), O, B, (1, O)))
    }
}

struct Linear<P, const I: usize, const O: usize> {
    products: PhantomData<P>,
    w: SMatrix<f32, O, I>,
    b: SVector<f32, O>,
    grad_w: SMatrix<f32, O, I>,
    grad_b: SVector<f32, O>,
    m_w: SMatrix<f32, O, I>,
    v_w: SMatrix<f32, O, I>,
    m_b: SVector<f32, O>,
    v_b: SVector<f32, O>,
}

impl<P: Products, const I: usize, const O: usize> Linear<P, I, O> {
    fn new(rng: &mut static_nn::Rng) -> Box<Self> {
        let bound = (6.0 / I as f64).sqrt();
        Box::new(Self {
            products: PhantomData,
            w: SMatrix::from_fn(|_, _| rng.uniform(-bound, bound) as f32),
            b: SVector::zeros(),
            grad_w: SMatrix::zeros(),
            grad_b: SVector::zeros(),
            m_w: SMatrix::zeros(),
            v_w: SMatrix::zeros(),
            m_b: SVector::zeros(),
            v_b: SVector::zeros(),
        })
    }

    fn forward<const B: usize>(&self, x: &SMatrix<f32, I, B>) -> SMatrix<f32, O, B> {
        let mut z = P::forward(&self.w, x);
        for mut column in z.column_iter_mut() {
            column += &self.b;
        }
        z
    }

    fn backward_parameters<const B: usize>(&mut self, x: &SMatrix<f32, I, B>, dz: &SMatrix<f32, O, B>) {
        self.grad_w = P::weight_gradient(dz, x);
        self.grad_b = dz.column_sum();
    }

    fn backward<const B: usize>(&mut self, x: &SMatrix<f32, I, B>, dz: &SMatrix<f32, O, B>) -> SMatrix<f32, I, B> {
        self.backward_parameters(x, dz);
        P::input_gradient(&self.w, dz)
    }

    fn adam(&mut self, t: i32) {
        adam(
            self.w.as_mut_slice(),
            self.grad_w.as_slice(),
            self.m_w.as_mut_slice(),
            self.v_w.as_mut_slice(),
            t,
        );
        adam(
            self.b.as_mut_slice(),
            self.grad_b.as_slice(),
            self.m_b.as_mut_slice(),
            self.v_b.as_mut_slice(),
            t,
        );
    }
}

fn adam(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], t: i32) {
    let (lr, beta1, beta2, eps) = (1e-3f32, 0.9f32, 0.999f32, 1e-8f32);
    let correction1 = 1.0 - beta1.powi(t);
    let correction2 = 1.0 - beta2.powi(t);
    for i in 0..p.len() {
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i];
        p[i] -= lr * (m[i] / correction1) / ((v[i] / correction2).sqrt() + eps);
    }
}

fn relu<const R: usize, const C: usize>(z: &SMatrix<f32, R, C>) -> SMatrix<f32, R, C> {
    z.map(|v| v.max(0.0))
}

fn relu_backward<const R: usize, const C: usize>(
    z: &SMatrix<f32, R, C>,
    dh: &SMatrix<f32, R, C>,
) -> SMatrix<f32, R, C> {
    dh.zip_map(z, |d, v| if v > 0.0 { d } else { 0.0 })
}

fn mse<const R: usize, const C: usize>(y: &SMatrix<f32, R, C>, t: &SMatrix<f32, R, C>) -> (f32, SMatrix<f32, R, C>) {
    let n = (R * C) as f32;
    let r = y - t;
    (r.norm_squared() / n, r * (2.0 / n))
}

fn tanh_backward<const R: usize, const C: usize>(
    h: &SMatrix<f32, R, C>,
    dh: &SMatrix<f32, R, C>,
) -> SMatrix<f32, R, C> {
    dh.zip_map(h, |d, h| d * (1.0 - h * h))
}

/// Batches cycled through step by step: inputs `I × B`, regression targets `K × B`.
struct Data<const I: usize, const K: usize, const B: usize> {
    xs: Vec<SMatrix<f32, I, B>>,
    targets: Vec<SMatrix<f32, K, B>>,
    train_index: usize,
    infer_index: Cell<usize>,
}

impl<const I: usize, const K: usize, const B: usize> Data<I, K, B> {
    fn new(batches: &Batches) -> Self {
        Self {
            xs: batches.inputs.iter().map(|v| SMatrix::from_column_slice(v)).collect(),
            targets: batches.targets.iter().map(|v| SMatrix::from_column_slice(v)).collect(),
            train_index: 0,
            infer_index: Cell::new(0),
        }
    }

    fn next_training(&mut self) -> (&SMatrix<f32, I, B>, &SMatrix<f32, K, B>) {
        let k = next(&mut self.train_index, self.xs.len());
        (&self.xs[k], &self.targets[k])
    }

    fn next_inference(&self) -> &SMatrix<f32, I, B> {
        let mut k = self.infer_index.get();
        next(&mut k, self.xs.len());
        &self.xs[self.infer_index.replace(k)]
    }
}

/// One network with its data: a training step and an inference pass.
trait Network {
    fn train(&mut self) -> f32;
    fn infer(&self);
}

struct W1<P> {
    l1: Box<Linear<P, 2, 16>>,
    l2: Box<Linear<P, 16, 16>>,
    l3: Box<Linear<P, 16, 1>>,
    data: Data<2, 1, 1>,
    t: i32,
}

impl<P: Products> Network for W1<P> {
    fn train(&mut self) -> f32 {
        let (x, target) = self.data.next_training();
        let x = black_box(x);
        let h1 = self.l1.forward(x).map(f32::tanh);
        let h2 = self.l2.forward(&h1).map(f32::tanh);
        let y = self.l3.forward(&h2);
        let (loss, dy) = mse(&y, target);
        let dh2 = self.l3.backward(&h2, &dy);
        let dh1 = self.l2.backward(&h1, &tanh_backward(&h2, &dh2));
        self.l1.backward_parameters(x, &tanh_backward(&h1, &dh1));
        self.t += 1;
        self.l1.adam(self.t);
        self.l2.adam(self.t);
        self.l3.adam(self.t);
        loss
    }

    fn infer(&self) {
        let h1 = self.l1.forward(black_box(self.data.next_inference())).map(f32::tanh);
        let h2 = self.l2.forward(&h1).map(f32::tanh);
        black_box(self.l3.forward(&h2));
    }
}

struct W2<P> {
    l1: Box<Linear<P, 8, 32>>,
    l2: Box<Linear<P, 32, 32>>,
    l3: Box<Linear<P, 32, 4>>,
    data: Data<8, 4, 8>,
    t: i32,
}

impl<P: Products> Network for W2<P> {
    fn train(&mut self) -> f32 {
        let (x, target) = self.data.next_training();
        let x = black_box(x);
        let z1 = self.l1.forward(x);
        let h1 = relu(&z1);
        let z2 = self.l2.forward(&h1);
        let h2 = relu(&z2);
        let y = self.l3.forward(&h2);
        let (loss, dy) = mse(&y, target);
        let dh2 = self.l3.backward(&h2, &dy);
        let dh1 = self.l2.backward(&h1, &relu_backward(&z2, &dh2));
        self.l1.backward_parameters(x, &relu_backward(&z1, &dh1));
        self.t += 1;
        self.l1.adam(self.t);
        self.l2.adam(self.t);
        self.l3.adam(self.t);
        loss
    }

    fn infer(&self) {
        let h1 = relu(&self.l1.forward(black_box(self.data.next_inference())));
        let h2 = relu(&self.l2.forward(&h1));
        black_box(self.l3.forward(&h2));
    }
}

struct W3<P> {
    l1: Box<Linear<P, 784, 128>>,
    l2: Box<Linear<P, 128, 10>>,
    xs: Vec<Box<SMatrix<f32, 784, 32>>>,
    classes: Vec<Vec<usize>>,
    train_index: usize,
    infer_index: Cell<usize>,
    t: i32,
}

impl<P: Products> Network for W3<P> {
    fn train(&mut self) -> f32 {
        let k = next(&mut self.train_index, self.xs.len());
        let (x, classes) = (black_box(&*self.xs[k]), &self.classes[k]);
        let z1 = self.l1.forward(x);
        let h1 = relu(&z1);
        let logits = self.l2.forward(&h1);
        // Softmax cross-entropy, mean over the batch.
        let mut loss = 0.0;
        let mut dlogits = logits;
        for (j, mut column) in dlogits.column_iter_mut().enumerate() {
            let max = column.max();
            column.apply(|v| *v = (*v - max).exp());
            let sum = column.sum();
            loss += sum.ln() + max - logits[(classes[j], j)];
            column /= sum * 32.0;
            column[classes[j]] -= 1.0 / 32.0;
        }
        let dh1 = self.l2.backward(&h1, &dlogits);
        self.l1.backward_parameters(x, &relu_backward(&z1, &dh1));
        self.t += 1;
        self.l1.adam(self.t);
        self.l2.adam(self.t);
        loss / 32.0
    }

    fn infer(&self) {
        let mut k = self.infer_index.get();
        next(&mut k, self.xs.len());
        let x = &*self.xs[self.infer_index.replace(k)];
        let h1 = relu(&self.l1.forward(black_box(x)));
        black_box(self.l2.forward(&h1));
    }
}

struct W4<P> {
    first: Box<Linear<P, 16, 64>>,
    hidden: Vec<Box<Linear<P, 64, 64>>>,
    last: Box<Linear<P, 64, 16>>,
    data: Data<16, 16, 16>,
    t: i32,
}

impl<P: Products> Network for W4<P> {
    fn train(&mut self) -> f32 {
        let (x, target) = self.data.next_training();
        let x = black_box(x);
        // Pre-activations of the six hidden layers and their outputs.
        let mut z = [SMatrix::<f32, 64, 16>::zeros(); 6];
        let mut h = [SMatrix::<f32, 64, 16>::zeros(); 6];
        z[0] = self.first.forward(x);
        h[0] = relu(&z[0]);
        for (i, layer) in self.hidden.iter().enumerate() {
            z[i + 1] = layer.forward(&h[i]);
            h[i + 1] = relu(&z[i + 1]);
        }
        let y = self.last.forward(&h[5]);
        let (loss, dy) = mse(&y, target);
        let mut dh = self.last.backward(&h[5], &dy);
        for i in (0..5).rev() {
            dh = self.hidden[i].backward(&h[i], &relu_backward(&z[i + 1], &dh));
        }
        self.first.backward_parameters(x, &relu_backward(&z[0], &dh));
        self.t += 1;
        self.first.adam(self.t);
        for layer in &mut self.hidden {
            layer.adam(self.t);
        }
        self.last.adam(self.t);
        loss
    }

    fn infer(&self) {
        let mut h = relu(&self.first.forward(black_box(self.data.next_inference())));
        for layer in &self.hidden {
            h = relu(&layer.forward(&h));
        }
        black_box(self.last.forward(&h));
    }
}

fn wrap<N: Network + 'static>(name: &'static str, net: N) -> Contender {
    let trained = Rc::new(RefCell::new(net));
    let inferred = trained.clone();
    Contender {
        name,
        train: Box::new(move || {
            black_box(trained.borrow_mut().train());
        }),
        infer: Box::new(move || inferred.borrow().infer()),
    }
}

/// The nalgebra version of workload `k` (0 for W1 ... 3 for W4) with the products `P`, cycling
/// through `count` batches.
pub fn contender<P: Products>(k: usize, count: usize) -> Contender {
    let mut rng = static_nn::Rng::new(1);
    let batches = Batches::of_workload(k, count);
    match k {
        0 => wrap(
            P::NAME,
            W1::<P> {
                l1: Linear::new(&mut rng),
                l2: Linear::new(&mut rng),
                l3: Linear::new(&mut rng),
                data: Data::new(&batches),
                t: 0,
            },
        ),
        1 => wrap(
            P::NAME,
            W2::<P> {
                l1: Linear::new(&mut rng),
                l2: Linear::new(&mut rng),
                l3: Linear::new(&mut rng),
                data: Data::new(&batches),
                t: 0,
            },
        ),
        2 => wrap(
            P::NAME,
            W3::<P> {
                l1: Linear::new(&mut rng),
                l2: Linear::new(&mut rng),
                xs: batches
                    .inputs
                    .iter()
                    .map(|v| Box::new(SMatrix::from_column_slice(v)))
                    .collect(),
                classes: batches.classes.clone(),
                train_index: 0,
                infer_index: Cell::new(0),
                t: 0,
            },
        ),
        _ => wrap(
            P::NAME,
            W4::<P> {
                first: Linear::new(&mut rng),
                hidden: (0..5).map(|_| Linear::new(&mut rng)).collect(),
                last: Linear::new(&mut rng),
                data: Data::new(&batches),
                t: 0,
            },
        ),
    }
}
