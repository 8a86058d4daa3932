//! Bad input gives an error naming the argument, never a panic.

mod common;

use common::{elman, lstm, Rng};
use rnn_core::{grad_norms, BpttOptions, Error, Nonlinearity, Seq, Weights, Wrt};

#[test]
fn empty_and_mismatched_sequences_are_rejected() {
    assert!(matches!(
        Seq::<f64>::new(&[], 0, 1, 1),
        Err(Error::Value { .. })
    ));
    let e = Seq::<f64>::new(&[1.0, 2.0, 3.0], 2, 1, 2).unwrap_err();
    assert!(e.to_string().starts_with("x must have"), "{e}");
    let e = Seq::<f64>::new(&[1.0, f64::NAN], 2, 1, 1).unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
}

#[test]
fn weights_are_validated() {
    let e = Weights::<f64>::new(4, 3, 1, vec![0.0; 12], vec![0.0; 30], None, None).unwrap_err();
    assert!(e.to_string().starts_with("weight_hh"), "{e}");
    let e = Weights::<f64>::new(
        1,
        2,
        1,
        vec![0.0; 2],
        vec![0.0, f64::INFINITY, 0.0, 0.0],
        None,
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("weight_hh contains infinity"), "{e}");
    let e = Weights::<f64>::new(
        1,
        2,
        1,
        vec![0.0; 2],
        vec![0.0; 4],
        Some(vec![0.0; 3]),
        None,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("bias_ih"), "{e}");
    assert!(Nonlinearity::parse("sigmoid").is_err());
    assert!(Wrt::parse("hidden").is_err());
}

#[test]
fn wrong_vectors_and_wrt_are_rejected() {
    let mut rng = Rng::new(9);
    let cell = elman(&mut rng, 3, 1, Nonlinearity::Tanh, None, false);
    let x = vec![0.5; 4];
    let seq = Seq::new(&x, 4, 1, 1).unwrap();
    let mut out = vec![0.0; 4];
    let opts = BpttOptions::default();
    let e = grad_norms(&cell, &seq, &[0.0; 3], &[1.0; 2], &opts, &mut out).unwrap_err();
    assert!(e.to_string().starts_with("v must have"), "{e}");
    let e = grad_norms(&cell, &seq, &[0.0; 2], &[1.0; 3], &opts, &mut out).unwrap_err();
    assert!(e.to_string().starts_with("h0 must have"), "{e}");
    let e = grad_norms(
        &cell,
        &seq,
        &[0.0; 3],
        &[1.0; 3],
        &BpttOptions {
            wrt: Wrt::Cell,
            ..opts
        },
        &mut out,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("wrt must be"), "{e}");
    let l = lstm(&mut rng, 3, 2);
    let e = grad_norms(&l, &seq, &[0.0; 6], &[1.0; 3], &opts, &mut out).unwrap_err();
    assert!(e.to_string().contains("to match weight_ih"), "{e}");
}

#[test]
fn overflowing_trajectory_is_a_numerics_error() {
    // Linear cell with gain 1e3: the state overflows f64 after ~100 steps.
    let w = Weights::new(1, 1, 1, vec![1.0], vec![1e3], None, None).unwrap();
    let cell = rnn_core::Elman::new(w, Nonlinearity::Linear, None, None).unwrap();
    let x = vec![1.0; 200];
    let seq = Seq::new(&x, 200, 1, 1).unwrap();
    let mut out = vec![0.0; 200];
    let e = rnn_core::forward(&cell, &seq, &[0.0], &mut out, None).unwrap_err();
    assert!(matches!(e, Error::Numerics(_)), "{e}");
}
