//! Recurrent cells: one step forward, its vector-Jacobian product (reverse mode)
//! and its Jacobian-vector product (forward mode).
//!
//! Every cell keeps PyTorch's single-layer layout: `weight_ih (G*H, I)`,
//! `weight_hh (G*H, H)`, `bias_ih`, `bias_hh (G*H)`. The state `s` of a cell is a
//! flat vector whose first `H` entries are the output `h`; LSTM appends `c`. A cell
//! whose output is not a part of its state (the selective SSM's
//! `y_t = C_t h_t + D u_t`) has an output map ([`Cell::has_output_map`]).

mod elman;
mod gru;
mod lru;
mod lstm;
mod mingru;
mod minlstm;
mod params;
mod rglru;
mod slstm;
mod ssm;

pub use elman::{Elman, LayerNorm, Nonlinearity};
pub use gru::Gru;
pub use lru::Lru;
pub use lstm::Lstm;
pub use mingru::MinGru;
pub use minlstm::MinLstm;
pub use params::Params;
pub use rglru::RgLru;
pub use slstm::Slstm;
pub use ssm::Ssm;

use crate::error::{check_finite, Error, Result};
use crate::kernels::{axpy, Packed};
use crate::Real;

/// How a cell of one kind is built from its named parameters.
pub type Builder<F> = fn(&Params<F>) -> Result<Box<dyn Cell<F>>>;

