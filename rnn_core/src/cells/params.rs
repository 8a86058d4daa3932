//! Named parameters a cell is built from: arrays (with their shapes), numbers and
//! strings, as a checkpoint or the Python side names them. Each cell reads what it
//! needs from here, so nothing outside the cell's file knows its parameter names.

use std::collections::BTreeMap;

use super::Weights;
use crate::error::{Error, Result};
use crate::Real;

/// The named arrays and options of one cell.
#[derive(Clone, Debug, Default)]
pub struct Params<F> {
    arrays: BTreeMap<String, (Vec<F>, Vec<usize>)>,
    numbers: BTreeMap<String, f64>,
    strings: BTreeMap<String, String>,
}

impl<F: Real> Params<F> {
    /// No parameters.
    pub fn new() -> Self {
        Params {
            arrays: BTreeMap::new(),
            numbers: BTreeMap::new(),
            strings: BTreeMap::new(),
        }
    }

    /// Add an array of `shape` (row-major `data`).
    pub fn array(mut self, name: &str, data: Vec<F>, shape: &[usize]) -> Self {
        self.insert_array(name, data, shape.to_vec());
        self
    }

    /// Add a number option.
    pub fn number(mut self, name: &str, v: f64) -> Self {
        self.insert_number(name, v);
        self
    }

    /// Add a string option.
    pub fn string(mut self, name: &str, v: &str) -> Self {
        self.insert_string(name, v.to_string());
        self
    }

    /// Add an array of `shape` (row-major `data`).
    pub fn insert_array(&mut self, name: &str, data: Vec<F>, shape: Vec<usize>) {
        self.arrays.insert(name.to_string(), (data, shape));
    }

    /// Add a number option.
    pub fn insert_number(&mut self, name: &str, v: f64) {
        self.numbers.insert(name.to_string(), v);
    }

    /// Add a string option.
    pub fn insert_string(&mut self, name: &str, v: String) {
        self.strings.insert(name.to_string(), v);
    }

    /// The array `name` and its shape, if given.
    pub fn get(&self, name: &str) -> Option<(&[F], &[usize])> {
        self.arrays
            .get(name)
            .map(|(d, s)| (d.as_slice(), s.as_slice()))
    }

    /// The number option `name`, if given.
    pub fn get_number(&self, name: &str) -> Option<f64> {
        self.numbers.get(name).copied()
    }

    /// The string option `name`, if given.
    pub fn get_string(&self, name: &str) -> Option<&str> {
        self.strings.get(name).map(String::as_str)
    }

    /// The 2-D array `name` and its `(rows, cols)`; an error when it is missing or not 2-D.
    pub fn matrix(&self, name: &str) -> Result<(Vec<F>, usize, usize)> {
        let (data, shape) = self
            .get(name)
            .ok_or_else(|| Error::value(name, "an array", "nothing"))?;
        match shape {
            [r, c] => Ok((data.to_vec(), *r, *c)),
            _ => Err(Error::shape(name, "2 dimensions", format!("{shape:?}"))),
        }
    }

    /// The array `name` as a vector of `len` values, if given; an error for another length.
    pub fn vector(&self, name: &str, len: usize) -> Result<Option<Vec<F>>> {
        match self.get(name) {
            None => Ok(None),
            Some((data, shape)) if data.len() == len && shape.len() == 1 => Ok(Some(data.to_vec())),
            Some((_, shape)) => Err(Error::shape(
                name,
                format!("shape ({len},)"),
                format!("{shape:?}"),
            )),
        }
    }

    /// The array `name` as a required vector of `len` values.
    pub fn required_vector(&self, name: &str, len: usize) -> Result<Vec<F>> {
        self.vector(name, len)?
            .ok_or_else(|| Error::value(name, format!("an array of shape ({len},)"), "nothing"))
    }

    /// Dense `gates`-gate weights in PyTorch layout: `weight_ih (G*H, I)`,
    /// `weight_hh (G*H, H)`, optional `bias_ih`, `bias_hh (G*H,)`.
    pub fn dense(&self, gates: usize, kind: &str) -> Result<Weights<F>> {
        let (w_ih, rows, input) = self.matrix("weight_ih")?;
        let (w_hh, rows_hh, hidden) = self.matrix("weight_hh")?;
        if rows_hh != gates * hidden {
            return Err(Error::shape(
                "weight_hh",
                format!(
                    "shape ({}, {hidden}) for {kind} ({gates} gate(s) x hidden size {hidden})",
                    gates * hidden
                ),
                format!("({rows_hh}, {hidden})"),
            ));
        }
        if rows != rows_hh {
            return Err(Error::shape(
                "weight_ih",
                format!("{rows_hh} rows to match weight_hh"),
                format!("({rows}, {input})"),
            ));
        }
        let b_ih = self.vector("bias_ih", rows)?;
        let b_hh = self.vector("bias_hh", rows)?;
        Weights::new(gates, hidden, input, w_ih, w_hh, b_ih, b_hh)
    }
}
