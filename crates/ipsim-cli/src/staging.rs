//! Output folders that change only when a command succeeded.
//!
//! A command that writes an output folder (`run`, `chart`, `sweep`, `merge`, `compare`)
//! writes every file into a staging folder beside it, `.NAME.ipsim-partial-PID` in the same
//! parent (so on the same file system), and moves the files into the output folder only
//! when all were written: one `rename` each, `report.json` (or any `.json`) last. A run that
//! fails, whether at a bad trace row found late, a full disk, an error after the simulation
//! or a kill, leaves the folder's earlier files as they were. A failure removes the staging
//! folder; a killed run leaves it behind, and the next command writing the same folder
//! removes it once the process that made it is gone.
//!
//! Files other commands wrote into the folder (a sweep's `sweep/` inside a run's folder) are
//! left alone: only the staged files replace their namesakes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

const PARTIAL: &str = ".ipsim-partial-";

/// A staging folder for the output folder `out`.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates the staging folder beside `out` (and `out`'s parent if need be).
    pub fn new(out: &Path) -> Result<Staging> {
        let out = if out.file_name().is_some() {
            out.to_path_buf()
        } else {
            // `.`, `..` or `/`: name the folder by its real path.
            std::fs::create_dir_all(out)
                .and_then(|()| std::fs::canonicalize(out))
                .with_context(|| format!("cannot create the output folder {}", out.display()))?
        };
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        remove_stale(&parent, &name);
        let tmp = parent.join(format!(".{name}{PARTIAL}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp).with_context(|| {
            format!(
                "cannot create the staging folder {} beside the output folder",
                tmp.display()
            )
        })?;
        Ok(Staging {
            out,
            tmp,
            committed: false,
        })
    }

    /// The folder to write into.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Where a file written at `staged` (inside [`Staging::dir`]) ends up.
    pub fn final_path(&self, staged: &Path) -> PathBuf {
        match staged.strip_prefix(&self.tmp) {
            Ok(rel) => self.out.join(rel),
            Err(_) => staged.to_path_buf(),
        }
    }

    /// Moves every staged file into the output folder and removes the staging folder.
    pub fn commit(mut self) -> Result<()> {
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("cannot create the output folder {}", self.out.display()))?;
        let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(&self.tmp)
            .and_then(|d| d.map(|e| e.map(|e| e.file_name())).collect())
            .with_context(|| format!("cannot read {}", self.tmp.display()))?;
        // The report last: its run id names the files beside it, so a reader that finds the
        // new report finds the new files.
        names.sort_by_key(|n| {
            (
                Path::new(n).extension().is_some_and(|e| e == "json"),
                n.clone(),
            )
        });
        for n in names {
            let (from, to) = (self.tmp.join(&n), self.out.join(&n));
            std::fs::rename(&from, &to)
                .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))?;
        }
        std::fs::remove_dir(&self.tmp)
            .with_context(|| format!("cannot remove {}", self.tmp.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Removes the staging folders of `name` in `parent` whose process has ended (on Linux, where
/// `/proc` says so; elsewhere they stay).
fn remove_stale(parent: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{name}{PARTIAL}");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