/// The catalogue: every cell kind by name. A new cell is its file and one row here.
pub fn kinds<F: Real>() -> [(&'static str, Builder<F>); 9] {
    [
        ("elman", Elman::build),
        ("lstm", Lstm::build),
        ("gru", Gru::build),
        ("lru", Lru::build),
        ("mingru", MinGru::build),
        ("minlstm", MinLstm::build),
        ("rglru", RgLru::build),
        ("slstm", Slstm::build),
        ("ssm", Ssm::build),
    ]
}

/// Build the cell of kind `kind` from its named parameters.
pub fn build<F: Real>(kind: &str, p: &Params<F>) -> Result<Box<dyn Cell<F>>> {
    let all = kinds::<F>();
    match all.iter().find(|(name, _)| *name == kind) {
        Some((_, make)) => make(p),
        None => {
            let names: Vec<String> = all.iter().map(|(n, _)| format!("'{n}'")).collect();
            Err(Error::value(
                "kind",
                format!("one of {}", names.join(", ")),
                format!("'{kind}'"),
            ))
        }
    }
}

/// A cell whose step a team of threads computes unit by unit ([`crate::split`]).
///
/// Worker `p` owns units `u0..u0 + n`: the rows `q H + j` (every gate `q`, own unit
/// `j`) of the recurrent product `W_hh h_{t-1}` and of the input projection, and the
/// same units of every block of the state (`[h | c]` for an LSTM). The team computes
/// the product of the own rows and exchanges `h`; the cell does the rest here.
pub trait SplitStep<F: Real>: Sync {
    /// Blocks of `H` in the state (1; the LSTM's `[h | c]`: 2). Block 0 is `h`.
    fn state_blocks(&self) -> usize {
        1
    }
    /// Record entries per unit.
    fn record_per_unit(&self) -> usize;
    /// The bias inside the recurrent product (`G*H`; GRU: `[0, 0, b_hn]`, which `r`
    /// multiplies), or `None` when the product is simply added to the projection.
    fn product_bias(&self) -> Option<&[F]> {
        None
    }
    /// Whether the reverse step has a path to `h_{t-1}` outside the product (GRU's
    /// `z g`), which [`SplitStep::vjp_units`] writes into `direct`.
    fn has_direct(&self) -> bool {
        false
    }
    /// One step of `n` own units. `prod` holds the own rows of `W_hh h_{t-1}` plus `xp`
    /// (or plus [`SplitStep::product_bias`], with `xp` apart); `st` and `next` are the
    /// own units of every state block before and after the step.
    fn step_units(
        &self,
        n: usize,
        xp: &[F],
        prod: &mut [F],
        st: &[F],
        next: &mut [F],
        rec: &mut [F],
    );
    /// Where [`SplitStep::vjp_units`] leaves the adjoint of the projection `xp` (what
    /// the gradients of `W_ih` and `b_ih` are made of): `false` (default) when it is
    /// `gprod` itself, `true` when it is the first `G n` entries of `scratch` (GRU,
    /// whose recurrent `n` product is multiplied by `r`, so the two adjoints differ).
    fn xp_adjoint_in_scratch(&self) -> bool {
        false
    }
    /// The reverse step of `n` own units from their adjoint `g` (laid out like `st`):
    /// `gprod`, the adjoint of the own product rows (the team multiplies it by
    /// `W_hh^T`), `direct` (see [`SplitStep::has_direct`]) and `g_rest`, the own units'
    /// adjoint of the state blocks after `h` at `t - 1`. `scratch` has `G n` entries.
    #[allow(clippy::too_many_arguments)]
    fn vjp_units(
        &self,
        n: usize,
        rec: &[F],
        g: &[F],
        gprod: &mut [F],
        direct: &mut [F],
        g_rest: &mut [F],
        scratch: &mut [F],
    );
}

/// One step of a recurrence `s_t = f(s_{t-1}, x_t)` with its exact derivatives.
///
/// `xp` is the input projection of the step, `W_ih x_t` plus the biases the cell
/// folds into it (computed for many steps at once by one matrix product).
/// `rec` is what the forward step leaves for the derivative passes.
pub trait Cell<F: Real>: Send + Sync {
    /// Short name ("elman", "lstm", "gru").
    fn kind(&self) -> &'static str;
    /// Hidden size `H`.
    fn hidden(&self) -> usize;
    /// Input size `I`.
    fn input(&self) -> usize;
    /// Length of the state vector (`H`, or `2H` for LSTM's `(h, c)`).
    fn state_dim(&self) -> usize;
    /// Length `G*H` of the input projection.
    fn proj_dim(&self) -> usize {
        self.weights().rows()
    }
    /// Length of the per-step record.
    fn record_dim(&self) -> usize;
    /// Whether [`Cell::vjp`] reads `s_prev`. When it does not, the reverse pass of
    /// `grad_norms` keeps only the records (half the stored bytes for Elman, none
    /// for LRU) and passes an empty `s_prev`.
    fn vjp_reads_state(&self) -> bool {
        true
    }
    /// How a single sequence of this cell is split by hidden unit over several
    /// threads ([`crate::split`]); `None` when it cannot be.
    fn split(&self) -> Option<&dyn SplitStep<F>> {
        None
    }
    /// Scratch space the step and the derivative products need.
    fn scratch_dim(&self) -> usize;
    /// The dense weights.
    fn weights(&self) -> &Weights<F>;
    /// Bias added to `W_ih x` to form `xp` (`G*H`).
    fn proj_bias(&self) -> &[F];
    /// `s_next = f(s_prev, x)` given `xp` (projection with folded biases); fills `rec`.
    fn step(&self, xp: &[F], s_prev: &[F], s_next: &mut [F], rec: &mut [F], scratch: &mut [F]);
    /// Reverse mode: `g_prev = J_s^T g_next` and `g_xp = (d s_next / d xp)^T g_next`.
    #[allow(clippy::too_many_arguments)]
    fn vjp(
        &self,
        rec: &[F],
        s_prev: &[F],
        g_next: &[F],
        g_prev: &mut [F],
        g_xp: &mut [F],
        scratch: &mut [F],
    );
    /// Length of the memory cell inside the state (LSTM's `c`: `H`); 0 for cells
    /// without one. `grad_norms(wrt = cell)` needs it to be positive.
    fn memory_dim(&self) -> usize {
        0
    }
    /// The total adjoint `dL/dc_t` of the memory cell written by the step whose record is
    /// `rec`, given the adjoint `g = dL/ds_t` of the state it produced (whose `c` part
    /// holds only the path through `c_{t+1}`): it adds the path through the step's own
    /// output, e.g. LSTM's `h_t = o_t tanh(c_t)`. This is what autograd reports as
    /// `c_t.grad`. Writes `memory_dim()` values into `out`.
    fn memory_adjoint(&self, _rec: &[F], _g: &[F], _out: &mut [F]) {}
    /// Forward mode: `u_next = J_s u_prev`, with `J_s = d s_next / d s_prev`.
    fn jvp(&self, rec: &[F], s_prev: &[F], u_prev: &[F], u_next: &mut [F], scratch: &mut [F]);
    /// Forward mode with a tangent of the step's input projection as well:
    /// `u_next = J_s u_prev + (d s_next / d xp) dxp`, where `dxp = W_ih dx` for a tangent
    /// `dx` of the input (`G*H` values). This carries a perturbation of the inputs, and
    /// of a lower layer's outputs through a stack.
    #[allow(clippy::too_many_arguments)]
    fn jvp_xp(
        &self,
        rec: &[F],
        s_prev: &[F],
        u_prev: &[F],
        dxp: &[F],
        u_next: &mut [F],
        scratch: &mut [F],
    );

    /// Length of the output `y_t` (default [`Cell::hidden`]: `y_t = s_t[..H]`).
    fn output_dim(&self) -> usize {
        self.hidden()
    }
    /// Whether the output is computed by [`Cell::output`] rather than being the first
    /// `H` entries of the state (default `false`). Passes that cannot evaluate an
    /// output map refuse such cells, and they are never split over cores.
    fn has_output_map(&self) -> bool {
        false
    }
    /// Length of the leading part of the adjoint `dL/ds_t` whose norm
    /// `grad_norms(wrt = "state")` reports: default [`Cell::hidden`] (`||dL/dh_t||`,
    /// LSTM's `h` without `c`); the SSM reports its whole `D N` state.
    fn adjoint_dim(&self) -> usize {
        self.hidden()
    }
    /// The output `y = g(rec, s)` (`output_dim()` values) of the step whose record is
    /// `rec` and whose new state is `s`. Default `y = s[..output_dim()]`.
    fn output(&self, _rec: &[F], s: &[F], y: &mut [F]) {
        let m = self.output_dim();
        y[..m].copy_from_slice(&s[..m]);
    }
    /// Reverse of [`Cell::output`]: add `(dy/ds)^T gy` into `gs` and `(dy/dxp)^T gy`
    /// into `gxp` (the step's projection). Default `gs[..output_dim()] += gy`.
    fn output_vjp(&self, _rec: &[F], _s: &[F], gy: &[F], gs: &mut [F], _gxp: &mut [F]) {
        for (g, v) in gs.iter_mut().zip(&gy[..self.output_dim()]) {
            *g += *v;
        }
    }
    /// Add the output's direct parameter gradient `(dy/dtheta)^T gy` into `acc` (the
    /// layout of [`Cell::param_len`]); the part through `xp` goes through
    /// [`Cell::output_vjp`] and [`Cell::accumulate_grads`]. Default: nothing.
    fn output_param_grads(&self, _rec: &[F], _s: &[F], _gy: &[F], _acc: &mut [F]) {}

    /// Number of trainable parameters, laid out as `[W_ih | W_hh | b_ih | b_hh | extra]`
    /// (row-major, PyTorch shapes); the extras are cell-specific.
    fn param_len(&self) -> usize {
        let w = self.weights();
        w.rows() * (w.input() + w.hidden() + 2)
    }

    /// Add one step's parameter gradient to `acc` (in the computation dtype) given the adjoint `g_next` of
    /// `s_next`, the `g_xp` that [`Cell::vjp`] produced for it, and the input `x`.
    ///
    /// The default covers cells whose pre-activation is `xp + W_hh h + b_hh`:
    /// `dW_ih += g_xp x^T`, `dW_hh += g_xp h^T`, `db_ih = db_hh += g_xp`.
    #[allow(clippy::too_many_arguments)]
    fn accumulate_grads(
        &self,
        _rec: &[F],
        s_prev: &[F],
        x: &[F],
        _g_next: &[F],
        g_xp: &[F],
        _scratch: &mut [F],
        acc: &mut [F],
    ) {
        dense_grads(
            self.weights(),
            x,
            &s_prev[..self.weights().hidden()],
            g_xp,
            g_xp,
            acc,
        );
    }
}

/// [`Cell::jvp_xp`] of a cell in which entry `i` of `xp` reaches only entry `i mod S`
/// of the new state (the diagonal recurrences: minGRU, minLSTM, RG-LRU, LRU). That
/// part of the Jacobian is diagonal per block of `xp`, so one reverse step with a unit
/// adjoint of every state entry reads it off: `g_xp[q S + j] = d s_next[j] / d xp[q S + j]`.
pub(crate) fn diagonal_jvp_xp<F: Real, C: Cell<F> + ?Sized>(
    cell: &C,
    (rec, s_prev): (&[F], &[F]),
    u_prev: &[F],
    dxp: &[F],
    u_next: &mut [F],
    scratch: &mut [F],
) {
    let (s, gh) = (cell.state_dim(), cell.proj_dim());
    debug_assert!(gh % s == 0);
    cell.jvp(rec, s_prev, u_prev, u_next, scratch);
    let ones = vec![F::ONE; s];
    let mut g_prev = vec![F::ZERO; s];
    let mut k = vec![F::ZERO; gh];
    cell.vjp(rec, s_prev, &ones, &mut g_prev, &mut k, scratch);
    for (i, (ki, di)) in k.iter().zip(&dxp[..gh]).enumerate() {
        u_next[i % s] += *ki * *di;
    }
}

/// `dW_ih += d_in x^T`, `dW_hh += d_hh h^T`, `db_ih += d_in`, `db_hh += d_hh` in the
/// `[W_ih | W_hh | b_ih | b_hh]` layout of `acc`.
pub(crate) fn dense_grads<F: Real>(
    w: &Weights<F>,
    x: &[F],
    h: &[F],
    d_in: &[F],
    d_hh: &[F],
    acc: &mut [F],
) {
    let (rows, i, hd) = (w.rows(), w.input(), w.hidden());
    let (a_ih, rest) = acc.split_at_mut(rows * i);
    let (a_hh, rest) = rest.split_at_mut(rows * hd);
    let (a_bih, a_bhh) = rest.split_at_mut(rows);
    for r in 0..rows {
        let (di, dh) = (d_in[r], d_hh[r]);
        a_bih[r] += di;
        a_bhh[r] += dh;
        if di != F::ZERO {
            axpy(di, x, &mut a_ih[r * i..(r + 1) * i]);
        }
        if dh != F::ZERO {
            axpy(dh, h, &mut a_hh[r * hd..(r + 1) * hd]);
        }
    }
}

/// Dense weights in PyTorch layout, plus the transposes the derivative passes use.
#[derive(Clone, Debug)]
pub struct Weights<F> {
    hidden: usize,
    input: usize,
    rows: usize,
    /// `(G*H, I)` row-major.
    pub w_ih: Vec<F>,
    /// `(I, G*H)` row-major: `W_ih^T`, for `dL/dx = W_ih^T g_xp`.
    pub w_ih_t: Vec<F>,
    /// `(G*H, H)` row-major.
    pub w_hh: Vec<F>,
    /// `(H, G*H)` row-major: `W_hh^T`, for the reverse pass.
    pub w_hh_t: Vec<F>,
    /// `(G*H,)`, zeros when absent.
    pub b_ih: Vec<F>,
    /// `(G*H,)`, zeros when absent.
    pub b_hh: Vec<F>,
    /// `W_hh` packed for the forward product `W_hh h`.
    pub p_hh: Packed<F>,
    /// `W_hh^T` packed for the reverse product `W_hh^T g`.
    pub p_hh_t: Packed<F>,
    /// `W_ih^T` packed for input gradients `W_ih^T g_xp`.
    pub p_ih_t: Packed<F>,
    /// `(max(G*H, H, I),)` zeros, a bias for products that have none.
    pub zeros: Vec<F>,
}

fn transpose<F: Real>(a: &[F], rows: usize, cols: usize) -> Vec<F> {
    let mut t = vec![F::ZERO; a.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = a[r * cols + c];
        }
    }
    t
}

