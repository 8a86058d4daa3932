//! `longdep._core`: thin pyo3 bindings over `rnn_core`.
//!
//! This file converts NumPy arrays to slices, builds cells from a spec dict,
//! releases the GIL around every computation and maps `rnn_core::Error` to the
//! `longdep.errors` exception classes. It holds no numerics.

use numpy::{
    Element, PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use rnn_core::{BpttOptions, Cell, Error, Params, Part, Real, Seq, Wrt};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The `longdep.errors` classes, declared once (imported when first raised).
mod exc {
    pyo3::import_exception!(longdep.errors, ArgumentError);
    pyo3::import_exception!(longdep.errors, BudgetError);
    pyo3::import_exception!(longdep.errors, LongdepError);
    pyo3::import_exception!(longdep.errors, NumericsError);
    pyo3::import_exception!(longdep.errors, ShapeError);
}

/// An `rnn_core::Error` on its way to Python (a local type, so that `From` can be
/// implemented for `PyErr` and `?` converts).
struct CoreError(Error);

impl From<Error> for CoreError {
    fn from(e: Error) -> Self {
        CoreError(e)
    }
}

impl From<CoreError> for PyErr {
    fn from(CoreError(e): CoreError) -> Self {
        let msg = e.to_string();
        match e {
            Error::Shape { .. } => exc::ShapeError::new_err(msg),
            Error::Value { .. } => exc::ArgumentError::new_err(msg),
            Error::NonFinite { .. } | Error::Numerics(_) => exc::NumericsError::new_err(msg),
            Error::Resource(_) => exc::BudgetError::new_err(msg),
            Error::Cancelled => exc::LongdepError::new_err(msg),
        }
    }
}

/// The `longdep.errors` exception that matches `e`.
fn to_py(e: Error) -> PyErr {
    CoreError(e).into()
}

/// Run `f` on a worker thread without the GIL, and check for signals every
/// 100 ms while it runs: Ctrl-C sets the cancel flag, the computation stops at
/// its next block of steps, and the KeyboardInterrupt propagates. A Rust panic
/// becomes a `LongdepError`, never an abort.
fn compute<T: Send>(
    py: Python<'_>,
    f: impl FnOnce(&AtomicBool) -> rnn_core::Result<T> + Send,
) -> PyResult<T> {
    let cancel = Arc::new(AtomicBool::new(false));
    let _running = Running::register(&cancel);
    let cancel: &AtomicBool = &cancel;
    let finished = (Mutex::new(false), Condvar::new());
    let res = std::thread::scope(|scope| {
        let (cancel, finished) = (&cancel, &finished);
        let worker = scope.spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(|| f(cancel)));
            *finished.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
            finished.1.notify_all();
            r
        });
        let wait = |limit: Option<Duration>| {
            let guard = finished.0.lock().unwrap_or_else(|e| e.into_inner());
            match limit {
                Some(d) => {
                    let (g, _) = finished
                        .1
                        .wait_timeout_while(guard, d, |done| !*done)
                        .unwrap_or_else(|e| e.into_inner());
                    *g
                }
                None => *finished
                    .1
                    .wait_while(guard, |done| !*done)
                    .unwrap_or_else(|e| e.into_inner()),
            }
        };
        loop {
            if py.detach(|| wait(Some(Duration::from_millis(100)))) {
                break;
            }
            if let Err(e) = py.check_signals() {
                // Ctrl-C stops the whole program's work: this call and every other
                // running call, whichever thread made it.
                cancel_all(None);
                py.detach(|| wait(None));
                let _ = worker.join();
                return Err(e);
            }
        }
        match worker.join() {
            Ok(r) => Ok(r),
            Err(p) => Ok(Err(p)),
        }
    })?;
    match res {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(e)),
        Err(p) => {
            let what = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(exc::LongdepError::new_err(format!(
                "internal error in longdep._core: {what}"
            )))
        }
    }
}

/// The calls running now: the Python thread that made each (its
/// `threading.get_ident()`) and its cancel flag, so that [`cancel`] can stop them from
/// any thread.
static RUNNING: Mutex<Vec<(u64, Arc<AtomicBool>)>> = Mutex::new(Vec::new());

/// The calling thread's `threading.get_ident()` (`pthread_self` on POSIX).
fn thread_ident() -> u64 {
    #[cfg(unix)]
    {
        // SAFETY: `pthread_self` has no preconditions and only returns the caller's id.
        (unsafe { libc::pthread_self() }) as u64
    }
    #[cfg(not(unix))]
    {
        0
    }
}

/// A call's entry in [`RUNNING`], removed when the call ends (also by unwinding).
struct Running(Arc<AtomicBool>);

impl Running {
    fn register(flag: &Arc<AtomicBool>) -> Running {
        RUNNING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((thread_ident(), flag.clone()));
        Running(flag.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut all = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|(_, f)| !Arc::ptr_eq(f, &self.0));
    }
}

