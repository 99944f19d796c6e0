//! Writes a deterministic zip: entries in the given (sorted) order, every timestamp 1980-01-01
//! 00:00:00, modes 0755/0644 in the Unix external attributes, no extra fields. Files are read
//! and deflated in parallel a window at a time and written in one pass, so memory stays bounded
//! whatever the size of the tree.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::error::PackageError;
use super::walk::FileEntry;

/// How many bytes of files are read and compressed at once, at most (besides one larger file).
const WINDOW_BYTES: u64 = 8 * 1024 * 1024;
/// How many files are compressed at once, at most.
const WINDOW_FILES: usize = 256;

/// Deflate level 5: on a large node_modules (25,000 files) it takes about 17% less time than
/// zlib's default 6 for zips under 1% larger (docs/performance.md).
pub(crate) const DEFLATE_LEVEL: u32 = 5;

/// MS-DOS date of 1980-01-01 (the earliest a zip can hold); the time is 00:00:00.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
/// Made by: Unix (3), zip specification 2.0, so readers apply the external attributes' mode.
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
const VERSION_NEEDED: u16 = 20;
const MODE_EXECUTABLE: u32 = 0o100755;
pub(crate) const MODE_REGULAR: u32 = 0o100644;

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub sha256: String,
    pub bytes: u64,
    pub unzipped_bytes: u64,
    /// False when the existing file already had this content and was left alone.
    pub rewritten: bool,
}

struct Compressed {
    name: String,
    crc: u32,
    size: u64,
    method: u16,
    data: Vec<u8>,
    executable: bool,
}

/// One entry as the central directory lists it.
pub(crate) struct CentralRecord {
    name: String,
    crc: u32,
    size: u32,
    compressed_size: u32,
    method: u16,
    /// The Unix mode (file type and permissions), written to the external attributes.
    mode: u32,
    offset: u32,
}

/// Writes `files` to `destination` (through a temporary file beside it, renamed into place
/// only when complete), calling `on_files` with how many files have been written so far.
/// When `interrupted` says so (checked between windows), the temporary file is removed and
/// nothing is left at `destination` that was not there before.
pub fn write_zip(
    files: &[&FileEntry],
    destination: &Path,
    on_files: &dyn Fn(usize),
    interrupted: &dyn Fn() -> bool,
) -> Result<Written, PackageError> {
    let temporary = super::partial::temporary_path(destination);
    let mut out = create_temporary(&temporary)?;
    let result = write_entries(files, &mut out, on_files, interrupted);
    let (written_total, unzipped_bytes) = match result {
        Ok(sizes) => sizes,
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            return Err(error);
        }
    };
    finish(out, destination, written_total, unzipped_bytes)
}

/// The temporary file a zip is written to, hashed as it is written.
pub(crate) fn create_temporary(
    temporary: &Path,
) -> Result<HashingWriter<BufWriter<File>>, PackageError> {
    let file = File::create(temporary).map_err(|source| PackageError::Write {
        path: temporary.to_path_buf(),
        source,
    })?;
    Ok(HashingWriter {
        path: temporary.to_path_buf(),
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        written: 0,
    })
}

/// Flushes the complete zip in `out` (its temporary file) and renames it to `destination`,
/// unless `destination` already has the same content: then it is left untouched and the
/// temporary file removed.
pub(crate) fn finish(
    out: HashingWriter<BufWriter<File>>,
    destination: &Path,
    written_total: u64,
    unzipped_bytes: u64,
) -> Result<Written, PackageError> {
    let HashingWriter {
        path: temporary,
        inner,
        hasher,
        ..
    } = out;
    let write_error = |source| PackageError::Write {
        path: temporary.clone(),
        source,
    };
    let file = inner
        .into_inner()
        .map_err(|e| write_error(e.into_error()))?;
    // No fsync: after a crash the artifact may be incomplete, but then its sha256 differs and
    // the next run rewrites it; syncing costs more than the zipping on a busy disk.
    drop(file);
    let sha256 = hex::encode(hasher.finalize());
    // An artifact with the same content is left untouched, so its mtime (and anything that
    // watches it) does not change.
    let same_size = std::fs::metadata(destination).is_ok_and(|m| m.len() == written_total);
    let unchanged =
        same_size && existing_sha256(destination).is_some_and(|existing| existing == sha256);
    if unchanged {
        let _ = std::fs::remove_file(&temporary);
    } else {
        std::fs::rename(&temporary, destination).map_err(|source| PackageError::Write {
            path: destination.to_path_buf(),
            source,
        })?;
    }
    Ok(Written {
        sha256,
        bytes: written_total,
        unzipped_bytes,
        rewritten: !unchanged,
    })
}

