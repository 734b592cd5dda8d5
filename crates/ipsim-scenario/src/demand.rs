//! Demand: generators sampled into step functions, Poisson noise, the request-to-instance rule
//! and the idle scale-down delay (docs/model.md "Demand").

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ipsim_core::DemandPoint;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

use crate::def::DemandDef;
use crate::exact::Exact;

/// How request rates become instances: `ceil(rps * latency_s / (concurrency * target))`,
/// computed exactly (docs/model.md "Demand").
#[derive(Debug, Clone, PartialEq)]
pub struct Requests {
    /// `latency_s / (concurrency * target_utilization)`: instances per request per second.
    per_rps: Exact,
}

impl Requests {
    /// The rule for a mean latency in milliseconds, a concurrency and a target utilisation.
    /// A concurrency or utilisation of 0 (which the loader refuses) turns every rate into 0.
    pub fn new(latency_ms: &Exact, concurrency: u32, target_utilization: &Exact) -> Requests {
        let capacity = Exact::int(1000 * u64::from(concurrency)).mul(target_utilization);
        Requests {
            per_rps: latency_ms.div(&capacity).unwrap_or_else(Exact::zero),
        }
    }
}

/// The most instances (or tasks) a demand may ask for at once, after every conversion: a
/// count as written, the request rule applied to a rate, a trace row, an export's value.
pub const INSTANCE_CAP: u32 = 100_000;

/// Instances for a demand value: the value rounded up, or the request rule applied to it;
/// `None` if that is more than [`INSTANCE_CAP`] instances.
pub fn instances(value: &Exact, requests: Option<&Requests>) -> Option<u32> {
    count(value, requests, INSTANCE_CAP)
}

/// [`instances`] with another cap (a connector's Mbps are counted the same way).
pub fn count(value: &Exact, requests: Option<&Requests>, cap: u32) -> Option<u32> {
    match requests {
        None => value.ceil(),
        Some(r) => value.mul(&r.per_rps).ceil(),
    }
    .filter(|&n| n <= cap)
}

/// A generator with its parameters as exact numbers, for [`try_sample`].
///
/// Constant, step and surge values are exact on the parameters as written (a surge's linear
/// rise and fall are rationals). A diurnal value is exact where its sine is rational (Niven's
/// theorem: 0, ±1/2, ±1, at multiples of a twelfth of the period); elsewhere it is irrational,
/// computed in `f64` and taken at that `f64`'s exact binary value.
#[derive(Debug, Clone, PartialEq)]
pub enum Generator {
    /// `value`.
    Constant(Exact),
    /// `(time, value)` points.
    Step(Vec<(u64, Exact)>),
    /// base, peak and the surge's times in ms.
    Surge {
        /// Value before and after.
        base: Exact,
        /// Value during the hold.
        peak: Exact,
        /// When the rise begins.
        start: u64,
        /// Length of the rise.
        rise: u64,
        /// Length of the hold.
        hold: u64,
        /// Length of the fall.
        fall: u64,
    },
    /// `mean + amplitude * sin(2 pi (t - phase) / period)`, at least 0.
    Diurnal {
        /// Mean.
        mean: Exact,
        /// Amplitude.
        amplitude: Exact,
        /// Phase in ms.
        phase: u64,
        /// Period in ms.
        period: u64,
    },
    /// Not a generator (a trace): 0.
    None,
}

impl Generator {
    /// The generator of `def`, each number read by `read(field, parsed)`: `field` is its path
    /// inside the demand (`"value"`, `"points[2][1]"`, `"base"`, `"peak"`), `parsed` the `f64`
    /// serde read.
    pub fn new(def: &DemandDef, mut read: impl FnMut(&str, f64) -> Exact) -> Generator {
        match def {
            DemandDef::Constant { value } => Generator::Constant(read("value", *value)),
            DemandDef::Step { points } => Generator::Step(
                points
                    .iter()
                    .enumerate()
                    .map(|(j, (t, v))| (t.ms(), read(&format!("points[{j}][1]"), *v)))
                    .collect(),
            ),
            DemandDef::Surge {
                base,
                peak,
                start,
                rise,
                hold,
                fall,
            } => Generator::Surge {
                base: read("base", *base),
                peak: read("peak", *peak),
                start: start.ms(),
                rise: rise.ms(),
                hold: hold.ms(),
                fall: fall.ms(),
            },
            DemandDef::Diurnal {
                mean,
                amplitude,
                phase,
                period,
            } => Generator::Diurnal {
                mean: read("mean", *mean),
                amplitude: read("amplitude", *amplitude),
                phase: phase.ms(),
                period: period.map_or(86_400_000, |p| p.ms()),
            },
            DemandDef::Trace { .. } => Generator::None,
        }
    }