impl<F: Real> Weights<F> {
    /// Validate shapes and values of `G`-gate weights of hidden size `hidden`
    /// and input size `input`. Biases default to zeros.
    pub fn new(
        gates: usize,
        hidden: usize,
        input: usize,
        w_ih: Vec<F>,
        w_hh: Vec<F>,
        b_ih: Option<Vec<F>>,
        b_hh: Option<Vec<F>>,
    ) -> Result<Self> {
        if hidden == 0 {
            return Err(Error::value("hidden size", "at least 1", "0"));
        }
        let rows = gates * hidden;
        let expect = |name: &str, a: &[F], n: usize, shape: String| -> Result<()> {
            if a.len() == n {
                Ok(())
            } else {
                Err(Error::shape(
                    name,
                    format!("{n} elements {shape}"),
                    format!("{}", a.len()),
                ))
            }
        };
        expect(
            "weight_ih",
            &w_ih,
            rows * input,
            format!("({rows}, {input})"),
        )?;
        expect(
            "weight_hh",
            &w_hh,
            rows * hidden,
            format!("({rows}, {hidden})"),
        )?;
        check_finite("weight_ih", &w_ih)?;
        check_finite("weight_hh", &w_hh)?;
        let bias = |name: &str, b: Option<Vec<F>>| -> Result<Vec<F>> {
            match b {
                None => Ok(vec![F::ZERO; rows]),
                Some(b) => {
                    expect(name, &b, rows, format!("({rows},)"))?;
                    check_finite(name, &b)?;
                    Ok(b)
                }
            }
        };
        let b_ih = bias("bias_ih", b_ih)?;
        let b_hh = bias("bias_hh", b_hh)?;
        let w_ih_t = transpose(&w_ih, rows, input);
        let w_hh_t = transpose(&w_hh, rows, hidden);
        Ok(Weights {
            hidden,
            input,
            rows,
            p_hh: Packed::new(&w_hh, rows, hidden),
            p_hh_t: Packed::new(&w_hh_t, hidden, rows),
            p_ih_t: Packed::new(&w_ih_t, input, rows),
            w_ih_t,
            w_hh_t,
            w_ih,
            w_hh,
            b_ih,
            b_hh,
            zeros: vec![F::ZERO; rows.max(hidden).max(input)],
        })
    }