fn write_entries(
    files: &[&FileEntry],
    out: &mut HashingWriter<BufWriter<File>>,
    on_files: &dyn Fn(usize),
    interrupted: &dyn Fn() -> bool,
) -> Result<(u64, u64), PackageError> {
    let mut central = Vec::with_capacity(files.len());
    let mut unzipped_bytes = 0u64;
    let windows = windows(files);
    // While one window is written (and hashed) on this thread, the next is read and deflated
    // on the others: at most two windows are in memory.
    let mut ready: Vec<Compressed> = Vec::new();
    let mut written_files = 0;
    for window in windows.iter().map(Some).chain([None]) {
        let (next, written) = rayon::join(
            || -> Result<Vec<Compressed>, PackageError> {
                match window {
                    Some(window) => window.par_iter().map(|file| compress(file)).collect(),
                    None => Ok(Vec::new()),
                }
            },
            || -> Result<(), PackageError> {
                for entry in ready.drain(..) {
                    unzipped_bytes += entry.size;
                    central.push(write_local(out, entry)?);
                    written_files += 1;
                }
                Ok(())
            },
        );
        written?;
        on_files(written_files);
        if interrupted() {
            return Err(PackageError::Interrupted);
        }
        ready = next?;
    }
    let central_offset = out.written;
    for record in &central {
        write_central(out, record)?;
    }
    let central_size = out.written - central_offset;
    write_end(out, central.len() as u64, central_size, central_offset)?;
    Ok((out.written, unzipped_bytes))
}

/// Consecutive runs of files to compress together: at most [`WINDOW_FILES`] files, at most
/// [`WINDOW_BYTES`] of files up to that size, and at most one larger file. A large file shares
/// its window with small ones, so the other threads have work while one deflates it.
fn windows<'a, 'b>(files: &'b [&'a FileEntry]) -> Vec<&'b [&'a FileEntry]> {
    let mut windows = Vec::new();
    let mut start = 0;
    while start < files.len() {
        let mut end = start;
        let mut small_bytes = 0u64;
        let mut has_large = false;
        while let Some(file) = files.get(end) {
            let large = file.size > WINDOW_BYTES;
            let full = end - start >= WINDOW_FILES
                || (large && has_large)
                || (!large && end > start && small_bytes + file.size > WINDOW_BYTES);
            if full {
                break;
            }
            if large {
                has_large = true;
            } else {
                small_bytes += file.size;
            }
            end += 1;
        }
        windows.push(&files[start..end]);
        start = end;
    }
    windows
}

/// Extensions of formats that are compressed already: deflating them again costs time and
/// saves next to nothing, so they are stored.
const STORED_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "avif", "ico", "woff", "woff2", "zip", "gz", "tgz", "br",
    "bz2", "xz", "zst", "7z", "jar", "mp3", "mp4", "webm", "ogg", "pdf",
];

/// Buffers and a deflater kept by each worker thread across files: allocating them per file
/// made the allocator's heap grow to several times the window size.
struct Scratch {
    content: Vec<u8>,
    deflated: Vec<u8>,
    deflater: flate2::Compress,
}

/// A scratch buffer grown past this by a large file is given back afterwards.
const SCRATCH_KEPT_BYTES: usize = 4 * 1024 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
        content: Vec::new(),
        deflated: Vec::new(),
        deflater: flate2::Compress::new(flate2::Compression::new(DEFLATE_LEVEL), false),
    });
}

fn compress(file: &FileEntry) -> Result<Compressed, PackageError> {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let result = compress_with(file, &mut scratch);
        if scratch.content.capacity() > SCRATCH_KEPT_BYTES {
            scratch.content = Vec::new();
        }
        if scratch.deflated.len() > SCRATCH_KEPT_BYTES {
            scratch.deflated = Vec::new();
        }
        result
    })
}

fn compress_with(file: &FileEntry, scratch: &mut Scratch) -> Result<Compressed, PackageError> {
    let read_error = |source| PackageError::Read {
        path: file.relative.clone(),
        source,
    };
    let Scratch {
        content,
        deflated,
        deflater,
    } = scratch;
    content.clear();
    content.reserve(usize::try_from(file.size).unwrap_or(0));
    File::open(&file.source)
        .and_then(|mut f| f.read_to_end(content))
        .map_err(read_error)?;
    let crc = crc32fast::hash(content);
    let size = content.len() as u64;
    let (method, data) = match deflate_if_smaller(&file.relative, content, deflated, deflater) {
        Some(length) => (8, deflated.get(..length).unwrap_or_default().to_vec()),
        None => (0, content.clone()),
    };
    Ok(Compressed {
        name: file.relative.clone(),
        crc,
        size,
        method,
        data,
        executable: file.executable,
    })
}