/// Cancel the running calls made from thread `ident` (`threading.get_ident()`), or every
/// running call; returns how many were asked to stop. Each stops at its next check
/// (a block of steps) and raises `LongdepError("cancelled")` in its own thread.
#[pyfunction]
#[pyo3(signature = (ident=None))]
fn cancel(ident: Option<u64>) -> usize {
    cancel_all(ident)
}

fn cancel_all(ident: Option<u64>) -> usize {
    let all = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let mut n = 0;
    for (who, flag) in all.iter() {
        if ident.is_none_or(|i| i == *who) {
            flag.store(true, Ordering::Relaxed);
            n += 1;
        }
    }
    n
}

/// The spec-dict key under which the built cell is kept (see [`cell_of`]).
const BUILT: &str = "_built";

/// A cell converted and packed for the core once, kept in the spec dict that the
/// Python cell caches per dtype: later calls and training steps reuse it instead of
/// copying and packing the weights again.
#[pyclass(frozen, module = "longdep._core")]
struct Built {
    f64: Option<Arc<dyn Cell<f64>>>,
    f32: Option<Arc<dyn Cell<f32>>>,
}

/// The computation dtypes a [`Built`] can hold.
trait Held: Real + Element {
    fn take(b: &Built) -> Option<Arc<dyn Cell<Self>>>;
    fn hold(c: Arc<dyn Cell<Self>>) -> Built;
}

impl Held for f64 {
    fn take(b: &Built) -> Option<Arc<dyn Cell<f64>>> {
        b.f64.clone()
    }
    fn hold(c: Arc<dyn Cell<f64>>) -> Built {
        Built {
            f64: Some(c),
            f32: None,
        }
    }
}

impl Held for f32 {
    fn take(b: &Built) -> Option<Arc<dyn Cell<f32>>> {
        b.f32.clone()
    }
    fn hold(c: Arc<dyn Cell<f32>>) -> Built {
        Built {
            f64: None,
            f32: Some(c),
        }
    }
}

/// The cell of a spec dict: the one built earlier from the same dict, or built now
/// (and kept in the dict).
fn cell_of<F: Held>(spec: &Bound<'_, PyDict>) -> PyResult<Arc<dyn Cell<F>>> {
    if let Some(item) = spec.get_item(BUILT)? {
        if let Ok(b) = item.cast::<Built>() {
            if let Some(c) = F::take(b.get()) {
                return Ok(c);
            }
        }
    }
    let cell: Arc<dyn Cell<F>> = Arc::from(build_cell::<F>(spec)?);
    spec.set_item(BUILT, Bound::new(spec.py(), F::hold(cell.clone()))?)?;
    Ok(cell)
}

/// Build the cell a spec dict describes: `kind`, and every other entry by its name
/// (arrays of the computation dtype, numbers, booleans as 0/1, strings; None is left
/// out). Which names a kind reads is the cell's own business (`rnn_core::build`).
fn build_cell<F: Held>(spec: &Bound<'_, PyDict>) -> PyResult<Box<dyn Cell<F>>> {
    let mut kind = None;
    let mut params = Params::<F>::new();
    for (key, item) in spec.iter() {
        let key: String = key.extract()?;
        if item.is_none() || key == BUILT {
            continue;
        }
        if key == "kind" {
            kind = Some(item.extract::<String>()?);
        } else if item.is_instance_of::<PyUntypedArray>() {
            let arr: PyReadonlyArrayDyn<'_, F> = item.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "{key} must be a numpy array of the computation dtype ({})",
                    F::NAME
                ))
            })?;
            let shape = arr.shape().to_vec();
            params.insert_array(&key, arr.as_array().iter().copied().collect(), shape);
        } else if item.is_instance_of::<PyString>() {
            params.insert_string(&key, item.extract()?);
        } else if let Ok(b) = item.extract::<bool>() {
            params.insert_number(&key, if b { 1.0 } else { 0.0 });
        } else if let Ok(v) = item.extract::<f64>() {
            params.insert_number(&key, v);
        } else {
            return Err(PyTypeError::new_err(format!(
                "{key} must be a numpy array of the computation dtype, a number or a string; \
                 got {}",
                item.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            )));
        }
    }
    let kind = kind.ok_or_else(|| to_py(Error::value("kind", "a cell kind", "nothing")))?;
    rnn_core::build(&kind, &params).map_err(to_py)
}

/// The `(T, B, I)` shape of a contiguous 3-D input.
fn seq_dims(shape: &[usize]) -> PyResult<(usize, usize, usize)> {
    match shape {
        [t, b, i] => Ok((*t, *b, *i)),
        _ => Err(to_py(Error::shape(
            "x",
            "3 dimensions (T, B, I)",
            format!("{shape:?}"),
        ))),
    }
}

