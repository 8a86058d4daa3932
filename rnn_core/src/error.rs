//! The one error type of the core.

/// Everything that can go wrong in `rnn_core` on input that came from a user.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// An array has the wrong shape or length.
    #[error("{name} must have {expected}; got {actual}")]
    Shape {
        /// The argument's name.
        name: String,
        /// What it must be.
        expected: String,
        /// What came.
        actual: String,
    },
    /// A value is outside its allowed set or range.
    #[error("{name} must be {expected}; got {actual}")]
    Value {
        /// The argument's name.
        name: String,
        /// What it must be.
        expected: String,
        /// What came.
        actual: String,
    },
    /// NaN or infinity where finite numbers are required.
    #[error("{name} contains {what} at flat index {index}; all values must be finite")]
    NonFinite {
        /// The argument's name.
        name: String,
        /// "NaN" or "inf".
        what: String,
        /// Flat index of the first such value.
        index: usize,
    },
    /// The computation left the floating-point range.
    #[error("{0}")]
    Numerics(String),
    /// The caller cancelled the computation (e.g. Ctrl-C).
    #[error("cancelled")]
    Cancelled,
    /// A resource limit (memory budget, thread pool) cannot be met.
    #[error("{0}")]
    Resource(String),
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A shape error naming the argument, the expected and the actual shape.
    pub fn shape(name: &str, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Error::Shape {
            name: name.to_string(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    /// A value error naming the argument, the expected and the actual value.
    pub fn value(name: &str, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Error::Value {
            name: name.to_string(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

/// Fail with [`Error::NonFinite`] on the first NaN or infinity of `a`.
pub fn check_finite<F: crate::Real>(name: &str, a: &[F]) -> Result<()> {
    match a.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => {
            let v = a[index].to_f64();
            let what = if v.is_nan() { "NaN" } else { "infinity" };
            Err(Error::NonFinite {
                name: name.to_string(),
                what: what.to_string(),
                index,
            })
        }
    }
}

/// Fail with a shape error unless `a.len() == expected`.
pub fn check_len<T>(name: &str, a: &[T], expected: usize, what: &str) -> Result<()> {
    if a.len() == expected {
        Ok(())
    } else {
        Err(Error::shape(
            name,
            format!("{expected} elements ({what})"),
            format!("{} elements", a.len()),
        ))
    }
}
