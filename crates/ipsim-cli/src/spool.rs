//! Files written by one background thread, so that digesting and the write system calls of a
//! run's CSVs overlap the simulation.
//!
//! [`spawn`] starts the thread for some files and gives one [`Chunks`] writer per file. Each
//! write hands a copy of its bytes to the thread over a bounded channel ([`IN_FLIGHT`] chunks
//! at most, so memory stays bounded whatever the run's length); the thread writes each file's
//! chunks in the order they were given, through a [`Stamped`] writer. The bytes of each file
//! are therefore the same as written directly, whatever the number of threads. The first
//! write error is kept and returned, with its file, by [`Spool::finish`]; the chunks after it
//! are dropped. Give it large writes (a `CsvSink` gives `CsvSink::CHUNK`
//! bytes at a time): each write costs a copy and a channel message.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use ipsim_report::stamp::Stamped;

/// Chunks handed to the thread and not yet written, at most.
pub const IN_FLIGHT: usize = 3;

/// A chunk for file `.0`.
type Chunk = (usize, Vec<u8>);

/// What the thread gives back: every file, or the first error and the file it came from.
type Done = Result<Vec<Stamped<File>>, (usize, io::Error)>;

/// The writer of one file of a [`Spool`].
#[derive(Debug)]
pub struct Chunks {
    file: usize,
    to_thread: SyncSender<Chunk>,
    /// Buffers the thread has written and given back, to reuse their memory.
    spent: Receiver<Vec<u8>>,
}

impl Write for Chunks {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let mut chunk = self.spent.try_recv().unwrap_or_default();
        chunk.clear();
        chunk.extend_from_slice(buf);
        // The thread receives until every writer is gone; it can only be gone if it panicked,
        // which `finish` reports.
        self.to_thread
            .send((self.file, chunk))
            .map_err(|_| io::Error::other("the file writer thread stopped"))
    }

    /// Does not wait for the thread: [`Spool::finish`] does.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The thread writing the files of [`spawn`].
#[derive(Debug)]
pub struct Spool {
    thread: JoinHandle<Done>,
}

/// Starts one thread writing `files`, and gives a writer for each, in the same order.
pub fn spawn(files: Vec<File>) -> io::Result<(Vec<Chunks>, Spool)> {
    let (to_thread, chunks) = sync_channel::<Chunk>(IN_FLIGHT);
    let (back, spent): (Vec<_>, Vec<_>) = files.iter().map(|_| sync_channel(2)).unzip();
    let writers = spent
        .into_iter()
        .enumerate()
        .map(|(file, spent)| Chunks {
            file,
            to_thread: to_thread.clone(),
            spent,
        })
        .collect();
    drop(to_thread);
    let thread = std::thread::Builder::new()
        .name("ipsim-files".into())
        .spawn(move || write_chunks(files, &chunks, &back))?;
    Ok((writers, Spool { thread }))
}

/// The thread: writes each chunk to its file until every writer is gone; after an error,
/// receives and drops the rest, of every file (the run's files are useless once one fails).
fn write_chunks(files: Vec<File>, chunks: &Receiver<Chunk>, back: &[SyncSender<Vec<u8>>]) -> Done {
    let mut files: Vec<_> = files.into_iter().map(Stamped::new).collect();
    let mut error = None;
    for (file, chunk) in chunks {
        if error.is_none() {
            if let Err(e) = files[file].write_all(&chunk) {
                error = Some((file, e));
            }
        }
        // A full return channel means the writer has buffers enough: this one is freed.
        let _ = back[file].try_send(chunk);
    }
    match error {
        Some(e) => Err(e),
        None => Ok(files),
    }
}

impl Spool {
    /// Waits until the thread has written every chunk of `writers` (all the writers
    /// [`spawn`] gave, which this drops), and gives back the files, or the first write error
    /// and the index of its file.
    pub fn finish(self, writers: Vec<Chunks>) -> Result<Vec<Stamped<File>>, (usize, io::Error)> {
        drop(writers);
        self.thread
            .join()
            .unwrap_or_else(|_| Err((0, io::Error::other("the file writer thread panicked"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipsim_report::stamp::stamp_file;

    #[test]
    fn each_file_gets_its_chunks_in_order_and_its_stamp() {
        let dir = std::env::temp_dir().join(format!("ipsim-spool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let paths = [dir.join("a"), dir.join("b")];
        let files = paths.iter().map(|p| File::create(p).unwrap()).collect();
        let (mut w, spool) = spawn(files).unwrap();
        let (mut want_a, mut want_b) = (Vec::new(), Vec::new());
        for k in 0..200u32 {
            let chunk = format!("{k},").repeat(k as usize % 50 + 1);
            w[(k % 2) as usize].write_all(chunk.as_bytes()).unwrap();
            [&mut want_a, &mut want_b][(k % 2) as usize].extend_from_slice(chunk.as_bytes());
        }
        w[0].flush().unwrap();
        let files = spool.finish(w).unwrap();
        assert_eq!(std::fs::read(&paths[0]).unwrap(), want_a);
        assert_eq!(std::fs::read(&paths[1]).unwrap(), want_b);
        for (f, p) in files.iter().zip(&paths) {
            assert_eq!(f.stamp(), stamp_file(p).unwrap());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_first_error_comes_back_with_its_file() {
        let dir = std::env::temp_dir().join(format!("ipsim-spool-ro-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = File::create(dir.join("ok")).unwrap();
        std::fs::write(dir.join("ro"), b"").unwrap();
        // Opened for reading only: every write fails.
        let ro = File::open(dir.join("ro")).unwrap();
        let (mut w, spool) = spawn(vec![ok, ro]).unwrap();
        for _ in 0..10 {
            w[0].write_all(b"fine\n").unwrap();
            w[1].write_all(b"lost\n").unwrap();
        }
        let (file, e) = spool.finish(w).unwrap_err();
        assert_eq!(file, 1);
        assert_ne!(e.kind(), io::ErrorKind::Other, "{e}");
        // What came before the error is written; every chunk after it, of any file, dropped.
        assert_eq!(std::fs::read(dir.join("ok")).unwrap(), b"fine\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