fn slice<'a, F: Element>(name: &str, a: &'a PyReadonlyArrayDyn<'_, F>) -> PyResult<&'a [F]> {
    a.as_slice().map_err(|_| {
        to_py(Error::shape(
            name,
            "a C-contiguous array",
            "a non-contiguous array",
        ))
    })
}

fn forward_impl<'py, F: Held>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: PyReadonlyArrayDyn<'py, F>,
    s0: PyReadonlyArrayDyn<'py, F>,
    full: bool,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let cell = cell_of::<F>(spec)?;
    let (t, b, i) = seq_dims(x.shape())?;
    let (xs, s0s) = (slice("x", &x)?, slice("h0", &s0)?);
    let h = if full {
        cell.state_dim()
    } else {
        cell.hidden()
    };
    let out = compute(py, |cancel| {
        let seq = Seq::new(xs, t, b, i)?.with_cancel(cancel);
        let mut out = rnn_core::seq::buffer::<F>(t * b * h, "the outputs")?;
        rnn_core::forward_states(cell.as_ref(), &seq, s0s, &mut out, full, threads)?;
        Ok(out)
    })?;
    Ok(PyArray1::from_vec(py, out).reshape([t, b, h])?.into_any())
}

/// Write into `out` when given (checked shape (T, B), float64, contiguous), else a new array.
fn with_out<'py>(
    py: Python<'py>,
    out: Option<Bound<'py, PyArrayDyn<f64>>>,
    t: usize,
    b: usize,
    f: impl FnOnce(&mut [f64], &AtomicBool) -> rnn_core::Result<()> + Send,
) -> PyResult<Bound<'py, PyAny>> {
    match out {
        Some(arr) => {
            if arr.shape() != [t, b] {
                return Err(to_py(Error::shape(
                    "out",
                    format!("shape ({t}, {b})"),
                    format!("{:?}", arr.shape()),
                )));
            }
            {
                let mut o = arr.try_readwrite().map_err(|_| {
                    to_py(Error::value(
                        "out",
                        "a writeable array not aliased by another argument",
                        "a locked array",
                    ))
                })?;
                let dst = o.as_slice_mut().map_err(|_| {
                    to_py(Error::shape(
                        "out",
                        "a C-contiguous float64 array",
                        "a non-contiguous array",
                    ))
                })?;
                compute(py, |c| f(dst, c))?;
            }
            Ok(arr.into_any())
        }
        None => {
            let buf = compute(py, |c| {
                let mut buf = rnn_core::seq::buffer::<f64>(t * b, "the (T, B) results")?;
                f(&mut buf, c).map(|_| buf)
            })?;
            Ok(PyArray1::from_vec(py, buf).reshape([t, b])?.into_any())
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn grad_norms_impl<'py, F: Held>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: PyReadonlyArrayDyn<'py, F>,
    s0: PyReadonlyArrayDyn<'py, F>,
    v: PyReadonlyArrayDyn<'py, F>,
    wrt: &str,
    (memory_budget, threads, split): (usize, Option<usize>, bool),
    out: Option<Bound<'py, PyArrayDyn<f64>>>,
) -> PyResult<Bound<'py, PyAny>> {
    let cell = cell_of::<F>(spec)?;
    let wrt = Wrt::parse(wrt).map_err(to_py)?;
    let (t, b, i) = seq_dims(x.shape())?;
    let (xs, s0s, vs) = (slice("x", &x)?, slice("h0", &s0)?, slice("v", &v)?);
    let opts = BpttOptions {
        wrt,
        memory_budget,
        threads,
        split,
    };
    let cell = cell.as_ref();
    with_out(py, out, t, b, move |dst, cancel| {
        let seq = Seq::new(xs, t, b, i)?.with_cancel(cancel);
        rnn_core::grad_norms(cell, &seq, s0s, vs, &opts, dst)
    })
}

/// A writeable view of an output array the caller passed (NumPy's borrow check refuses
/// an array that another argument also borrows).
fn writeable<'py>(
    name: &str,
    a: &Bound<'py, PyArrayDyn<f64>>,
) -> PyResult<numpy::PyReadwriteArrayDyn<'py, f64>> {
    a.try_readwrite().map_err(|_| {
        to_py(Error::value(
            name,
            "a writeable array not aliased by another argument",
            "a locked or read-only array",
        ))
    })
}

fn slice_mut<'a>(
    name: &str,
    a: &'a mut numpy::PyReadwriteArrayDyn<'_, f64>,
) -> PyResult<&'a mut [f64]> {
    a.as_slice_mut().map_err(|_| {
        to_py(Error::shape(
            name,
            "a C-contiguous float64 array",
            "a non-contiguous array",
        ))
    })
}

