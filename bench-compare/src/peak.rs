//! The machine's floating-point peak on one core: independent fused multiply-adds in registers.

use std::fmt;
use std::time::Instant;

pub struct Peak {
    avx512: Option<f64>,
    avx2: Option<f64>,
}

impl fmt::Display for Peak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: Option<f64>| v.map_or("not available".to_string(), |g| format!("{g:.1} GFLOP/s"));
        write!(
            f,
            "one-core f32 FMA peak: AVX-512 {}, AVX2 {}",
            show(self.avx512),
            show(self.avx2)
        )
    }
}

/// Best of several runs of `kernel`, which performs `flops` floating-point operations.
fn best(kernel: impl Fn() -> f32, flops: f64) -> f64 {
    (0..20)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(kernel());
            flops / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

const ITERATIONS: usize = 200_000;
const CHAINS: usize = 12;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fma_avx512() -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm512_set1_ps(1.0); CHAINS];
    let a = _mm512_set1_ps(0.999_999);
    let b = _mm512_set1_ps(1e-7);
    for _ in 0..ITERATIONS {
        for v in &mut acc {
            *v = _mm512_fmadd_ps(*v, a, b);
        }
    }
    acc.iter().map(|v| _mm512_reduce_add_ps(*v)).sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_avx2() -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_set1_ps(1.0); CHAINS];
    let a = _mm256_set1_ps(0.999_999);
    let b = _mm256_set1_ps(1e-7);
    for _ in 0..ITERATIONS {
        for v in &mut acc {
            *v = _mm256_fmadd_ps(*v, a, b);
        }
    }
    let mut lanes = [0.0f32; 8];
    let mut total = 0.0;
    for v in acc {
        // SAFETY: `lanes` holds exactly the eight floats the store writes.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
        total += lanes.iter().sum::<f32>();
    }
    total
}

pub fn measure() -> Peak {
    let flops = |width: usize| (ITERATIONS * CHAINS * width * 2) as f64;
    #[cfg(target_arch = "x86_64")]
    {
        let avx512 = is_x86_feature_detected!("avx512f")
            // SAFETY: the feature was detected at run time.
            .then(|| best(|| unsafe { fma_avx512() }, flops(16)));
        let avx2 = (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
            // SAFETY: the features were detected at run time.
            .then(|| best(|| unsafe { fma_avx2() }, flops(8)));
        Peak { avx512, avx2 }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (best, flops);
        Peak {
            avx512: None,
            avx2: None,
        }
    }
}