    /// Input weights only, for cells whose recurrence is not a dense matrix
    /// (`w_hh` and its transpose stay empty): `hidden` rows of `input` columns.
    pub fn input_only(hidden: usize, input: usize, w_ih: Vec<F>) -> Result<Self> {
        Self::projection(hidden, hidden, input, w_ih, None)
    }

    /// Input weights `(rows, input)` and bias `(rows,)` of a cell of hidden size
    /// `hidden` whose recurrence reads no matrix (gates computed from `x` alone).
    pub fn projection(
        hidden: usize,
        rows: usize,
        input: usize,
        w_ih: Vec<F>,
        b_ih: Option<Vec<F>>,
    ) -> Result<Self> {
        if hidden == 0 {
            return Err(Error::value("hidden size", "at least 1", "0"));
        }
        if w_ih.len() != rows * input {
            return Err(Error::shape(
                "weight_ih",
                format!("{} elements ({rows}, {input})", rows * input),
                format!("{}", w_ih.len()),
            ));
        }
        check_finite("weight_ih", &w_ih)?;
        let b_ih = match b_ih {
            None => vec![F::ZERO; rows],
            Some(b) if b.len() == rows => {
                check_finite("bias_ih", &b)?;
                b
            }
            Some(b) => {
                return Err(Error::shape(
                    "bias_ih",
                    format!("shape ({rows},)"),
                    format!("({},)", b.len()),
                ))
            }
        };
        let w_ih_t = transpose(&w_ih, rows, input);
        Ok(Weights {
            hidden,
            input,
            rows,
            p_hh: Packed::default(),
            p_hh_t: Packed::default(),
            p_ih_t: Packed::new(&w_ih_t, input, rows),
            w_ih_t,
            w_ih,
            w_hh: Vec::new(),
            w_hh_t: Vec::new(),
            b_ih,
            b_hh: vec![F::ZERO; rows],
            zeros: vec![F::ZERO; rows.max(hidden).max(input)],
        })
    }

    /// Hidden size `H`.
    pub fn hidden(&self) -> usize {
        self.hidden
    }
    /// Input size `I`.
    pub fn input(&self) -> usize {
        self.input
    }
    /// `G*H`.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// Logistic derivative from its value: `s (1 - s)`.
#[inline(always)]
pub(crate) fn dsig<F: Real>(s: F) -> F {
    s * (F::ONE - s)
}

/// Tanh derivative from its value: `1 - t^2`.
#[inline(always)]
pub(crate) fn dtanh<F: Real>(t: F) -> F {
    F::ONE - t * t
}