#[allow(clippy::too_many_arguments)]
fn adjoints_impl<'py, F: Held>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: PyReadonlyArrayDyn<'py, F>,
    s0: PyReadonlyArrayDyn<'py, F>,
    v: PyReadonlyArrayDyn<'py, F>,
    every: bool,
    at: Option<Vec<usize>>,
    memory_budget: usize,
    threads: Option<usize>,
    state: Bound<'py, PyArrayDyn<f64>>,
    initial: Bound<'py, PyArrayDyn<f64>>,
    input: Option<Bound<'py, PyArrayDyn<f64>>>,
    memory: Option<Bound<'py, PyArrayDyn<f64>>>,
    scaled: Scaled<'py>,
) -> PyResult<()> {
    let cell = cell_of::<F>(spec)?;
    let (t, b, i) = seq_dims(x.shape())?;
    let (xs, s0s, vs) = (slice("x", &x)?, slice("h0", &s0)?, slice("v", &v)?);
    let v_scale = scaled
        .v_scale
        .as_ref()
        .map(|a| slice("v_scale", a))
        .transpose()?;
    let seed_g: Option<Vec<F>> = scaled
        .seed
        .as_ref()
        .map(|a| slice("seed", a).map(|g| g.iter().map(|x| F::from_f64(*x)).collect()))
        .transpose()?;
    let seed_ls = scaled
        .seed_scale
        .as_ref()
        .map(|a| slice("seed_scale", a))
        .transpose()?;
    let seed = match (seed_g.as_deref(), seed_ls) {
        (Some(g), Some(ls)) => Some(rnn_core::Seed { g, ls }),
        (None, None) => None,
        _ => {
            return Err(to_py(Error::value(
                "seed",
                "both seed and seed_scale, or neither",
                "only one of them",
            )))
        }
    };
    let mut sc = scaled
        .scales
        .as_ref()
        .map(|a| writeable("scales", a))
        .transpose()?;
    let mut isc = scaled
        .initial_scale
        .as_ref()
        .map(|a| writeable("initial_scale", a))
        .transpose()?;
    let sc_s = sc.as_mut().map(|a| slice_mut("scales", a)).transpose()?;
    let isc_s = isc
        .as_mut()
        .map(|a| slice_mut("initial_scale", a))
        .transpose()?;
    let mut st = writeable("out", &state)?;
    let mut ini = writeable("h0 adjoint", &initial)?;
    let mut inp = input.as_ref().map(|a| writeable("out_x", a)).transpose()?;
    let mut mem = memory
        .as_ref()
        .map(|a| writeable("out_cell", a))
        .transpose()?;
    let (st_s, ini_s) = (
        slice_mut("out", &mut st)?,
        slice_mut("h0 adjoint", &mut ini)?,
    );
    let inp_s = inp.as_mut().map(|a| slice_mut("out_x", a)).transpose()?;
    let mem_s = mem.as_mut().map(|a| slice_mut("out_cell", a)).transpose()?;
    let cell = cell.as_ref();
    let at = at.as_deref();
    compute(py, move |cancel| {
        let seq = Seq::new(xs, t, b, i)?.with_cancel(cancel);
        let loss = match (every, v_scale) {
            (true, Some(lv)) => rnn_core::Loss::Scaled(vs, lv),
            (true, None) => rnn_core::Loss::Every(vs),
            (false, _) => rnn_core::Loss::Last(vs),
        };
        let arrays = rnn_core::AdjointArrays {
            at,
            state: st_s,
            input: inp_s,
            memory: mem_s,
            initial: ini_s,
            scales: sc_s,
            initial_scale: isc_s,
        };
        rnn_core::adjoints(cell, &seq, s0s, loss, seed, arrays, memory_budget, threads)
    })
}

#[allow(clippy::too_many_arguments)]
fn grad_norms_every_impl<'py, F: Held>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: PyReadonlyArrayDyn<'py, F>,
    s0: PyReadonlyArrayDyn<'py, F>,
    v: PyReadonlyArrayDyn<'py, F>,
    wrt: &str,
    memory_budget: usize,
    out: Option<Bound<'py, PyArrayDyn<f64>>>,
) -> PyResult<Bound<'py, PyAny>> {
    let cell = cell_of::<F>(spec)?;
    let wrt = Wrt::parse(wrt).map_err(to_py)?;
    let (t, b, i) = seq_dims(x.shape())?;
    let (xs, s0s, vs) = (slice("x", &x)?, slice("h0", &s0)?, slice("v", &v)?);
    let cell = cell.as_ref();
    with_out(py, out, t, b, move |dst, cancel| {
        let seq = Seq::new(xs, t, b, i)?.with_cancel(cancel);
        rnn_core::adjoint::grad_norms_every(cell, &seq, s0s, vs, wrt, memory_budget, dst)
    })
}

