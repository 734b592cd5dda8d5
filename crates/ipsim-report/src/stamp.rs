//! The run id that ties a run's files together.
//!
//! `report.json` carries `run`: an `id` and, for each CSV file written beside it, its length
//! in bytes and a CRC-32 of its bytes (`crc32`; report format 4 named a 64-bit FNV-1a digest,
//! `fnv1a64`, which is still checked). Every row of those CSVs carries the same
//! id in its `run` column. The id is fixed before the run starts ([`run_id`]: a digest of the
//! ipsim version, the scenario as written and the seed),
//! so it depends on nothing but what the run was given: the same scenario and seed give the
//! same id, byte for byte. `ipsim chart` refuses a CSV whose `run` is not the report's, then
//! reads a file only if its length and digest are the ones the report names, so it also
//! refuses one cut short or edited. The digest guards against accidents (a killed run, two runs'
//! files mixed), not against tampering. A file's digest is CRC-32 (ISO-HDLC, the one of zip,
//! gzip and PNG) rather than FNV-1a: FNV-1a takes one multiply per byte, in series, and cost
//! a seventh of a run's time over a large `workloads.csv`; CRC-32 is computed with carry-less
//! multiplies (crc32fast) at many bytes a cycle, and it detects every burst error shorter than
//! 32 bits, which is what a cut or an edited field is.

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

/// The digest of a file's bytes, named in report.json by its algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Digest {
    /// CRC-32 (ISO-HDLC), 8 hexadecimal digits: what ipsim writes since report format 5.
    Crc32(String),
    /// 64-bit FNV-1a, 16 hexadecimal digits: what report format 4 named, still checked.
    Fnv1a64(String),
}

impl Digest {
    /// The digest's value, hexadecimal.
    pub fn hex(&self) -> &str {
        match self {
            Digest::Crc32(h) | Digest::Fnv1a64(h) => h,
        }
    }
}

/// One file of a run: its length and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Length in bytes.
    pub bytes: u64,
    /// The digest of the bytes: `"crc32": "cbf43926"` in report.json.
    #[serde(flatten)]
    pub digest: Digest,
}

/// `run` in report.json: the run id and the files it wrote beside the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStamp {
    /// The run id, 16 hexadecimal digits.
    pub id: String,
    /// File name (in the report's folder) to its stamp.
    pub files: BTreeMap<String, FileStamp>,
}

/// The run id of a run given `parts` (the ipsim version, the scenario as written, the seed,
/// ...): 16 hexadecimal digits, a 64-bit FNV-1a digest of the parts, each preceded by its
/// length. Known before the run, so that every CSV row can carry it.
pub fn run_id(parts: &[&[u8]]) -> String {
    let mut h = Fnv::default();
    for p in parts {
        h.part(p);
    }
    h.hex()
}

impl RunStamp {
    /// The stamp of run `id` whose files are `files`.
    pub fn new(id: String, files: BTreeMap<String, FileStamp>) -> RunStamp {
        RunStamp { id, files }
    }

    /// Checks every file of the stamp in `dir`: an error names the first that is missing,
    /// carries another run id in its `run` column (both ids named), or has another length or
    /// another digest.
    pub fn check(&self, dir: &Path) -> Result<(), String> {
        for name in self.files.keys() {
            self.check_id(&dir.join(name))?;
        }
        for (name, want) in &self.files {
            let path = dir.join(name);
            let got = stamp_file_as(&path, &want.digest)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
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
                    got.digest.hex(),
                    want.bytes,
                    want.digest.hex()
                ));
            }
        }
        Ok(())
    }
}

