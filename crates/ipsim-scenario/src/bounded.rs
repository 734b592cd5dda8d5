//! Reading files with bounds: a scenario of at most [`MAX_SCENARIO_BYTES`], CSV records of at
//! most [`MAX_LINE_BYTES`], and error messages that quote at most [`EXCERPT_CHARS`] of a bad
//! field. A file of NULs, `/dev/zero` or a pasted 100 MB field is an error, not memory.

use std::io::{self, Read};
use std::path::Path;

/// The largest scenario file read: 256 MiB (a million workloads take about 100 MiB).
pub const MAX_SCENARIO_BYTES: u64 = 256 << 20;
/// The longest line of a CSV trace or durations file: 1 MiB.
pub const MAX_LINE_BYTES: u64 = 1 << 20;
/// The most characters of a bad field an error message quotes.
pub const EXCERPT_CHARS: usize = 40;

/// The bytes of the file at `path`, or an error if it holds more than `limit` bytes (read
/// as a stream, so a pipe or `/dev/zero` ends at the limit too). `what` names the file.
pub fn read_file(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("cannot read the {what}: {e}"))?;
    let mut bytes = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the {what}: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "the {what} is larger than {} MiB, the most ipsim reads",
            limit >> 20
        ));
    }
    Ok(bytes)
}

/// A reader that fails once a line runs longer than `max` bytes without a line break.
#[derive(Debug)]
pub struct LineLimit<R> {
    inner: R,
    max: u64,
    run: u64,
    line: u64,
}

impl<R: Read> LineLimit<R> {
    /// Wraps `inner`, allowing lines of at most `max` bytes.
    pub fn new(inner: R, max: u64) -> Self {
        Self::from_line(inner, max, 1)
    }

    /// Like [`LineLimit::new`] for a reader that starts at the beginning of line `line` of
    /// its file (a file reopened where it was left), so that errors name the file's line.
    pub fn from_line(inner: R, max: u64, line: u64) -> Self {
        LineLimit {
            inner,
            max,
            run: 0,
            line,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let too_long = |line: u64| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "line {line} is longer than {} KiB, the longest line ipsim reads",
                    self.max >> 10
                ),
            )
        };
        let got = &buf[..n];
        if got.len() as u64 <= self.max {
            // A part between two line breaks of this read is shorter than the read, so no
            // longer than `max`: only the line the read continues and the one it leaves open
            // can be too long. Line breaks are counted, not found one by one: this runs over
            // every byte of every trace.
            let Some(first) = got.iter().position(|&b| b == b'\n') else {
                self.run += got.len() as u64;
                if self.run > self.max {
                    return Err(too_long(self.line));
                }
                return Ok(n);
            };
            if self.run + first as u64 > self.max {
                return Err(too_long(self.line));
            }
            let last = got.iter().rposition(|&b| b == b'\n').unwrap_or(first);
            self.line += line_breaks(got);
            self.run = (got.len() - last - 1) as u64;
            // The open line is at most `max` bytes: this read is.
            return Ok(n);
        }
        // Line by line rather than byte by byte.
        let mut rest = got;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            if self.run + i as u64 > self.max {
                return Err(too_long(self.line));
            }
            self.run = 0;
            self.line += 1;
            rest = &rest[i + 1..];
        }
        self.run += rest.len() as u64;
        if self.run > self.max {
            return Err(too_long(self.line));
        }
        Ok(n)
    }
}

/// The line breaks in `b`, counted 64 bytes at a time (a count the compiler vectorises: a
/// tenth of the time of a plain count).
fn line_breaks(b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(64);
    let mut n = 0u64;
    for c in &mut chunks {
        n += u64::from(c.iter().map(|&x| u8::from(x == b'\n')).sum::<u8>());
    }
    n + chunks.remainder().iter().filter(|&&x| x == b'\n').count() as u64
}