#[allow(clippy::too_many_arguments)]
fn sensitivity_impl<'py, F: Held>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: PyReadonlyArrayDyn<'py, F>,
    s0: PyReadonlyArrayDyn<'py, F>,
    u: PyReadonlyArrayDyn<'py, F>,
    part: &str,
    threads: Option<usize>,
    out: Option<Bound<'py, PyArrayDyn<f64>>>,
) -> PyResult<Bound<'py, PyAny>> {
    let cell = cell_of::<F>(spec)?;
    let part = Part::parse(part).map_err(to_py)?;
    let (t, b, i) = seq_dims(x.shape())?;
    let (xs, s0s, us) = (slice("x", &x)?, slice("h0", &s0)?, slice("u", &u)?);
    let cell = cell.as_ref();
    with_out(py, out, t, b, move |dst, cancel| {
        let seq = Seq::new(xs, t, b, i)?.with_cancel(cancel);
        rnn_core::sensitivity(cell, &seq, s0s, us, part, threads, dst)
    })
}

#[allow(clippy::too_many_arguments)]
fn tangents_impl<'py, F: Held>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: PyReadonlyArrayDyn<'py, F>,
    s0: PyReadonlyArrayDyn<'py, F>,
    u: PyReadonlyArrayDyn<'py, F>,
    dx: PyReadonlyArrayDyn<'py, F>,
    at: Option<Vec<usize>>,
    out: Bound<'py, PyArrayDyn<f64>>,
    (dx_scale, scales): (
        Option<PyReadonlyArrayDyn<'py, f64>>,
        Option<Bound<'py, PyArrayDyn<f64>>>,
    ),
) -> PyResult<()> {
    let cell = cell_of::<F>(spec)?;
    let (t, b, i) = seq_dims(x.shape())?;
    let (xs, s0s, us) = (slice("x", &x)?, slice("h0", &s0)?, slice("u", &u)?);
    let dxs = slice("dx", &dx)?;
    let dx_scale = match dx_scale.as_ref() {
        Some(a) => Some(slice("dx_scale", a)?),
        None => None,
    };
    // An empty dx: no input tangent.
    let input = (!dxs.is_empty()).then_some(rnn_core::InputTangent {
        dx: dxs,
        log_scale: dx_scale,
    });
    let mut o = writeable("out", &out)?;
    let dst = slice_mut("out", &mut o)?;
    let mut sc = match scales.as_ref() {
        Some(a) => Some(writeable("scales", a)?),
        None => None,
    };
    let sc = match sc.as_mut() {
        Some(a) => Some(slice_mut("scales", a)?),
        None => None,
    };
    let cell = cell.as_ref();
    let at = at.as_deref();
    compute(py, move |cancel| {
        let seq = Seq::new(xs, t, b, i)?.with_cancel(cancel);
        rnn_core::tangents(cell, &seq, s0s, us, input, at, dst, sc)
    })
}

/// Arrays of one computation dtype.
#[derive(FromPyObject)]
enum Arr<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
}

fn dtype_error(name: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let what = got
        .getattr("dtype")
        .map(|d| d.to_string())
        .unwrap_or_else(|_| {
            got.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        });
    PyTypeError::new_err(format!(
        "{name} must be a float32 or float64 numpy array; got {what}"
    ))
}

macro_rules! dispatch {
    ($py:ident, $x:ident, [$($other:ident),*], |$xx:ident, $($o:ident),*| $body:expr) => {{
        let parsed: Arr = $x.extract().map_err(|_| dtype_error("x", &$x))?;
        match parsed {
            Arr::F32($xx) => {
                $(let $o: PyReadonlyArrayDyn<f32> = $other.extract().map_err(|_| dtype_error(stringify!($other), &$other))?;)*
                $body
            }
            Arr::F64($xx) => {
                $(let $o: PyReadonlyArrayDyn<f64> = $other.extract().map_err(|_| dtype_error(stringify!($other), &$other))?;)*
                $body
            }
        }
    }};
}

/// Forward-mode tangents `(d s_t / d s_init) u` as float64 `(rows, B, S)` into `out`
/// (`at` the kept steps; None: every step).
#[pyfunction]
#[pyo3(signature = (spec, x, s0, u, dx, at, out, dx_scale=None, scales=None))]
#[allow(clippy::too_many_arguments)]
fn tangents<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: Bound<'py, PyAny>,
    s0: Bound<'py, PyAny>,
    u: Bound<'py, PyAny>,
    dx: Bound<'py, PyAny>,
    at: Option<Vec<usize>>,
    out: Bound<'py, PyArrayDyn<f64>>,
    dx_scale: Option<PyReadonlyArrayDyn<'py, f64>>,
    scales: Option<Bound<'py, PyArrayDyn<f64>>>,
) -> PyResult<()> {
    let extra = (dx_scale, scales);
    dispatch!(py, x, [s0, u, dx], |xa, s0a, ua, dxa| tangents_impl(
        py, spec, xa, s0a, ua, dxa, at, out, extra
    ))
}