/// Deflates `content` into `output` (raw deflate) and returns the length when it is smaller
/// than `content`; None when it would not be (the output room is only as large as the input,
/// so deflating stops as soon as it cannot win) or when the name says the content is
/// compressed already. Depends only on the name and the bytes, so the choice is the same on
/// every run.
pub(crate) fn deflate_if_smaller(
    name: &str,
    content: &[u8],
    output: &mut Vec<u8>,
    deflater: &mut flate2::Compress,
) -> Option<usize> {
    let extension = name.rsplit_once('.').map(|(_, extension)| extension);
    let compressed_already = extension.is_some_and(|extension| {
        STORED_EXTENSIONS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(extension))
    });
    if content.is_empty() || compressed_already {
        return None;
    }
    if output.len() < content.len() {
        output.resize(content.len(), 0);
    }
    let room = output.get_mut(..content.len())?;
    deflater.reset();
    let deflated = deflate_into(content, room, deflater);
    if deflated.is_none() {
        // zlib-rs (0.6.8) keeps, across `reset`, the offset of the output a stream left
        // unflushed: after enough abandoned streams the next one overflows its pending buffer
        // and panics (13 incompressible 5 KB files in a row on one thread did). A new deflater
        // (at the one level both callers use) starts clean; the bytes it writes are the same.
        *deflater = flate2::Compress::new(flate2::Compression::new(DEFLATE_LEVEL), false);
    }
    deflated
}

/// Deflates `content` into `room`; None when it does not fit.
fn deflate_into(content: &[u8], room: &mut [u8], deflater: &mut flate2::Compress) -> Option<usize> {
    loop {
        let consumed = usize::try_from(deflater.total_in()).ok()?;
        let produced = usize::try_from(deflater.total_out()).ok()?;
        let status = deflater
            .compress(
                content.get(consumed..)?,
                room.get_mut(produced..)?,
                flate2::FlushCompress::Finish,
            )
            .ok()?;
        let progressed = usize::try_from(deflater.total_in()).ok()? != consumed
            || usize::try_from(deflater.total_out()).ok()? != produced;
        let produced = usize::try_from(deflater.total_out()).ok()?;
        match status {
            flate2::Status::StreamEnd => {
                return (produced < content.len()).then_some(produced);
            }
            // No room left: the deflated form is at least as large as the content.
            _ if produced >= content.len() || !progressed => return None,
            _ => {}
        }
    }
}

fn write_local(
    out: &mut HashingWriter<BufWriter<File>>,
    entry: Compressed,
) -> Result<CentralRecord, PackageError> {
    let mode = if entry.executable {
        MODE_EXECUTABLE
    } else {
        MODE_REGULAR
    };
    let header = LocalHeader {
        crc: entry.crc,
        size: entry.size,
        compressed_size: entry.data.len() as u64,
        method: entry.method,
        mode,
    };
    let record = write_local_header(out, entry.name, &header)?;
    out.write_all(&entry.data).map_err(|e| out.error(e))?;
    Ok(record)
}

/// What a local header says of its entry besides the name.
pub(crate) struct LocalHeader {
    pub(crate) crc: u32,
    pub(crate) size: u64,
    pub(crate) compressed_size: u64,
    pub(crate) method: u16,
    /// Not in the local header: carried to the central record.
    pub(crate) mode: u32,
}

