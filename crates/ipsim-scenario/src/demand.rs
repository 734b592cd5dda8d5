//! Demand: generators sampled into step functions, Poisson noise, the request-to-instance rule
//! and the idle scale-down delay (MODEL.md "Demand").

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ipsim_core::DemandPoint;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

use crate::def::DemandDef;

/// How request rates become instances: `ceil(rps * latency_s / (concurrency * target))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Requests {
    /// Mean latency in seconds.
    pub latency_s: f64,
    /// Maximum concurrent requests per instance.
    pub concurrency: f64,
    /// Target utilisation of the concurrency.
    pub target_utilization: f64,
}

/// Rounds up, ignoring float noise below 1e-9 (so 48 / 48 = 1, not 2 when the float
/// product lands a hair above 1), and saturates at `u32::MAX`.
fn ceil_exactish(x: f64) -> u32 {
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    let c = (x - 1e-9).ceil();
    if c >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        c as u32
    }
}

/// Instances for a demand value: the value rounded up, or the request rule applied to it.
pub fn instances(value: f64, requests: Option<&Requests>) -> u32 {
    match requests {
        None => ceil_exactish(value),
        Some(r) => ceil_exactish(value * r.latency_s / (r.concurrency * r.target_utilization)),
    }
}

/// The generator's value at `t_ms` (not rounded).
pub fn value_at(def: &DemandDef, t_ms: u64) -> f64 {
    let t = t_ms as f64;
    match def {
        DemandDef::Constant { value } => *value,
        DemandDef::Step { points } => {
            let i = points.partition_point(|(at, _)| at.ms() <= t_ms);
            if i == 0 { 0.0 } else { points[i - 1].1 }
        }
        DemandDef::Surge {
            base,
            peak,
            start,
            rise,
            hold,
            fall,
        } => {
            let (s, r, h, f) = (
                start.ms() as f64,
                rise.ms() as f64,
                hold.ms() as f64,
                fall.ms() as f64,
            );
            if t < s {
                *base
            } else if t < s + r {
                base + (peak - base) * (t - s) / r
            } else if t < s + r + h {
                *peak
            } else if t < s + r + h + f {
                peak + (base - peak) * (t - s - r - h) / f
            } else {
                *base
            }
        }
        DemandDef::Diurnal {
            mean,
            amplitude,
            phase,
            period,
        } => {
            let p = period.map_or(86_400_000.0, |p| p.ms() as f64);
            let v =
                mean + amplitude * (2.0 * std::f64::consts::PI * (t - phase.ms() as f64) / p).sin();
            v.max(0.0)
        }
        DemandDef::Trace { .. } => 0.0,
    }
}

/// Samples a generator every `interval_ms` over `[0, duration_ms)`, draws Poisson noise if
/// `noise` is given, turns values into instances, and keeps changes only.
pub fn sample(
    def: &DemandDef,
    duration_ms: u64,
    interval_ms: u64,
    mut noise: Option<&mut ChaCha8Rng>,
    requests: Option<&Requests>,
) -> Vec<DemandPoint> {
    let mut out: Vec<DemandPoint> = Vec::new();
    let mut t = 0u64;
    while t < duration_ms {
        let mut v = value_at(def, t);
        if let Some(rng) = noise.as_deref_mut() {
            v = poisson(rng, v);
        }
        let n = instances(v, requests);
        if out.last().map(|p| p.instances) != Some(n) {
            out.push(DemandPoint {
                time_ms: t,
                instances: n,
            });
        }
        t = t.saturating_add(interval_ms.max(1));
    }
    out
}

/// A draw from Poisson(mean); 0 for a mean of 0 or less.
pub fn poisson<R: Rng>(rng: &mut R, mean: f64) -> f64 {
    match Poisson::new(mean) {
        Ok(d) if mean > 0.0 => d.sample(rng),
        _ => 0.0,
    }
}

/// The idle scale-down delay as a sliding-window maximum: `out(t) = max in(s), s in
/// [t - delay, t]`, computed incrementally so that a streamed trace needs memory for the window
/// only.
#[derive(Debug, Clone)]
pub struct IdleWindow {
    delay_ms: u64,
    current: u32,
    /// Values of past segments that still dominate, with the time they stop counting.
    past: BinaryHeap<(u32, Reverse<u64>)>,
    out: Option<u32>,
}