/// Hidden outputs `(T, B, H)` of `cell` over `x` `(T, B, I)` from the initial state `s0` `(B, S)`
/// (the full states `(T, B, S)` with `full=True`).
#[pyfunction]
#[pyo3(signature = (spec, x, s0, threads=None, full=false))]
fn forward<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: Bound<'py, PyAny>,
    s0: Bound<'py, PyAny>,
    threads: Option<usize>,
    full: bool,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(py, x, [s0], |xa, s0a| forward_impl(
        py, spec, xa, s0a, full, threads
    ))
}

/// Natural logs of the per-step BPTT gradient norms, `(T, B)` float64.
#[pyfunction]
#[pyo3(signature = (spec, x, s0, v, wrt="state", memory_budget=rnn_core::bptt::DEFAULT_MEMORY_BUDGET, threads=None, out=None, split=true))]
#[allow(clippy::too_many_arguments)]
fn grad_norms<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: Bound<'py, PyAny>,
    s0: Bound<'py, PyAny>,
    v: Bound<'py, PyAny>,
    wrt: &str,
    memory_budget: usize,
    threads: Option<usize>,
    out: Option<Bound<'py, PyArrayDyn<f64>>>,
    split: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = (memory_budget, threads, split);
    dispatch!(py, x, [s0, v], |xa, s0a, va| grad_norms_impl(
        py, spec, xa, s0a, va, wrt, opts, out
    ))
}

/// Natural logs of the forward sensitivities `||(d s_t / d s_init) u||`, `(T, B)` float64.
#[pyfunction]
#[pyo3(signature = (spec, x, s0, u, part="state", threads=None, out=None))]
#[allow(clippy::too_many_arguments)]
fn sensitivity<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: Bound<'py, PyAny>,
    s0: Bound<'py, PyAny>,
    u: Bound<'py, PyAny>,
    part: &str,
    threads: Option<usize>,
    out: Option<Bound<'py, PyArrayDyn<f64>>>,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(py, x, [s0, u], |xa, s0a, ua| sensitivity_impl(
        py, spec, xa, s0a, ua, part, threads, out
    ))
}

/// Fill the BPTT adjoint arrays: `state` `(rows, B, S)`, `initial` `(B, S)`, and when
/// given `input` `(rows, B, I)` and `memory` `(rows, B, H)`; `v` is `(B, O)`, or
/// `(T, B, O)` with `every`; `at` the kept steps (None: all). `v_scale` `(T, B)` gives
/// the log-scales of a per-step `v`; `seed`/`seed_scale` `(B, S)`/`(B,)` an adjoint of the
/// last state from beyond; with `scales` `(rows, B)` / `initial_scale` `(B,)` the arrays
/// hold normalised adjoints and these their log-scales.
#[pyfunction]
#[pyo3(signature = (spec, x, s0, v, every, at, memory_budget, threads, state, initial, input=None, memory=None, v_scale=None, seed=None, seed_scale=None, scales=None, initial_scale=None))]
#[allow(clippy::too_many_arguments)]
fn adjoints<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: Bound<'py, PyAny>,
    s0: Bound<'py, PyAny>,
    v: Bound<'py, PyAny>,
    every: bool,
    at: Option<Vec<usize>>,
    memory_budget: usize,
    threads: Option<usize>,
    state: Bound<'py, PyArrayDyn<f64>>,
    initial: Bound<'py, PyArrayDyn<f64>>,
    input: Option<Bound<'py, PyArrayDyn<f64>>>,
    memory: Option<Bound<'py, PyArrayDyn<f64>>>,
    v_scale: Option<PyReadonlyArrayDyn<'py, f64>>,
    seed: Option<PyReadonlyArrayDyn<'py, f64>>,
    seed_scale: Option<PyReadonlyArrayDyn<'py, f64>>,
    scales: Option<Bound<'py, PyArrayDyn<f64>>>,
    initial_scale: Option<Bound<'py, PyArrayDyn<f64>>>,
) -> PyResult<()> {
    let scaled = Scaled {
        v_scale,
        seed,
        seed_scale,
        scales,
        initial_scale,
    };
    dispatch!(py, x, [s0, v], |xa, s0a, va| adjoints_impl(
        py,
        spec,
        xa,
        s0a,
        va,
        every,
        at,
        memory_budget,
        threads,
        state,
        initial,
        input,
        memory,
        scaled
    ))
}

/// The log-scaled inputs and outputs of [`adjoints`] (see there).
struct Scaled<'py> {
    v_scale: Option<PyReadonlyArrayDyn<'py, f64>>,
    seed: Option<PyReadonlyArrayDyn<'py, f64>>,
    seed_scale: Option<PyReadonlyArrayDyn<'py, f64>>,
    scales: Option<Bound<'py, PyArrayDyn<f64>>>,
    initial_scale: Option<Bound<'py, PyArrayDyn<f64>>>,
}