impl RunStamp {
    /// Refuses the CSV at `path` if its first row's `run` is not this run's id, or if it has
    /// no `run` column. Only the first row is read: the digest check that follows covers the
    /// rest of the file byte for byte.
    fn check_id(&self, path: &Path) -> Result<(), String> {
        let f = std::fs::File::open(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(io::BufReader::new(f));
        let header = r
            .headers()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .clone();
        if header.iter().all(str::is_empty) {
            // Empty: the digest check says it was cut short.
            return Ok(());
        }
        let Some(col) = header.iter().position(|c| c == "run") else {
            return Err(format!(
                "{} has no `run` column, but report.json is of run {}: the file was written \
                 by another run (an ipsim before report format 4?); run the scenario again",
                path.display(),
                self.id
            ));
        };
        let mut rec = csv::StringRecord::new();
        match r.read_record(&mut rec) {
            // Header only, or a row cut short: the digest check names what is wrong.
            Ok(false) | Err(_) => Ok(()),
            Ok(true) => match rec.get(col) {
                // A row cut short in its id is cut short, not another run's.
                Some(got) if self.id.starts_with(got) => Ok(()),
                Some(got) => Err(format!(
                    "{}:{}: this file is of run {}, but report.json beside it is of run {}: \
                     the files come from two runs; run the scenario again",
                    path.display(),
                    rec.position().map_or(2, |p| p.line()),
                    excerpt(got),
                    self.id
                )),
                None => Ok(()),
            },
        }
    }
}

/// At most 20 characters of `s`, for an error message.
fn excerpt(s: &str) -> String {
    let mut e: String = s.chars().take(20).collect();
    if e.len() < s.len() {
        e.push_str("...");
    }
    e
}

/// A writer that stamps what it passes on to `inner`. Give it large writes (a `BufWriter`
/// around it, not inside it): the digest runs fastest over long slices.
#[derive(Debug)]
pub struct Stamped<W> {
    inner: W,
    hash: crc32fast::Hasher,
    bytes: u64,
}

impl<W: Write> Stamped<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Stamped {
            inner,
            hash: crc32fast::Hasher::new(),
            bytes: 0,
        }
    }

    /// The stamp of every byte written so far.
    pub fn stamp(&self) -> FileStamp {
        FileStamp {
            bytes: self.bytes,
            digest: crc32_digest(self.hash.clone()),
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

fn crc32_digest(h: crc32fast::Hasher) -> Digest {
    Digest::Crc32(format!("{:08x}", h.finalize()))
}

/// The stamp of the file at `path` (its CRC-32), read in blocks.
pub fn stamp_file(path: &Path) -> io::Result<FileStamp> {
    stamp_file_as(path, &Digest::Crc32(String::new()))
}

/// The stamp of the file at `path` with the digest of `like` (CRC-32 or, for a report of
/// format 4, FNV-1a), read in blocks.
pub fn stamp_file_as(path: &Path, like: &Digest) -> io::Result<FileStamp> {
    enum Running {
        Crc(crc32fast::Hasher),
        Fnv(Fnv),
    }
    let mut hash = match like {
        Digest::Crc32(_) => Running::Crc(crc32fast::Hasher::new()),
        Digest::Fnv1a64(_) => Running::Fnv(Fnv::default()),
    };
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        match &mut hash {
            Running::Crc(h) => h.update(&buf[..n]),
            Running::Fnv(h) => h.update(&buf[..n]),
        }
        bytes += n as u64;
    }
    let digest = match hash {
        Running::Crc(h) => crc32_digest(h),
        Running::Fnv(h) => Digest::Fnv1a64(h.hex()),
    };
    Ok(FileStamp { bytes, digest })
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
    fn crc32_matches_the_published_check_value() {
        // The check value of CRC-32/ISO-HDLC (https://reveng.sourceforge.io/crc-catalogue/
        // 17plus.htm#crc.cat.crc-32-iso-hdlc): the CRC of "123456789".
        let mut w = Stamped::new(Vec::new());
        w.write_all(b"1234").unwrap();
        w.write_all(b"56789").unwrap();
        assert_eq!(w.stamp().digest, Digest::Crc32("cbf43926".into()));
        assert_eq!(
            serde_json::to_string(&w.stamp()).unwrap(),
            r#"{"bytes":9,"crc32":"cbf43926"}"#
        );
        assert_eq!(
            Stamped::new(Vec::new()).stamp().digest,
            Digest::Crc32("00000000".into())
        );
    }

    #[test]
    fn a_format_4_stamp_is_read_and_checked_with_fnv1a() {
        let dir = std::env::temp_dir().join(format!("ipsim-stamp4-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.csv");
        let csv = b"x,run\n1,00aa\n";
        std::fs::write(&p, csv).unwrap();
        let mut fnv = Fnv::default();
        fnv.update(csv);
        // What an ipsim of report format 4 wrote for this file.
        let json = format!(r#"{{"bytes": {}, "fnv1a64": "{}"}}"#, csv.len(), fnv.hex());
        let old: FileStamp = serde_json::from_str(&json).unwrap();
        assert_eq!(old.digest, Digest::Fnv1a64(fnv.hex()));
        let run = RunStamp::new("00aa".into(), BTreeMap::from([("a.csv".into(), old)]));
        assert_eq!(run.check(&dir), Ok(()));
        std::fs::write(&p, b"x,run\n2,00aa\n").unwrap();
        let e = run.check(&dir).unwrap_err();
        assert!(e.contains(&format!("(digest {})", fnv.hex())), "{e}");
        assert!(e.contains("from another run, or changed"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_stamp_of_a_writer_is_the_stamp_of_its_file() {
        let dir = std::env::temp_dir().join(format!("ipsim-stamp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.csv");
        let mut w = Stamped::new(std::fs::File::create(&p).unwrap());
        w.write_all(b"time_ms,x,run\n0,1,00aa\n").unwrap();
        w.flush().unwrap();
        assert_eq!(stamp_file(&p).unwrap(), w.stamp());
        let files = BTreeMap::from([("a.csv".to_string(), w.stamp())]);
        let run = RunStamp::new("00aa".into(), files);
        assert_eq!(run.check(&dir), Ok(()));
        std::fs::write(&p, b"time_ms,x,run\n0,").unwrap();
        let e = run.check(&dir).unwrap_err();
        assert!(e.contains("has 16 bytes (digest "), "{e}");
        assert!(
            e.contains(&format!("(digest {})", w.stamp().digest.hex())),
            "{e}"
        );
        assert!(e.contains("cut short"), "{e}");
        std::fs::write(&p, b"time_ms,x,run\n0,2,00aa\n").unwrap();
        let e = run.check(&dir).unwrap_err();
        assert!(e.contains("is not the file run 00aa wrote"), "{e}");
        assert!(e.contains("from another run, or changed"), "{e}");
        std::fs::write(&p, b"time_ms,x,run\n0,1,00bb\n").unwrap();
        let e = run.check(&dir).unwrap_err();
        let want = format!(
            "{}:2: this file is of run 00bb, but report.json beside it is of run 00aa",
            p.display()
        );
        assert!(e.starts_with(&want), "{e}");
        std::fs::write(&p, b"time_ms,x\n0,1\n").unwrap();
        let e = run.check(&dir).unwrap_err();
        assert!(e.contains("has no `run` column"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