/// Writes the local header of the entry `name` at the current end of `out` (the entry's data
/// goes right after it) and returns its central record; an error when the zip would need
/// zip64 sizes or offsets.
pub(crate) fn write_local_header(
    out: &mut HashingWriter<BufWriter<File>>,
    name: String,
    entry: &LocalHeader,
) -> Result<CentralRecord, PackageError> {
    let too_big = || PackageError::Write {
        path: out.path.clone(),
        source: std::io::Error::other(format!(
            "at `{name}` the zip would pass 4 GiB, more than a zip without zip64 sizes holds"
        )),
    };
    let offset = u32::try_from(out.written).map_err(|_| too_big())?;
    let size = u32::try_from(entry.size).map_err(|_| too_big())?;
    let compressed_size = u32::try_from(entry.compressed_size).map_err(|_| too_big())?;
    let name_bytes = name.as_bytes();
    let name_len = u16::try_from(name_bytes.len()).map_err(|_| too_big())?;
    let mut header = Vec::with_capacity(30 + name_bytes.len());
    header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    header.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
    header.extend_from_slice(&flags(&name).to_le_bytes());
    header.extend_from_slice(&entry.method.to_le_bytes());
    header.extend_from_slice(&DOS_TIME.to_le_bytes());
    header.extend_from_slice(&DOS_DATE.to_le_bytes());
    header.extend_from_slice(&entry.crc.to_le_bytes());
    header.extend_from_slice(&compressed_size.to_le_bytes());
    header.extend_from_slice(&size.to_le_bytes());
    header.extend_from_slice(&name_len.to_le_bytes());
    header.extend_from_slice(&0u16.to_le_bytes());
    header.extend_from_slice(name_bytes);
    out.write_all(&header).map_err(|e| out.error(e))?;
    Ok(CentralRecord {
        name,
        crc: entry.crc,
        size,
        compressed_size,
        method: entry.method,
        mode: entry.mode,
        offset,
    })
}

pub(crate) fn write_central(
    out: &mut HashingWriter<BufWriter<File>>,
    record: &CentralRecord,
) -> Result<(), PackageError> {
    let name = record.name.as_bytes();
    let mode = record.mode;
    let mut header = Vec::with_capacity(46 + name.len());
    header.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    header.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
    header.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
    header.extend_from_slice(&flags(&record.name).to_le_bytes());
    header.extend_from_slice(&record.method.to_le_bytes());
    header.extend_from_slice(&DOS_TIME.to_le_bytes());
    header.extend_from_slice(&DOS_DATE.to_le_bytes());
    header.extend_from_slice(&record.crc.to_le_bytes());
    header.extend_from_slice(&record.compressed_size.to_le_bytes());
    header.extend_from_slice(&record.size.to_le_bytes());
    // The name's length fitted in u16 when the local header was written.
    header.extend_from_slice(&(name.len() as u16).to_le_bytes());
    header.extend_from_slice(&0u16.to_le_bytes()); // extra field
    header.extend_from_slice(&0u16.to_le_bytes()); // comment
    header.extend_from_slice(&0u16.to_le_bytes()); // disk
    header.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    header.extend_from_slice(&(mode << 16).to_le_bytes());
    header.extend_from_slice(&record.offset.to_le_bytes());
    header.extend_from_slice(name);
    out.write_all(&header).map_err(|e| out.error(e))
}