/// Natural logs of the per-step BPTT gradient norms for a loss at every step (`v`
/// `(T, B, O)`), `(T, B)` float64.
#[pyfunction]
#[pyo3(signature = (spec, x, s0, v, wrt="state", memory_budget=rnn_core::bptt::DEFAULT_MEMORY_BUDGET, out=None))]
#[allow(clippy::too_many_arguments)]
fn grad_norms_every<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: Bound<'py, PyAny>,
    s0: Bound<'py, PyAny>,
    v: Bound<'py, PyAny>,
    wrt: &str,
    memory_budget: usize,
    out: Option<Bound<'py, PyArrayDyn<f64>>>,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(py, x, [s0, v], |xa, s0a, va| grad_norms_every_impl(
        py,
        spec,
        xa,
        s0a,
        va,
        wrt,
        memory_budget,
        out
    ))
}

#[allow(clippy::too_many_arguments)]
fn lyapunov_impl<'py, F: Held>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: PyReadonlyArrayDyn<'py, F>,
    s0: PyReadonlyArrayDyn<'py, F>,
    k: usize,
    warmup: usize,
    return_local: bool,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let cell = cell_of::<F>(spec)?;
    let (t, b, i) = seq_dims(x.shape())?;
    let (xs, s0s) = (slice("x", &x)?, slice("h0", &s0)?);
    let cell = cell.as_ref();
    let spec_out = compute(py, move |cancel| {
        let seq = Seq::new(xs, t, b, i)?.with_cancel(cancel);
        rnn_core::lyapunov_spectrum(cell, &seq, s0s, k, warmup, return_local, threads)
    })?;
    let mean = PyArray1::from_vec(py, spec_out.exponents)
        .reshape([b, k])?
        .into_any();
    match spec_out.local {
        None => Ok(mean),
        Some(l) => {
            let local = PyArray1::from_vec(py, l).reshape([t, b, k])?.into_any();
            Ok((mean, local).into_pyobject(py)?.into_any())
        }
    }
}

fn jacobian_norms_impl<'py, F: Held>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: PyReadonlyArrayDyn<'py, F>,
    s0: PyReadonlyArrayDyn<'py, F>,
    every: usize,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let cell = cell_of::<F>(spec)?;
    let (t, b, i) = seq_dims(x.shape())?;
    let (xs, s0s) = (slice("x", &x)?, slice("h0", &s0)?);
    let cell = cell.as_ref();
    let out = compute(py, move |cancel| {
        let seq = Seq::new(xs, t, b, i)?.with_cancel(cancel);
        rnn_core::jacobian_norms(cell, &seq, s0s, every, threads)
    })?;
    let rows = out.len() / b.max(1);
    Ok(PyArray1::from_vec(py, out).reshape([rows, b])?.into_any())
}

/// The `k` largest Lyapunov exponents `(B, k)` (and the local ones `(T, B, k)` on request).
#[pyfunction]
#[pyo3(signature = (spec, x, s0, k, warmup=0, return_local=false, threads=None))]
#[allow(clippy::too_many_arguments)]
fn lyapunov_spectrum<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: Bound<'py, PyAny>,
    s0: Bound<'py, PyAny>,
    k: usize,
    warmup: usize,
    return_local: bool,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(py, x, [s0], |xa, s0a| lyapunov_impl(
        py,
        spec,
        xa,
        s0a,
        k,
        warmup,
        return_local,
        threads
    ))
}

/// Spectral norms of the step Jacobians at every `every`-th step, `(ceil(T/every), B)`.
#[pyfunction]
#[pyo3(signature = (spec, x, s0, every=1, threads=None))]
fn jacobian_norms<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: Bound<'py, PyAny>,
    s0: Bound<'py, PyAny>,
    every: usize,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(py, x, [s0], |xa, s0a| jacobian_norms_impl(
        py, spec, xa, s0a, every, threads
    ))
}

#[allow(clippy::too_many_arguments)]
fn param_grads_impl<'py, F: Held>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: PyReadonlyArrayDyn<'py, F>,
    s0: PyReadonlyArrayDyn<'py, F>,
    dh: PyReadonlyArrayDyn<'py, F>,
    inputs: bool,
    memory_budget: usize,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let cell = cell_of::<F>(spec)?;
    let (t, b, i) = seq_dims(x.shape())?;
    let (xs, s0s, dhs) = (slice("x", &x)?, slice("h0", &s0)?, slice("dh", &dh)?);
    let s = cell.state_dim();
    let cell = cell.as_ref();
    let g = compute(py, move |cancel| {
        let seq = Seq::new(xs, t, b, i)?.with_cancel(cancel);
        rnn_core::param_grads(cell, &seq, s0s, dhs, inputs, memory_budget, threads)
    })?;
    let params = PyArray1::from_vec(py, g.params).into_any();
    let ds0 = PyArray1::from_vec(py, g.initial_state)
        .reshape([b, s])?
        .into_any();
    match g.inputs {
        None => Ok((params, ds0).into_pyobject(py)?.into_any()),
        Some(dx) => {
            let dx = PyArray1::from_vec(py, dx).reshape([t, b, i])?.into_any();
            Ok((params, ds0, dx).into_pyobject(py)?.into_any())
        }
    }
}

