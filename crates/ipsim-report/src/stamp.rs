//! The run id that ties a run's files together.
//!
//! `report.json` carries `run`: an `id` and, for each CSV file written beside it, its length
//! in bytes and a 64-bit FNV-1a digest of its bytes. The id is a digest of the report (its
//! scenario, seed, ipsim version, parameters and figures) and of those files, so it depends
//! on nothing but the run's content: the same scenario and seed give the same id, byte for
//! byte. `ipsim chart` reads a file only if its length and digest are the ones the report
//! names, so it refuses a CSV from another run and one cut short. FNV-1a guards against
//! accidents (a killed run, two runs' files mixed), not against tampering.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A running 64-bit FNV-1a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(FNV_OFFSET)
    }
}

impl Fnv {
    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    /// Adds `bytes` preceded by their length, so that parts cannot run into each other.
    pub fn part(&mut self, bytes: &[u8]) {
        self.update(&(bytes.len() as u64).to_le_bytes());
        self.update(bytes);
    }

    /// The digest as 16 hexadecimal digits.
    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// One file of a run: its length and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Length in bytes.
    pub bytes: u64,
    /// 64-bit FNV-1a digest of the bytes, 16 hexadecimal digits.
    pub fnv1a64: String,
}

/// `run` in report.json: the run id and the files it wrote beside the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStamp {
    /// The run id, 16 hexadecimal digits.
    pub id: String,
    /// File name (in the report's folder) to its stamp.
    pub files: BTreeMap<String, FileStamp>,
}

impl RunStamp {
    /// The stamp of a run whose report (serialised without `run`) is `report` and whose
    /// files are `files`.
    pub fn new(report: &[u8], files: BTreeMap<String, FileStamp>) -> RunStamp {
        let mut h = Fnv::default();
        h.part(report);
        for (name, f) in &files {
            h.part(name.as_bytes());
            h.part(&f.bytes.to_le_bytes());
            h.part(f.fnv1a64.as_bytes());
        }
        RunStamp { id: h.hex(), files }
    }

    /// Checks every file of the stamp in `dir`: an error names the first that is missing, has
    /// another length or another digest.
    pub fn check(&self, dir: &Path) -> Result<(), String> {
        for (name, want) in &self.files {
            let path = dir.join(name);
            let got =
                stamp_file(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if got != *want {
                let why = if got.bytes < want.bytes {
                    "cut short, or from another run"
                } else {
                    "from another run, or changed"
                };
                return Err(format!(
                    "{} is not the file run {} wrote: it has {} bytes (digest {}), the run \
                     wrote {} (digest {}); it was {why}. Run the scenario again",
                    path.display(),
                    self.id,
                    got.bytes,
                    got.fnv1a64,
                    want.bytes,
                    want.fnv1a64
                ));
            }
        }
        Ok(())
    }
}

/// A writer that stamps what it passes on to `inner`.
#[derive(Debug)]
pub struct Stamped<W> {
    inner: W,
    hash: Fnv,
    bytes: u64,
}

impl<W: Write> Stamped<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Stamped {
            inner,
            hash: Fnv::default(),
            bytes: 0,
        }
    }

    /// The stamp of every byte written so far.
    pub fn stamp(&self) -> FileStamp {
        FileStamp {
            bytes: self.bytes,
            fnv1a64: self.hash.hex(),
        }
    }
}

impl<W: Write> Write for Stamped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The stamp of the file at `path`, read in blocks.
pub fn stamp_file(path: &Path) -> io::Result<FileStamp> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let (mut hash, mut bytes) = (Fnv::default(), 0u64);
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hash.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(FileStamp {
        bytes,
        fnv1a64: hash.hex(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_vectors() {
        // http://www.isthe.com/chongo/tech/comp/fnv/ test vectors for FNV-1a 64.
        let mut h = Fnv::default();
        assert_eq!(h.hex(), "cbf29ce484222325");
        h.update(b"a");
        assert_eq!(h.hex(), "af63dc4c8601ec8c");
        let mut h = Fnv::default();
        h.update(b"foobar");
        assert_eq!(h.hex(), "85944171f73967e8");
    }

    #[test]
    fn the_stamp_of_a_writer_is_the_stamp_of_its_file() {
        let dir = std::env::temp_dir().join(format!("ipsim-stamp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.csv");
        let mut w = Stamped::new(std::fs::File::create(&p).unwrap());
        w.write_all(b"time_ms,x\n0,1\n").unwrap();
        w.flush().unwrap();
        assert_eq!(stamp_file(&p).unwrap(), w.stamp());
        let files = BTreeMap::from([("a.csv".to_string(), w.stamp())]);
        let run = RunStamp::new(b"{}", files);
        assert_eq!(run.check(&dir), Ok(()));
        std::fs::write(&p, b"time_ms,x\n0,").unwrap();
        let e = run.check(&dir).unwrap_err();
        assert!(e.contains("has 12 bytes (digest"), "{e}");
        assert!(e.contains("cut short"), "{e}");
        std::fs::write(&p, b"time_ms,x\n0,2\n").unwrap();
        let e = run.check(&dir).unwrap_err();
        assert!(e.contains("is not the file run"), "{e}");
        assert!(e.contains("from another run, or changed"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
