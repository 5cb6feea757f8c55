//! Latency samples per command type and their percentiles.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct Samples {
    by_kind: BTreeMap<&'static str, Vec<u32>>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Percentiles {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Samples {
    pub fn record(&mut self, kind: &'static str, micros: u128) {
        self.by_kind.entry(kind).or_default().push(micros.min(u32::MAX as u128) as u32);
    }

    pub fn merge(&mut self, other: Samples) {
        for (k, mut v) in other.by_kind {
            self.by_kind.entry(k).or_default().append(&mut v);
        }
    }

    pub fn total(&self) -> usize {
        self.by_kind.values().map(Vec::len).sum()
    }

    pub fn summary(&mut self) -> BTreeMap<&'static str, Percentiles> {
        let mut out = BTreeMap::new();
        let mut all = Vec::new();
        for (k, v) in &mut self.by_kind {
            out.insert(*k, percentiles(v));
            all.extend_from_slice(v);
        }
        if !all.is_empty() {
            out.insert("all", percentiles(&mut all));
        }
        out
    }
}

pub fn percentiles(v: &mut [u32]) -> Percentiles {
    v.sort_unstable();
    let at = |q: f64| -> f64 {
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        v[i] as f64 / 1000.0
    };
    Percentiles { count: v.len(), p50_ms: at(0.50), p99_ms: at(0.99), p999_ms: at(0.999), max_ms: at(1.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_rank() {
        let mut v: Vec<u32> = (1..=1000).rev().map(|x| x * 1000).collect();
        let p = percentiles(&mut v);
        assert_eq!((p.count, p.p50_ms, p.p99_ms, p.p999_ms, p.max_ms), (1000, 500.0, 990.0, 999.0, 1000.0));
        let p = percentiles(&mut []);
        assert_eq!(p.count, 0);
    }
}
