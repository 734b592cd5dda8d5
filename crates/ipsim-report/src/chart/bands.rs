//! Failure windows as a person can read them on a chart: windows closer than a few pixels
//! merge into one band, and the longest bands get the labels first.

use crate::WindowRow;

/// Windows of one or more workloads that touch or nearly touch on the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Band {
    pub(crate) start_ms: u64,
    pub(crate) end_ms: u64,
    /// Still open at the end of the run.
    pub(crate) open: bool,
    /// The windows merged.
    pub(crate) n_windows: usize,
    /// The workloads concerned, in name order.
    pub(crate) workloads: Vec<String>,
}

/// Merges `windows` into bands: two windows less than `gap_ms` apart share a band.
pub(crate) fn merge(windows: &[&WindowRow], gap_ms: u64) -> Vec<Band> {
    let mut ws: Vec<&WindowRow> = windows.to_vec();
    ws.sort_by_key(|w| (w.start_ms, w.end_ms));
    let mut bands: Vec<Band> = Vec::new();
    for w in ws {
        match bands.last_mut() {
            Some(b) if w.start_ms <= b.end_ms.saturating_add(gap_ms) => {
                if w.end_ms >= b.end_ms {
                    b.end_ms = w.end_ms;
                    b.open = w.open;
                }
                b.n_windows += 1;
                if let Err(i) = b.workloads.binary_search(&w.workload) {
                    b.workloads.insert(i, w.workload.clone());
                }
            }
            _ => bands.push(Band {
                start_ms: w.start_ms,
                end_ms: w.end_ms,
                open: w.open,
                n_windows: 1,
                workloads: vec![w.workload.clone()],
            }),
        }
    }
    bands
}

/// The order in which bands get labels: longest first, earlier first among equals.
pub(crate) fn label_order(bands: &[Band]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..bands.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (&bands[a], &bands[b]);
        (y.end_ms - y.start_ms)
            .cmp(&(x.end_ms - x.start_ms))
            .then(x.start_ms.cmp(&y.start_ms))
    });
    idx
}

/// Who a band is about: the workload, or how many.
pub(crate) fn who(b: &Band) -> String {
    match b.workloads.as_slice() {
        [one] => one.clone(),
        many => format!("{} workloads", many.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(name: &str, a: u64, b: u64) -> WindowRow {
        WindowRow {
            start_ms: a,
            end_ms: b,
            start: String::new(),
            end: String::new(),
            duration_ms: b - a,
            workload: name.into(),
            subnet: "s".into(),
            open: false,
        }
    }

    #[test]
    fn near_windows_merge_and_the_longest_band_is_labelled_first() {
        let ws = [
            w("a", 0, 10),
            w("b", 12, 20),
            w("a", 100, 300),
            w("c", 500, 520),
        ];
        let refs: Vec<&WindowRow> = ws.iter().collect();
        let bands = merge(&refs, 5);
        assert_eq!(bands.len(), 3);
        assert_eq!(
            (bands[0].start_ms, bands[0].end_ms, bands[0].n_windows),
            (0, 20, 2)
        );
        assert_eq!(bands[0].workloads, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(who(&bands[0]), "2 workloads");
        assert_eq!(who(&bands[1]), "a");
        assert_eq!(label_order(&bands), vec![1, 0, 2]);
    }
}