    /// The generator of `def` when only its `f64`s are known: each number at the decimal it
    /// prints as (the decimal it was written as, for up to 15 significant digits).
    pub fn from_f64s(def: &DemandDef) -> Generator {
        Generator::new(def, |_, v| {
            Exact::from_f64_decimal(v).unwrap_or_else(Exact::zero)
        })
    }

    /// The value at `t_ms` (`def` is the definition it was made from, for a diurnal).
    pub fn at(&self, def: &DemandDef, t_ms: u64) -> Exact {
        match self {
            Generator::Constant(v) => v.clone(),
            Generator::Step(points) => {
                let i = points.partition_point(|(at, _)| *at <= t_ms);
                if i == 0 {
                    Exact::zero()
                } else {
                    points[i - 1].1.clone()
                }
            }
            Generator::Surge {
                base,
                peak,
                start,
                rise,
                hold,
                fall,
            } => {
                let up = start.saturating_add(*rise);
                let top = up.saturating_add(*hold);
                let down = top.saturating_add(*fall);
                // From a to b over `len` ms, `d` ms in: (a * (len - d) + b * d) / len.
                let line = |a: &Exact, b: &Exact, d: u64, len: u64| {
                    let sum = a.mul(&Exact::int(len - d)).add(&b.mul(&Exact::int(d)));
                    sum.div(&Exact::int(len)).unwrap_or_else(|| a.clone())
                };
                if t_ms < *start {
                    base.clone()
                } else if t_ms < up {
                    line(base, peak, t_ms - start, *rise)
                } else if t_ms < top {
                    peak.clone()
                } else if t_ms < down {
                    line(peak, base, t_ms - top, *fall)
                } else {
                    base.clone()
                }
            }
            Generator::Diurnal {
                mean,
                amplitude,
                phase,
                period,
            } => {
                let p = i128::from(*period);
                let at = (i128::from(t_ms) - i128::from(*phase)).rem_euclid(p.max(1));
                // sin(2 pi k / 12) in halves, where it is rational.
                let half = match (12 * at % p.max(1) == 0).then_some(12 * at / p.max(1)) {
                    Some(0 | 6) => Some((0, false)),
                    Some(1 | 5) => Some((1, false)),
                    Some(3) => Some((2, false)),
                    Some(7 | 11) => Some((1, true)),
                    Some(9) => Some((2, true)),
                    _ => None,
                };
                match half {
                    Some((h, negative)) => {
                        let term = amplitude.mul(&Exact::ratio(h, 2).unwrap_or_else(Exact::zero));
                        if negative {
                            mean.sub_or_zero(&term)
                        } else {
                            mean.add(&term)
                        }
                    }
                    None => Exact::from_f64(value_at(def, t_ms)).unwrap_or_else(Exact::zero),
                }
            }
            Generator::None => Exact::zero(),
        }
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
/// `noise` is given, turns values into instances, and keeps changes only. The generator's
/// numbers are read from their `f64`s ([`Generator::from_f64s`]); a value above `u32::MAX`
/// is cut to `u32::MAX` (this counts Mbps too): the loader uses [`try_sample`] on the numbers
/// as written, which reports a count above its cap instead.
pub fn sample(
    def: &DemandDef,
    duration_ms: u64,
    interval_ms: u64,
    noise: Option<&mut ChaCha8Rng>,
    requests: Option<&Requests>,
) -> Vec<DemandPoint> {
    let g = Generator::from_f64s(def);
    let mut out = Vec::new();
    let _ = sample_into(
        &g,
        def,
        duration_ms,
        interval_ms,
        noise,
        requests,
        &mut out,
        None,
    );
    out
}

/// Like [`sample`], with the generator's numbers given exactly; `Err(t)` if at `t` the
/// value (after the request rule and noise) is more than `cap`.
#[allow(clippy::too_many_arguments)]
pub fn try_sample(
    g: &Generator,
    def: &DemandDef,
    duration_ms: u64,
    interval_ms: u64,
    noise: Option<&mut ChaCha8Rng>,
    requests: Option<&Requests>,
    cap: u32,
) -> Result<Vec<DemandPoint>, u64> {
    let mut out = Vec::new();
    sample_into(
        g,
        def,
        duration_ms,
        interval_ms,
        noise,
        requests,
        &mut out,
        Some(cap),
    )?;
    Ok(out)
}

/// How many samples [`sample`] draws for `def` over `[0, duration_ms)`: one for a constant
/// without noise (every sample would be the same), else one every `interval_ms`.
pub fn samples(def: &DemandDef, duration_ms: u64, interval_ms: u64, noise: bool) -> u64 {
    if matches!(def, DemandDef::Constant { .. }) && !noise {
        return u64::from(duration_ms > 0);
    }
    duration_ms.div_ceil(interval_ms.max(1))
}

#[allow(clippy::too_many_arguments)]
fn sample_into(
    g: &Generator,
    def: &DemandDef,
    duration_ms: u64,
    interval_ms: u64,
    mut noise: Option<&mut ChaCha8Rng>,
    requests: Option<&Requests>,
    out: &mut Vec<DemandPoint>,
    // `None`: saturate at `u32::MAX`; `Some(cap)`: fail above `cap`.
    cap: Option<u32>,
) -> Result<(), u64> {
    let mut t = 0u64;
    // A constant without noise is the same at every sample: the first is all of them.
    let once = matches!(def, DemandDef::Constant { .. }) && noise.is_none();
    while t < duration_ms {
        // Noise draws a whole number from Poisson(the f64 value), as before exactness.
        let v = match noise.as_deref_mut() {
            Some(rng) => {
                Exact::from_f64(poisson(rng, value_at(def, t))).unwrap_or_else(Exact::zero)
            }
            None => g.at(def, t),
        };
        let n = match (count(&v, requests, cap.unwrap_or(u32::MAX)), cap) {
            (Some(n), _) => n,
            (None, None) => u32::MAX,
            (None, Some(_)) => return Err(t),
        };
        if out.last().map(|p| p.instances) != Some(n) {
            out.push(DemandPoint {
                time_ms: t,
                instances: n,
            });
        }
        if once {
            break;
        }
        t = t.saturating_add(interval_ms.max(1));
    }
    Ok(())
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

    fn x(s: &str) -> Exact {
        Exact::parse(s).unwrap()
    }

    /// The rule at `latency_ms`, `concurrency`, `target` (text as written).
    fn rule(latency_ms: u64, concurrency: u32, target: &str) -> Requests {
        Requests::new(&Exact::int(latency_ms), concurrency, &x(target))
    }

    #[test]
    fn request_rule_is_exact_on_the_decimals_as_written() {
        let r = rule(1000, 80, "0.6");
        // 48 rps at 1 s over 80 x 0.6 = 48 is exactly 1 instance; any rate above is 2.
        assert_eq!(instances(&x("48"), Some(&r)), Some(1));
        assert_eq!(instances(&x("48.00000002"), Some(&r)), Some(2));
        assert_eq!(instances(&x("48.000000000000000001"), Some(&r)), Some(2));
        assert_eq!(instances(&x("47.99999999999999999"), Some(&r)), Some(1));
        assert_eq!(instances(&x("96"), Some(&r)), Some(2));
        assert_eq!(instances(&x("0"), Some(&r)), Some(0));
        assert_eq!(instances(&x("0.000000000000000000001"), Some(&r)), Some(1));
        // 0.1 + 0.2 = 0.3 exactly (f64 gives 0.30000000000000004): 0.3 rps at 160 s over
        // 80 x 0.6 is 1 instance exactly.
        let sum = x("0.1").add(&x("0.2"));
        assert_eq!(instances(&sum, Some(&rule(160_000, 80, "0.6"))), Some(1));
        // Non-default concurrency and utilisation: 70 rps x 0.3 s / (7 x 0.3) = 10.
        assert_eq!(instances(&x("70"), Some(&rule(300, 7, "0.3"))), Some(10));
        assert_eq!(
            instances(&x("70.0000001"), Some(&rule(300, 7, "0.3"))),
            Some(11)
        );
        // 1000 rps x 1 s / (1000 x 0.1) = 10, though 0.1 has no exact f64.
        assert_eq!(
            instances(&x("1000"), Some(&rule(1000, 1000, "0.1"))),
            Some(10)
        );
        assert_eq!(instances(&x("1"), Some(&rule(1000, 1, "1"))), Some(1));
        // Very large: 1e9 rps x 1 h over 1 x 0.001 is far above u32::MAX, said so.
        assert_eq!(
            instances(&x("1e9"), Some(&rule(3_600_000, 1, "0.001"))),
            None
        );
        // The cap holds after the conversion: 100,000 instances, not one more.
        assert_eq!(
            instances(&x("100000"), Some(&rule(1000, 1, "1"))),
            Some(INSTANCE_CAP)
        );
        assert_eq!(
            instances(&x("100000.0000000001"), Some(&rule(1000, 1, "1"))),
            None
        );
        assert_eq!(
            instances(&x("1e-300"), Some(&rule(1000, 1, "1e-300"))),
            Some(1)
        );
        assert_eq!(instances(&x("1"), Some(&rule(1000, 1, "1e-300"))), None);
        assert_eq!(
            count(&x("4294967295"), Some(&rule(1000, 1, "1")), u32::MAX),
            Some(u32::MAX)
        );
        assert_eq!(
            count(
                &x("4294967295.0000000001"),
                Some(&rule(1000, 1, "1")),
                u32::MAX
            ),
            None
        );
        // Very small utilisation and latency.
        assert_eq!(
            instances(&x("1e-30"), Some(&rule(1, 1000, "1e-30"))),
            Some(1)
        );
        assert_eq!(
            count(&x("1000"), Some(&rule(1, 1, "0.000001")), u32::MAX),
            Some(1_000_000)
        );
        assert_eq!(instances(&x("1000"), Some(&rule(1, 1, "0.000001"))), None);
        // A refused concurrency or utilisation of 0 never divides by zero.
        assert_eq!(instances(&x("5"), Some(&rule(1000, 0, "0.6"))), Some(0));
        assert_eq!(instances(&x("5"), Some(&rule(1000, 80, "0"))), Some(0));
    }

    #[test]
    fn instance_counts_round_up_exactly() {
        assert_eq!(instances(&x("2.2"), None), Some(3));
        assert_eq!(instances(&x("2"), None), Some(2));
        assert_eq!(instances(&x("2.0000000000001"), None), Some(3));
        assert_eq!(instances(&Exact::zero(), None), Some(0));
    }

    #[test]
    fn generators_read_their_numbers_exactly() {
        let m = 60_000;
        let def = DemandDef::Constant { value: 48.00000002 };
        let r = rule(1000, 80, "0.6");
        let g = Generator::from_f64s(&def);
        assert_eq!(g, Generator::Constant(x("48.00000002")));
        let got = try_sample(&g, &def, 2 * m, m, None, Some(&r), INSTANCE_CAP).unwrap();
        assert_eq!(got, pts(&[(0, 2)]));
        // A surge from 0.1 to 0.7 over 3 min passes 0.3 and 0.5 exactly: ceil gives 1, 1.
        let def = DemandDef::Surge {
            base: 0.1,
            peak: 0.7,
            start: Duration(0),
            rise: Duration(3 * m),
            hold: Duration(0),
            fall: Duration(0),
        };
        let g = Generator::from_f64s(&def);
        assert_eq!(g.at(&def, m), x("0.3"));
        assert_eq!(g.at(&def, 2 * m), x("0.5"));
        assert_eq!(g.at(&def, 3 * m), x("0.1"));
        // 0.3 rps at 160 s: exactly 1 instance.
        let r = rule(160_000, 80, "0.6");
        assert_eq!(instances(&g.at(&def, m), Some(&r)), Some(1));
        // A diurnal is exact where its sine is rational: at half a period sin(pi) is 0, not
        // the f64 1.2e-16 that would make 3 + 2 sin a hair above 3.
        let h = 3_600_000;
        let def = DemandDef::Diurnal {
            mean: 3.0,
            amplitude: 2.0,
            phase: Duration(0),
            period: Some(Duration(4 * h)),
        };
        let g = Generator::from_f64s(&def);
        assert!(value_at(&def, 2 * h) > 3.0);
        assert_eq!(g.at(&def, 2 * h), x("3"));
        assert_eq!(g.at(&def, h), x("5"));
        assert_eq!(g.at(&def, 3 * h), x("1"));
        assert_eq!(g.at(&def, 4 * h / 12), x("4")); // sin(pi / 6) = 1/2
        assert_eq!(g.at(&def, 4 * h + 7 * (4 * h / 12)), x("2")); // a period on, sin = -1/2
        assert_eq!(instances(&g.at(&def, 2 * h), None), Some(3));
        // Elsewhere the f64's exact value: sin(pi / 3) = 0.866..., 3 + 1.73... = 4.73...
        assert_eq!(instances(&g.at(&def, 4 * h / 6), None), Some(5));
        let deep = DemandDef::Diurnal {
            mean: 1.0,
            amplitude: 2.0,
            phase: Duration(h),
            period: Some(Duration(4 * h)),
        };
        let g = Generator::from_f64s(&deep);
        assert_eq!(g.at(&deep, 0), Exact::zero()); // 1 - 2 clamps at 0; t before the phase
        // Too many instances is an error at the time it happens.
        let big = DemandDef::Step {
            points: vec![(Duration(0), 0.01), (Duration(m), 1e9)],
        };
        let r = rule(3_600_000, 1, "0.001");
        let g = Generator::from_f64s(&big);
        assert_eq!(
            try_sample(&g, &big, 2 * m, m, None, Some(&r), INSTANCE_CAP),
            Err(m)
        );
        assert_eq!(
            sample(&big, 2 * m, m, None, Some(&r))
                .last()
                .map(|p| p.instances),
            Some(u32::MAX)
        );
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
