//! `rnn_core`: exact forward passes, BPTT gradient norms and forward-mode
//! sensitivities of recurrent cells (Elman, LSTM, GRU) over very long sequences.
//!
//! Pure Rust, no Python. Everything is generic over `f32`/`f64` ([`Real`]); norms
//! are carried in the log domain so that they stay finite far below the float range.

// Numeric loops index several parallel slices by the same j; iterator zips of four or
// five slices would hide the formulas the doc comments state.
#![allow(clippy::needless_range_loop)]
#![deny(missing_docs)]

pub mod adjoint;
mod batch;
pub mod bptt;
pub mod cells;
pub mod error;
pub mod forward;
pub mod jvp;
pub mod kernels;
pub mod lyapunov;
mod real;
pub mod seq;
pub mod split;

pub use adjoint::{adjoints, AdjointArrays, Loss, Seed};
pub use bptt::{
    grad_norms, param_grads, plan_segment, plan_segment_with, reverse_sweep, reverse_sweep_states,
    BpttOptions, ParamGrads, Wrt,
};
pub use cells::{
    build, kinds, Cell, Elman, Gru, LayerNorm, Lru, Lstm, MinLstm, Nonlinearity, Params, RgLru,
    Slstm, SplitStep, Ssm, Weights,
};
pub use error::{Error, Result};
pub use forward::{forward, forward_states};
pub use jvp::{sensitivity, tangents, InputTangent, Part};
pub use lyapunov::{jacobian_norms, lyapunov_spectrum, Spectrum};
pub use real::Real;
pub use seq::Seq;
