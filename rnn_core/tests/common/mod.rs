//! Helpers shared by the integration tests: a small seeded RNG and cell builders.

#![allow(dead_code)]

use rnn_core::{Elman, Gru, LayerNorm, Lstm, Nonlinearity, Weights};

/// SplitMix64: deterministic, dependency-free test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
    pub fn vec(&mut self, n: usize, scale: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform() * scale).collect()
    }
}

pub fn weights(rng: &mut Rng, gates: usize, h: usize, i: usize, scale: f64) -> Weights<f64> {
    let r = gates * h;
    let s = scale / (h as f64).sqrt();
    Weights::new(
        gates,
        h,
        i,
        rng.vec(r * i, 1.0),
        rng.vec(r * h, s * 1.7),
        Some(rng.vec(r, 0.3)),
        Some(rng.vec(r, 0.3)),
    )
    .unwrap()
}

pub fn elman(
    rng: &mut Rng,
    h: usize,
    i: usize,
    nl: Nonlinearity,
    residual: Option<f64>,
    ln: bool,
) -> Elman<f64> {
    let w = weights(rng, 1, h, i, 1.0);
    let ln = ln.then(|| LayerNorm {
        weight: rng.vec(h, 1.0).iter().map(|v| 1.0 + 0.3 * v).collect(),
        bias: rng.vec(h, 0.2),
        eps: 1e-5,
    });
    Elman::new(w, nl, residual, ln).unwrap()
}

pub fn lstm(rng: &mut Rng, h: usize, i: usize) -> Lstm<f64> {
    Lstm::new(weights(rng, 4, h, i, 1.0)).unwrap()
}

pub fn gru(rng: &mut Rng, h: usize, i: usize) -> Gru<f64> {
    Gru::new(weights(rng, 3, h, i, 1.0)).unwrap()
}