/// Exact BPTT of a loss given `dh` `(T, B, H)` = dL/dh_t: the flat parameter
/// gradient (summed over the batch) and dL/ds_init `(B, S)`, both float64.
#[pyfunction]
#[pyo3(signature = (spec, x, s0, dh, inputs=false, memory_budget=rnn_core::bptt::DEFAULT_MEMORY_BUDGET, threads=None))]
#[allow(clippy::too_many_arguments)]
fn param_grads<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyDict>,
    x: Bound<'py, PyAny>,
    s0: Bound<'py, PyAny>,
    dh: Bound<'py, PyAny>,
    inputs: bool,
    memory_budget: usize,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    dispatch!(py, x, [s0, dh], |xa, s0a, dha| param_grads_impl(
        py,
        spec,
        xa,
        s0a,
        dha,
        inputs,
        memory_budget,
        threads
    ))
}

/// Seconds per call of the SIMD matrix-vector kernel on a `rows x cols` matrix
/// (the machine's bound for one recurrent product per step).
#[pyfunction]
#[pyo3(signature = (rows, cols, reps=2000, double=false))]
fn gemv_seconds(
    py: Python<'_>,
    rows: usize,
    cols: usize,
    reps: usize,
    double: bool,
) -> PyResult<f64> {
    if rows == 0 || cols == 0 {
        return Err(to_py(Error::value(
            "rows/cols",
            "positive sizes",
            format!("{rows} x {cols}"),
        )));
    }
    compute(py, move |_| {
        Ok(if double {
            rnn_core::kernels::time_gemv::<f64>(rows, cols, reps)
        } else {
            rnn_core::kernels::time_gemv::<f32>(rows, cols, reps)
        })
    })
}

/// Name of the SIMD level the kernels use on this CPU ("avx512f", "avx2+fma", "generic").
#[pyfunction]
fn simd_level() -> &'static str {
    rnn_core::kernels::isa().name()
}

/// Segment length the reverse pass would use for `steps` under `memory_budget` bytes.
#[pyfunction]
#[pyo3(signature = (spec, steps, memory_budget, double=true))]
fn plan_segment(
    spec: &Bound<'_, PyDict>,
    steps: usize,
    memory_budget: usize,
    double: bool,
) -> PyResult<usize> {
    if double {
        let cell = cell_of::<f64>(spec)?;
        rnn_core::plan_segment(cell.as_ref(), steps, memory_budget).map_err(to_py)
    } else {
        let cell = cell_of::<f32>(spec)?;
        rnn_core::plan_segment(cell.as_ref(), steps, memory_budget).map_err(to_py)
    }
}

/// How many threads a call on one sequence of `steps` steps would split the cell's
/// hidden units over (1: no split).
#[pyfunction]
#[pyo3(signature = (spec, batch, steps, threads=None, double=true))]
fn split_parts(
    spec: &Bound<'_, PyDict>,
    batch: usize,
    steps: usize,
    threads: Option<usize>,
    double: bool,
) -> PyResult<usize> {
    if double {
        let cell = cell_of::<f64>(spec)?;
        Ok(rnn_core::split::parts_for(
            cell.as_ref(),
            batch,
            steps,
            threads,
        ))
    } else {
        let cell = cell_of::<f32>(spec)?;
        Ok(rnn_core::split::parts_for(
            cell.as_ref(),
            batch,
            steps,
            threads,
        ))
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(forward, m)?)?;
    m.add_function(wrap_pyfunction!(cancel, m)?)?;
    m.add_function(wrap_pyfunction!(grad_norms, m)?)?;
    m.add_function(wrap_pyfunction!(grad_norms_every, m)?)?;
    m.add_function(wrap_pyfunction!(adjoints, m)?)?;
    m.add_function(wrap_pyfunction!(tangents, m)?)?;
    m.add_function(wrap_pyfunction!(sensitivity, m)?)?;
    m.add_function(wrap_pyfunction!(simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(gemv_seconds, m)?)?;
    m.add_function(wrap_pyfunction!(param_grads, m)?)?;
    m.add_function(wrap_pyfunction!(lyapunov_spectrum, m)?)?;
    m.add_function(wrap_pyfunction!(jacobian_norms, m)?)?;
    m.add_function(wrap_pyfunction!(plan_segment, m)?)?;
    m.add_function(wrap_pyfunction!(split_parts, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The core's limits, so that Python validates against the same numbers.
    m.add(
        "DEFAULT_MEMORY_BUDGET",
        rnn_core::bptt::DEFAULT_MEMORY_BUDGET,
    )?;
    m.add("MAX_THREADS", rnn_core::seq::MAX_THREADS)?;
    Ok(())
}