/// The end records; zip64 ones only when there are more entries than 16 bits can count.
pub(crate) fn write_end(
    out: &mut HashingWriter<BufWriter<File>>,
    entries: u64,
    central_size: u64,
    central_offset: u64,
) -> Result<(), PackageError> {
    let mut end = Vec::with_capacity(98);
    let small_entries = u16::try_from(entries).ok().filter(|n| *n != u16::MAX);
    if small_entries.is_none() {
        let zip64_end_offset = out.written;
        end.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
        end.extend_from_slice(&44u64.to_le_bytes());
        end.extend_from_slice(&((3u16 << 8) | 45).to_le_bytes());
        end.extend_from_slice(&45u16.to_le_bytes());
        end.extend_from_slice(&0u32.to_le_bytes());
        end.extend_from_slice(&0u32.to_le_bytes());
        end.extend_from_slice(&entries.to_le_bytes());
        end.extend_from_slice(&entries.to_le_bytes());
        end.extend_from_slice(&central_size.to_le_bytes());
        end.extend_from_slice(&central_offset.to_le_bytes());
        end.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
        end.extend_from_slice(&0u32.to_le_bytes());
        end.extend_from_slice(&zip64_end_offset.to_le_bytes());
        end.extend_from_slice(&1u32.to_le_bytes());
    }
    let count = small_entries.unwrap_or(u16::MAX);
    end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(
        &u32::try_from(central_size)
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    end.extend_from_slice(
        &u32::try_from(central_offset)
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    end.extend_from_slice(&0u16.to_le_bytes());
    out.write_all(&end).map_err(|e| out.error(e))
}

/// Bit 11 says the name is UTF-8; set only when it is not plain ASCII, as zip tools do.
fn flags(name: &str) -> u16 {
    if name.is_ascii() {
        0
    } else {
        1 << 11
    }
}

/// The sha256 of a file, or None when it cannot be read.
pub fn existing_sha256(path: &Path) -> Option<String> {
    let mut file = File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).ok()?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Some(hex::encode(hasher.finalize()))
}

/// The entry names of a zip and their unzipped sizes, from its central directory; None when
/// it is not a readable zip. A zip64 size (0xFFFFFFFF here) counts as 4 GiB, past any limit.
pub fn list_entries(path: &Path) -> Option<Vec<(String, u64)>> {
    let data = std::fs::read(path).ok()?;
    let search_from = data.len().saturating_sub(22 + 65_535);
    let end = (search_from..=data.len().checked_sub(22)?)
        .rev()
        .find(|&i| data.get(i..i + 4) == Some(&[0x50, 0x4b, 0x05, 0x06]))?;
    let u16_at = |i: usize| Some(u16::from_le_bytes(data.get(i..i + 2)?.try_into().ok()?));
    let u32_at = |i: usize| Some(u32::from_le_bytes(data.get(i..i + 4)?.try_into().ok()?));
    let count = u16_at(end + 10)?;
    let mut at = u32_at(end + 16)? as usize;
    let mut names = Vec::with_capacity(count as usize);
    for _ in 0..count {
        if u32_at(at)? != 0x0201_4b50 {
            return None;
        }
        let name_len = u16_at(at + 28)? as usize;
        let extra_len = u16_at(at + 30)? as usize;
        let comment_len = u16_at(at + 32)? as usize;
        let name = data.get(at + 46..at + 46 + name_len)?;
        let size = u64::from(u32_at(at + 24)?);
        names.push((String::from_utf8_lossy(name).into_owned(), size));
        at += 46 + name_len + extra_len + comment_len;
    }
    names.sort();
    Some(names)
}

/// Writes through to `inner`, hashing and counting what is written.
pub(crate) struct HashingWriter<W: Write> {
    path: PathBuf,
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    /// How many bytes have been written.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// A write error naming the file being written.
    pub(crate) fn error(&self, source: std::io::Error) -> PackageError {
        PackageError::Write {
            path: self.path.clone(),
            source,
        }
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.hasher.update(&buffer[..written]);
        self.written += written as u64;
        Ok(written)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, size: u64) -> FileEntry {
        FileEntry {
            relative: name.to_string(),
            source: PathBuf::from(name),
            size,
            executable: false,
            real: None,
        }
    }

    #[test]
    fn a_large_file_shares_its_window_with_small_ones_but_not_with_another_large_one() {
        let mib = 1024 * 1024;
        let files = [
            entry("a", 12 * mib),
            entry("b", 3 * mib),
            entry("c", 3 * mib),
            entry("d", 9 * mib),
            entry("e", 3 * mib),
            entry("f", 3 * mib),
            entry("g", 3 * mib),
        ];
        let references: Vec<&FileEntry> = files.iter().collect();
        let names: Vec<Vec<&str>> = windows(&references)
            .iter()
            .map(|window| window.iter().map(|f| f.relative.as_str()).collect())
            .collect();
        assert_eq!(names, [vec!["a", "b", "c"], vec!["d", "e", "f"], vec!["g"]]);
    }

    #[test]
    fn many_incompressible_files_in_a_row_do_not_wear_out_the_deflater() {
        // With one deflater reset between files, zlib-rs 0.6.8 panicked on the 14th.
        let mut deflater = flate2::Compress::new(flate2::Compression::new(DEFLATE_LEVEL), false);
        let mut output = Vec::new();
        let mut state = 11u32;
        for _ in 0..200 {
            let noise: Vec<u8> = (0..5000)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            assert_eq!(
                deflate_if_smaller("blob.bin", &noise, &mut output, &mut deflater),
                None
            );
        }
        let text = "the same line again\n".repeat(200).into_bytes();
        assert!(deflate_if_smaller("notes.txt", &text, &mut output, &mut deflater).is_some());
    }

    #[test]
    fn incompressible_content_is_stored_and_text_is_deflated() {
        let mut deflater = flate2::Compress::new(flate2::Compression::new(DEFLATE_LEVEL), false);
        let mut output = Vec::new();
        let text = "the same line again\n".repeat(200).into_bytes();
        let deflated = deflate_if_smaller("notes.txt", &text, &mut output, &mut deflater);
        assert!(deflated.is_some_and(|length| length < text.len() / 4));
        let mut state = 7u32;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        assert_eq!(
            deflate_if_smaller("blob.bin", &noise, &mut output, &mut deflater),
            None
        );
        assert_eq!(
            deflate_if_smaller("logo.PNG", &text, &mut output, &mut deflater),
            None
        );
    }
}
