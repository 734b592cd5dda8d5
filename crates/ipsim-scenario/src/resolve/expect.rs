//! `expect`: the scenario's documented outcome, compared with a run. Nothing here fails a
//! load; a mismatch is a line of the difference.

use ipsim_core::Output;

use super::Scenario;
use crate::duration::Duration;

impl Scenario {
    /// How the run differs from the scenario's documented outcome (`expect`); empty if it
    /// matches or documents none.
    pub fn check_expect(&self, out: &Output) -> Vec<String> {
        let Some(e) = &self.def.expect else {
            return Vec::new();
        };
        let s = &out.summary;
        let mut bad = Vec::new();
        if let Some(x) = e.exhausted {
            if x != s.first_exhaustion.is_some() {
                bad.push(format!("expected exhausted = {x}, got {}", !x));
            }
        }
        if let Some(t) = e.first_exhaustion {
            let got = s.first_exhaustion.as_ref().map(|f| Duration(f.time_ms));
            if got != Some(t) {
                bad.push(format!(
                    "expected the first exhaustion at {t}, got {}",
                    got.map_or("none".into(), |g| g.to_string())
                ));
            }
        }
        if let Some(p) = e.peak_held {
            if p != s.peak_held {
                bad.push(format!("expected peak_held {p}, got {}", s.peak_held));
            }
        }
        if let Some(n) = e.failure_windows {
            if n != s.failure_windows.len() {
                bad.push(format!(
                    "expected {n} failure windows, got {}",
                    s.failure_windows.len()
                ));
            }
        }
        if let Some(d) = e.first_window {
            let got = s
                .failure_windows
                .first()
                .map(|w| Duration(w.end_ms - w.start_ms));
            if got != Some(d) {
                bad.push(format!(
                    "expected the first failure window to last {d}, got {}",
                    got.map_or("none".into(), |g| g.to_string())
                ));
            }
        }
        if let Some(n) = e.saturation_windows {
            if n != s.saturation_windows.len() {
                bad.push(format!(
                    "expected {n} saturation windows, got {}",
                    s.saturation_windows.len()
                ));
            }
        }
        if let Some(n) = e.deploy_failures {
            if n != s.deploy_failures.len() {
                bad.push(format!(
                    "expected {n} deploy failures, got {}",
                    s.deploy_failures.len()
                ));
            }
        }
        bad
    }
}
