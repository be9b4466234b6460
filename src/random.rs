//! The process-wide random stream behind `rand` and `randn`.
//!
//! Every random tensor takes the next `numel` counters of one Philox stream keyed by the seed, so a
//! program after `manual_seed(s)` draws the same values on every run, device and thread count.

use std::sync::Mutex;

/// PyTorch's default seed, so that a program that never seeds is still reproducible.
const DEFAULT_SEED: u64 = 67_280_421_310_721;

static STATE: Mutex<(u64, u64)> = Mutex::new((DEFAULT_SEED, 0));

/// Reseeds the process-wide generator (`torch.manual_seed`).
pub fn manual_seed(seed: u64) {
    *STATE.lock().unwrap_or_else(|e| e.into_inner()) = (seed, 0);
}

/// Reserves `n` counters: returns the seed and the first counter.
pub(crate) fn reserve(n: usize) -> (u64, u64) {
    let mut s = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let out = *s;
    s.1 = s.1.wrapping_add(n as u64);
    out
}
