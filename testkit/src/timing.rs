//! Wall-clock timing for the examples that print ns per element (`roofline`,
//! `compare_torch`): several kernels on the same data, timed in interleaved rounds.
//!
//! Each kernel is warmed up (one call, then one sample when a call is short) and gets as many
//! calls per sample as fill [`Budget::sample`] (at least one). Then each round takes one sample
//! of every kernel in turn, so that a disturbance from the rest of the machine falls on all of
//! them alike; there are as many rounds as fit in [`Budget::point`], within
//! [`Budget::rounds`].

use std::time::{Duration, Instant};

/// How long [`interleaved`] measures.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Time one sample aims for.
    pub sample: Duration,
    /// Time all rounds together aim for, every kernel included.
    pub point: Duration,
    /// Fewest and most rounds (samples per kernel).
    pub rounds: (usize, usize),
}

impl Budget {
    /// Samples of ~10 ms, rounds for ~0.3 s, 3 to 15 of them.
    pub const DEFAULT: Self = Self {
        sample: Duration::from_millis(10),
        point: Duration::from_millis(300),
        rounds: (3, 15),
    };
}

/// One kernel's samples, in ns per element.
#[derive(Debug, Clone)]
pub struct Timing {
    /// Calls per sample.
    pub calls_per_sample: usize,
    /// Every sample, in the order taken.
    pub ns_per_element: Vec<f64>,
}

impl Timing {
    /// The median sample.
    pub fn median(&self) -> f64 {
        let mut sorted = self.ns_per_element.clone();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        if sorted.len() % 2 == 1 {
            sorted[mid]
        } else {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        }
    }

    /// The fastest sample: on a shared machine, disturbances only add time.
    pub fn min(&self) -> f64 {
        let samples = self.ns_per_element.iter().copied();
        samples.fold(f64::INFINITY, f64::min)
    }
}

/// Times `K` kernels of `elements` elements each: `call(k)` runs kernel `k` once (and should
/// pass its inputs and result through `std::hint::black_box`).
pub fn interleaved<const K: usize>(
    elements: usize,
    budget: &Budget,
    mut call: impl FnMut(usize),
) -> [Timing; K] {
    let elements = elements.max(1);
    let mut sample = |k: usize, calls: usize| {
        let start = Instant::now();
        for _ in 0..calls {
            call(k);
        }
        start.elapsed().as_secs_f64() * 1e9 / (calls * elements) as f64
    };
    let calls_for = |ns_per_element: f64| {
        let call_ns = ns_per_element * elements as f64;
        ((budget.sample.as_secs_f64() * 1e9 / call_ns).ceil() as usize).max(1)
    };
    // The warm-up: the calls per sample, and an estimate of a sample's seconds.
    let mut round_seconds = 0.0;
    let calls: [usize; K] = std::array::from_fn(|k| {
        let mut ns = sample(k, 1);
        let mut calls = calls_for(ns);
        if calls > 1 {
            ns = sample(k, calls);
            calls = calls_for(ns);
        }
        round_seconds += ns * (calls * elements) as f64 * 1e-9;
        calls
    });
    let rounds = (budget.point.as_secs_f64() / round_seconds).ceil() as usize;
    let rounds = rounds.clamp(budget.rounds.0, budget.rounds.1);
    let mut timings = calls.map(|calls_per_sample| Timing {
        calls_per_sample,
        ns_per_element: Vec::with_capacity(rounds),
    });
    for _ in 0..rounds {
        for (k, timing) in timings.iter_mut().enumerate() {
            let ns = sample(k, timing.calls_per_sample);
            timing.ns_per_element.push(ns);
        }
    }
    timings
}
