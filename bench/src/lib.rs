//! Shared helpers for memkeep's benchmark binaries.

use std::time::Duration;

/// Resident set size of this process, in bytes (`VmRSS` of /proc/self/status).
pub fn rss_bytes() -> u64 {
    status_field("VmRSS:")
}

/// Peak resident set size of this process, in bytes (`VmHWM`).
pub fn peak_rss_bytes() -> u64 {
    status_field("VmHWM:")
}

fn status_field(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The benchmark's key for index `i`: `user:0000000000` (15 bytes).
pub fn key(i: u64) -> String {
    format!("user:{i:010}")
}

/// A 64-byte value that differs per key.
pub fn value(i: u64) -> [u8; 64] {
    let mut v = [b'v'; 64];
    let digits = format!("{i:020}");
    v[..20].copy_from_slice(digits.as_bytes());
    v
}

/// Median of samples.
pub fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The `p`-th percentile (0..=100) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}