impl IdleWindow {
    /// A window of `delay_ms`.
    pub fn new(delay_ms: u64) -> Self {
        IdleWindow {
            delay_ms,
            current: 0,
            past: BinaryHeap::new(),
            out: None,
        }
    }

    /// The input becomes `v` at `t`; returns the output at `t` if it changed.
    pub fn set(&mut self, t: u64, v: u32) -> Option<u32> {
        if self.current > v {
            self.past
                .push((self.current, Reverse(t.saturating_add(self.delay_ms))));
        }
        self.current = v;
        self.eval(t)
    }

    /// The output at `t` if it changed (call at `next_change` times).
    pub fn eval(&mut self, t: u64) -> Option<u32> {
        while let Some(&(_, Reverse(end))) = self.past.peek() {
            if end <= t {
                self.past.pop();
            } else {
                break;
            }
        }
        let v = self
            .past
            .peek()
            .map_or(self.current, |&(p, _)| p.max(self.current));
        if self.out != Some(v) {
            self.out = Some(v);
            Some(v)
        } else {
            None
        }
    }

    /// When the output may next drop without new input.
    pub fn next_change(&self) -> Option<u64> {
        match self.past.peek() {
            Some(&(v, Reverse(end))) if v > self.current => Some(end),
            _ => None,
        }
    }
}

/// Applies an idle delay to a whole step function.
pub fn idle_delay(points: &[DemandPoint], delay_ms: u64) -> Vec<DemandPoint> {
    let mut w = IdleWindow::new(delay_ms);
    let mut out: Vec<DemandPoint> = Vec::new();
    let push = |out: &mut Vec<DemandPoint>, t: u64, v: Option<u32>| {
        if let Some(v) = v {
            match out.last_mut() {
                Some(last) if last.time_ms == t => last.instances = v,
                _ => out.push(DemandPoint {
                    time_ms: t,
                    instances: v,
                }),
            }
        }
    };
    for p in points {
        while let Some(t) = w.next_change().filter(|&t| t < p.time_ms) {
            let v = w.eval(t);
            push(&mut out, t, v);
        }
        let v = w.set(p.time_ms, p.instances);
        push(&mut out, p.time_ms, v);
    }
    while let Some(t) = w.next_change() {
        let v = w.eval(t);
        push(&mut out, t, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::Duration;

    fn pts(v: &[(u64, u32)]) -> Vec<DemandPoint> {
        v.iter()
            .map(|&(time_ms, instances)| DemandPoint { time_ms, instances })
            .collect()
    }

    #[test]
    fn request_rule_and_rounding() {
        let r = Requests {
            latency_s: 1.0,
            concurrency: 80.0,
            target_utilization: 0.6,
        };
        assert_eq!(instances(48.0, Some(&r)), 1);
        assert_eq!(instances(48.1, Some(&r)), 2);
        assert_eq!(instances(0.0, Some(&r)), 0);
        assert_eq!(instances(2.2, None), 3);
        assert_eq!(instances(f64::NAN, None), 0);
    }

    #[test]
    fn surge_is_linear_and_sampled_every_minute() {
        let m = 60_000;
        let def = DemandDef::Surge {
            base: 10.0,
            peak: 50.0,
            start: Duration(2 * m),
            rise: Duration(4 * m),
            hold: Duration(2 * m),
            fall: Duration(2 * m),
        };
        let got = sample(&def, 12 * m, m, None, None);
        assert_eq!(
            got,
            pts(&[
                (0, 10),
                (3 * m, 20),
                (4 * m, 30),
                (5 * m, 40),
                (6 * m, 50),
                (9 * m, 30),
                (10 * m, 10)
            ])
        );
    }

    #[test]
    fn idle_delay_keeps_the_window_maximum() {
        // 10 until 5, 2 until 8, 7 from 8, 0 from 20; delay 4.
        let out = idle_delay(&pts(&[(0, 10), (5, 2), (8, 7), (20, 0)]), 4);
        assert_eq!(out, pts(&[(0, 10), (9, 7), (24, 0)]));
        assert_eq!(
            idle_delay(&pts(&[(0, 3), (10, 1)]), 0),
            pts(&[(0, 3), (10, 1)])
        );
    }
}