/// `s` quoted, cut to [`EXCERPT_CHARS`] characters with `...` and its length if longer.
pub fn excerpt(s: &str) -> String {
    let n = s.chars().count();
    if n <= EXCERPT_CHARS {
        return format!("{s:?}");
    }
    let head: String = s.chars().take(EXCERPT_CHARS).collect();
    format!("{head:?}... ({n} characters)")
}

/// `s` as is if short, else its first [`EXCERPT_CHARS`] characters, `...` and its length.
pub fn short(s: &str) -> String {
    let n = s.chars().count();
    if n <= EXCERPT_CHARS {
        return s.to_string();
    }
    let head: String = s.chars().take(EXCERPT_CHARS).collect();
    format!("{head}... ({n} characters)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_an_error_at_its_line() {
        let text = format!("a,b\n1,2\n{}\n", "x".repeat(2000));
        let mut r = LineLimit::new(text.as_bytes(), 1000);
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3 is longer than 0 KiB, the longest line ipsim reads"
        );
        let mut ok = LineLimit::new(&b"a,b\n1,2\n"[..], 3);
        out.clear();
        assert_eq!(ok.read_to_end(&mut out).unwrap(), 8);
    }

    /// A reader giving at most `step` bytes a read.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Whatever the reads (shorter than the limit, as a trace's are, or longer), the first
    /// line longer than the limit is the error, at its line, and a text without one is read
    /// whole.
    #[test]
    fn the_first_long_line_is_found_whatever_the_reads() {
        let max = 100u64;
        for lens in [
            vec![10, 100, 0, 99, 100, 3],
            vec![10, 100, 101, 5],
            vec![100, 100, 100, 100, 100, 100, 250],
            vec![0, 0, 0, 150],
            vec![50; 40],
            vec![5, 7, 100, 1, 101],
        ] {
            for open_end in [false, true] {
                let mut text = Vec::new();
                for (i, &l) in lens.iter().enumerate() {
                    text.extend(std::iter::repeat_n(b'x', l));
                    if !(open_end && i + 1 == lens.len()) {
                        text.push(b'\n');
                    }
                }
                let want = lens
                    .iter()
                    .position(|&l| l as u64 > max)
                    .map(|i| format!("line {} is longer", i + 1));
                for (step, buf) in [
                    (1, 8),
                    (7, 64),
                    (64, 64),
                    (100, 100),
                    (33, 4096),
                    (4096, 4096),
                ] {
                    let mut r = LineLimit::new(Trickle(&text, step), max);
                    let mut chunk = vec![0u8; buf];
                    let mut got = 0;
                    let res = loop {
                        match r.read(&mut chunk) {
                            Ok(0) => break Ok(got),
                            Ok(n) => got += n,
                            Err(e) => break Err(e.to_string()),
                        }
                    };
                    match (&want, res) {
                        (None, Ok(n)) => assert_eq!(n, text.len()),
                        (Some(w), Err(e)) => {
                            assert!(e.starts_with(w), "{lens:?} {step}/{buf}: {e}")
                        }
                        (w, r) => panic!("{lens:?} {open_end} {step}/{buf}: {w:?} {r:?}"),
                    }
                }
            }
        }
        assert_eq!(line_breaks(&[b'\n'; 200]), 200);
        assert_eq!(line_breaks(&b"a\nb\n".repeat(50)[1..]), 100);
    }

    #[test]
    fn excerpts_are_short() {
        assert_eq!(excerpt("abc"), "\"abc\"");
        let long = "y".repeat(100_000_000 / 1000);
        assert_eq!(
            excerpt(&long),
            format!("\"{}\"... (100000 characters)", "y".repeat(40))
        );
    }

    #[test]
    fn dev_zero_ends_at_the_limit() {
        if !Path::new("/dev/zero").exists() {
            return;
        }
        let e = read_file(Path::new("/dev/zero"), 1 << 20, "scenario").unwrap_err();
        assert_eq!(e, "the scenario is larger than 1 MiB, the most ipsim reads");
    }
}
