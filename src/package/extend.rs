//! Merges zips into one deterministic zip, with extra entries: how a provider that deploys one
//! package per app (Azure's Function App) joins the artifacts and adds its own files
//! (`host.json`, each `function.json`).
//!
//! The entries of the sources are copied raw from their local headers (no inflating, no
//! deflating again), with their method, crc, sizes and Unix mode; the extra entries are
//! deflated as [`archive`](super::archive) deflates files. Every entry is written as
//! `archive` writes them: sorted by name, dated 1980-01-01, no extra fields, through a
//! temporary file renamed into place, and an existing identical destination left untouched.
//!
//! A name in two sources is written once when crc and size agree, and is an error otherwise;
//! an extra entry never replaces a source's. Only what updraft's own zips hold is copied:
//! stored or deflated entries, with sizes in their local headers (no data descriptor), without
//! zip64 sizes or offsets, unencrypted. Anything else is refused, naming the zip and the entry,
//! rather than copied wrong. (A zip64 end record, which updraft writes past 65,534 entries, is
//! read: it only counts the entries.)

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;

pub use super::archive::Written;
use super::archive::{self, CentralRecord, LocalHeader};
use super::error::PackageError;

/// The mode given to a directory entry of a zip whose attributes carry no Unix mode.
const MODE_DIRECTORY: u32 = 0o040755;
/// General purpose flags an entry may have: deflate's speed hints (bits 1 and 2) and UTF-8
/// names (bit 11). Encryption (0, 6, 13) and data descriptors (3) are refused.
const ALLOWED_FLAGS: u16 = 0x0002 | 0x0004 | 0x0800;
const DATA_DESCRIPTOR: u16 = 0x0008;
const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL: u32 = 0x0605_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
/// The zip64 extended information extra field.
const ZIP64_EXTRA: u16 = 0x0001;

/// Writes to `destination` every entry of the zips `sources` plus the `extra` entries (name,
/// content), sorted by name. Errors: a source that cannot be read or holds what is not copied
/// (see the module's documentation); a name two sources give different content (crc or size);
/// an `extra` name a source already has, or given twice.
pub fn merge_zips(
    sources: &[&Path],
    extra: &[(String, Vec<u8>)],
    destination: &Path,
) -> Result<Written, PackageError> {
    let mut readers = Vec::with_capacity(sources.len());
    let mut planned: BTreeMap<String, Planned> = BTreeMap::new();
    for (index, source) in sources.iter().enumerate() {
        let mut file = File::open(source).map_err(|error| read_error(source, error))?;
        for entry in central_directory(source, &mut file)? {
            match planned.get(&entry.name) {
                None => {
                    planned.insert(entry.name.clone(), Planned::Copied { index, entry });
                }
                Some(Planned::Copied {
                    index: first,
                    entry: kept,
                }) => {
                    if kept.crc != entry.crc || kept.size != entry.size {
                        let first = sources.get(*first).copied().unwrap_or(source);
                        return Err(conflict(
                            destination,
                            format!(
                                "`{}` and `{}` both hold `{}`, with different content (crc {:08x}, {} bytes; crc {:08x}, {} bytes)",
                                first.display(),
                                source.display(),
                                entry.name,
                                kept.crc,
                                kept.size,
                                entry.crc,
                                entry.size
                            ),
                        ));
                    }
                }
                Some(Planned::Extra { .. }) => {}
            }
        }
        readers.push(BufReader::new(file));
    }
    let mut deflater =
        flate2::Compress::new(flate2::Compression::new(archive::DEFLATE_LEVEL), false);
    let mut deflated = Vec::new();
    for (name, content) in extra {
        match planned.get(name) {
            Some(Planned::Copied { index, .. }) => {
                let source = sources.get(*index).map(|s| s.display().to_string());
                return Err(conflict(
                    destination,
                    format!(
                        "`{name}` is in `{}` already: the entry written beside the artifacts would replace it",
                        source.unwrap_or_default()
                    ),
                ));
            }
            Some(Planned::Extra { .. }) => {
                return Err(conflict(
                    destination,
                    format!("the entry `{name}` is given twice"),
                ));
            }
            None => {}
        }
        let crc = crc32fast::hash(content);
        let (method, data) =
            match archive::deflate_if_smaller(name, content, &mut deflated, &mut deflater) {
                Some(length) => (8, deflated.get(..length).unwrap_or_default().to_vec()),
                None => (0, content.clone()),
            };
        let header = LocalHeader {
            crc,
            size: content.len() as u64,
            compressed_size: data.len() as u64,
            method,
            mode: archive::MODE_REGULAR,
        };
        planned.insert(name.clone(), Planned::Extra { header, data });
    }
    let temporary = super::partial::temporary_path(destination);
    let mut out = archive::create_temporary(&temporary)?;
    match write_planned(sources, &mut readers, planned, &mut out) {
        Ok(unzipped_bytes) => {
            let total = out.written();
            archive::finish(out, destination, total, unzipped_bytes)
        }
        Err(error) => {
            drop(out);
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}

/// The entry names of the zip `source`, in its central directory's order; an error when it is
/// not a zip [`merge_zips`] copies.
pub fn entry_names(source: &Path) -> Result<Vec<String>, PackageError> {
    let mut file = File::open(source).map_err(|error| read_error(source, error))?;
    let entries = central_directory(source, &mut file)?;
    Ok(entries.into_iter().map(|entry| entry.name).collect())
}

/// Where an entry of the merged zip comes from.
enum Planned {
    /// From `sources[index]`, copied raw.
    Copied { index: usize, entry: SourceEntry },
    /// Given: `data` as written (deflated or stored).
    Extra { header: LocalHeader, data: Vec<u8> },
}

/// One entry of a source, as its central directory lists it.
#[derive(Debug, Clone)]
struct SourceEntry {
    name: String,
    crc: u32,
    size: u32,
    compressed_size: u32,
    method: u16,
    mode: u32,
    local_offset: u32,
}

type Output = archive::HashingWriter<std::io::BufWriter<File>>;

/// Writes the entries, then the central directory and end records; returns the unzipped size.
fn write_planned(
    sources: &[&Path],
    readers: &mut [BufReader<File>],
    planned: BTreeMap<String, Planned>,
    out: &mut Output,
) -> Result<u64, PackageError> {
    let mut central: Vec<CentralRecord> = Vec::with_capacity(planned.len());
    let mut unzipped_bytes = 0u64;
    let mut buffer = vec![0u8; 1 << 16];
    for (name, plan) in planned {
        match plan {
            Planned::Copied { index, entry } => {
                let (Some(source), Some(reader)) = (sources.get(index), readers.get_mut(index))
                else {
                    continue;
                };
                let data_offset = local_data_offset(source, reader, &entry)?;
                let header = LocalHeader {
                    crc: entry.crc,
                    size: u64::from(entry.size),
                    compressed_size: u64::from(entry.compressed_size),
                    method: entry.method,
                    mode: entry.mode,
                };
                unzipped_bytes += header.size;
                central.push(archive::write_local_header(out, name, &header)?);
                reader
                    .seek(SeekFrom::Start(data_offset))
                    .map_err(|error| read_error(source, error))?;
                let mut left = u64::from(entry.compressed_size);
                while left > 0 {
                    let want = usize::try_from(left.min(buffer.len() as u64)).unwrap_or(0);
                    let chunk = buffer.get_mut(..want).unwrap_or_default();
                    reader.read_exact(chunk).map_err(|error| {
                        if error.kind() == ErrorKind::UnexpectedEof {
                            malformed(
                                source,
                                format!(
                                    "the data of `{}` runs past the end of the file",
                                    entry.name
                                ),
                            )
                        } else {
                            read_error(source, error)
                        }
                    })?;
                    out.write_all(chunk).map_err(|error| out.error(error))?;
                    left -= want as u64;
                }
            }
            Planned::Extra { header, data } => {
                unzipped_bytes += header.size;
                central.push(archive::write_local_header(out, name, &header)?);
                out.write_all(&data).map_err(|error| out.error(error))?;
            }
        }
    }
    let central_offset = out.written();
    for record in &central {
        archive::write_central(out, record)?;
    }
    let central_size = out.written() - central_offset;
    archive::write_end(out, central.len() as u64, central_size, central_offset)?;
    Ok(unzipped_bytes)
}

/// Checks the local header of `entry` against its central record and returns where its data
/// starts.
fn local_data_offset(
    source: &Path,
    reader: &mut BufReader<File>,
    entry: &SourceEntry,
) -> Result<u64, PackageError> {
    let mut header = [0u8; 30];
    reader
        .seek(SeekFrom::Start(u64::from(entry.local_offset)))
        .and_then(|_| reader.read_exact(&mut header))
        .map_err(|error| read_error(source, error))?;
    let bad = |what: &str| {
        malformed(
            source,
            format!("the local header of `{}` {what}", entry.name),
        )
    };
    if u32_at(&header, 0) != Some(LOCAL_HEADER) {
        return Err(bad("is missing where the central directory says it is"));
    }
    let flags = u16_at(&header, 6).unwrap_or_default();
    if flags & DATA_DESCRIPTOR != 0 {
        return Err(data_descriptor(source, &entry.name));
    }
    let agrees = u16_at(&header, 8) == Some(entry.method)
        && u32_at(&header, 14) == Some(entry.crc)
        && u32_at(&header, 18) == Some(entry.compressed_size)
        && u32_at(&header, 22) == Some(entry.size);
    if !agrees {
        return Err(bad(
            "disagrees with the central directory (method, crc or sizes)",
        ));
    }
    let name_len = u16_at(&header, 26).unwrap_or_default();
    let extra_len = u16_at(&header, 28).unwrap_or_default();
    let mut name = vec![0u8; usize::from(name_len)];
    reader
        .read_exact(&mut name)
        .map_err(|error| read_error(source, error))?;
    if name != entry.name.as_bytes() {
        return Err(bad("names another entry"));
    }
    Ok(u64::from(entry.local_offset) + 30 + u64::from(name_len) + u64::from(extra_len))
}

/// The entries of the zip `source`, from its central directory.
fn central_directory(source: &Path, file: &mut File) -> Result<Vec<SourceEntry>, PackageError> {
    let io = |error| read_error(source, error);
    let length = file.metadata().map_err(io)?.len();
    let tail_length = length.min(22 + 65_535);
    let tail_start = length - tail_length;
    let mut tail = vec![0u8; usize::try_from(tail_length).unwrap_or(0)];
    file.seek(SeekFrom::Start(tail_start))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(io)?;
    // The end record is the last one whose comment reaches exactly to the end of the file.
    let end = (0..tail.len().saturating_sub(21)).rev().find(|&at| {
        u32_at(&tail, at) == Some(END_OF_CENTRAL)
            && u16_at(&tail, at + 20).map(|comment| at + 22 + usize::from(comment))
                == Some(tail.len())
    });
    let Some(end) = end else {
        return Err(malformed(
            source,
            "it is not a zip: it has no end of central directory record".into(),
        ));
    };
    let field16 = |at: usize| u16_at(&tail, end + at).unwrap_or_default();
    let field32 = |at: usize| u32_at(&tail, end + at).unwrap_or_default();
    if field16(4) != 0 || field16(6) != 0 || field16(8) != field16(10) {
        return Err(malformed(
            source,
            "it is split over several disks, which updraft does not merge".into(),
        ));
    }
    let mut count = u64::from(field16(10));
    let mut central_size = u64::from(field32(12));
    let mut central_offset = u64::from(field32(16));
    let end_offset = tail_start + end as u64;
    if count == u64::from(u16::MAX)
        || central_size == u64::from(u32::MAX)
        || central_offset == u64::from(u32::MAX)
    {
        (count, central_size, central_offset) = zip64_end(source, file, end_offset)?;
    }
    if central_offset
        .checked_add(central_size)
        .is_none_or(|central_end| central_end > end_offset)
    {
        return Err(malformed(
            source,
            "its central directory lies outside the file".into(),
        ));
    }
    let mut central = vec![0u8; usize::try_from(central_size).unwrap_or(0)];
    file.seek(SeekFrom::Start(central_offset))
        .and_then(|_| file.read_exact(&mut central))
        .map_err(io)?;
    let mut entries = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut at = 0usize;
    for _ in 0..count {
        let truncated = || malformed(source, "its central directory is truncated".into());
        if u32_at(&central, at) != Some(CENTRAL_HEADER) {
            return Err(truncated());
        }
        let field16 = |offset: usize| u16_at(&central, at + offset).ok_or_else(truncated);
        let field32 = |offset: usize| u32_at(&central, at + offset).ok_or_else(truncated);
        let made_by = field16(4)?;
        let flags = field16(8)?;
        let method = field16(10)?;
        let crc = field32(16)?;
        let compressed_size = field32(20)?;
        let size = field32(24)?;
        let name_len = usize::from(field16(28)?);
        let extra_len = usize::from(field16(30)?);
        let comment_len = usize::from(field16(32)?);
        let disk = field16(34)?;
        let external = field32(38)?;
        let local_offset = field32(42)?;
        let name_bytes = central
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(truncated)?;
        let extra = central
            .get(at + 46 + name_len..at + 46 + name_len + extra_len)
            .ok_or_else(truncated)?;
        let Ok(name) = String::from_utf8(name_bytes.to_vec()) else {
            return Err(malformed(
                source,
                format!(
                    "the entry name `{}` is not UTF-8",
                    String::from_utf8_lossy(name_bytes)
                ),
            ));
        };
        let refuse = |why: &str| malformed(source, format!("`{name}` {why}"));
        if flags & DATA_DESCRIPTOR != 0 {
            return Err(data_descriptor(source, &name));
        }
        if flags & !ALLOWED_FLAGS != 0 {
            return Err(refuse(&format!(
                "has flags {flags:#06x} (encrypted?), which updraft does not copy"
            )));
        }
        if method != 0 && method != 8 {
            return Err(refuse(&format!(
                "is compressed with method {method}; updraft copies only stored (0) and deflated (8) entries"
            )));
        }
        let zip64_sizes = [compressed_size, size, local_offset].contains(&u32::MAX)
            || extra_fields(extra).any(|id| id == ZIP64_EXTRA);
        if zip64_sizes {
            return Err(refuse(
                "has zip64 sizes or offset, which updraft does not copy: rebuild the zip without zip64 (every entry and the zip under 4 GiB)",
            ));
        }
        if disk != 0 {
            return Err(refuse("is on another disk of a split zip"));
        }
        let unix_mode = external >> 16;
        let mode = if made_by >> 8 == 3 && unix_mode != 0 {
            unix_mode
        } else if name.ends_with('/') {
            MODE_DIRECTORY
        } else {
            archive::MODE_REGULAR
        };
        entries.push(SourceEntry {
            name,
            crc,
            size,
            compressed_size,
            method,
            mode,
            local_offset,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

/// The entry count, central directory size and offset of the zip64 end record before the end
/// record at `end_offset`.
fn zip64_end(
    source: &Path,
    file: &mut File,
    end_offset: u64,
) -> Result<(u64, u64, u64), PackageError> {
    let missing = || {
        malformed(
            source,
            "its end record points to a zip64 end record that is not there".into(),
        )
    };
    let mut locator = [0u8; 20];
    let locator_offset = end_offset.checked_sub(20).ok_or_else(missing)?;
    file.seek(SeekFrom::Start(locator_offset))
        .and_then(|_| file.read_exact(&mut locator))
        .map_err(|error| read_error(source, error))?;
    if u32_at(&locator, 0) != Some(ZIP64_LOCATOR) {
        return Err(missing());
    }
    let record_offset = u64_at(&locator, 8).ok_or_else(missing)?;
    let mut record = [0u8; 56];
    file.seek(SeekFrom::Start(record_offset))
        .and_then(|_| file.read_exact(&mut record))
        .map_err(|error| read_error(source, error))?;
    if u32_at(&record, 0) != Some(ZIP64_END) {
        return Err(missing());
    }
    let on_disk = u64_at(&record, 24).ok_or_else(missing)?;
    let count = u64_at(&record, 32).ok_or_else(missing)?;
    if u32_at(&record, 16) != Some(0) || u32_at(&record, 20) != Some(0) || on_disk != count {
        return Err(malformed(
            source,
            "it is split over several disks, which updraft does not merge".into(),
        ));
    }
    let central_size = u64_at(&record, 40).ok_or_else(missing)?;
    let central_offset = u64_at(&record, 48).ok_or_else(missing)?;
    Ok((count, central_size, central_offset))
}

/// The header ids of an extra field's blocks.
fn extra_fields(mut extra: &[u8]) -> impl Iterator<Item = u16> + '_ {
    std::iter::from_fn(move || {
        let id = u16_at(extra, 0)?;
        let length = usize::from(u16_at(extra, 2)?);
        extra = extra.get(4 + length..).unwrap_or_default();
        Some(id)
    })
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

fn read_error(source: &Path, error: std::io::Error) -> PackageError {
    PackageError::Read {
        path: source.display().to_string(),
        source: error,
    }
}

/// A source updraft does not copy: `ErrorKind::InvalidData`, naming the zip and the problem.
fn malformed(source: &Path, message: String) -> PackageError {
    read_error(source, std::io::Error::new(ErrorKind::InvalidData, message))
}

fn data_descriptor(source: &Path, name: &str) -> PackageError {
    malformed(
        source,
        format!(
            "`{name}` has its sizes in a data descriptor after its data (a streamed zip), which updraft does not copy: rebuild the zip with a tool that writes sizes in the headers (e.g. `zip -r`)"
        ),
    )
}

/// Two entries for one name: `ErrorKind::AlreadyExists`, naming both origins.
fn conflict(destination: &Path, message: String) -> PackageError {
    PackageError::Write {
        path: destination.to_path_buf(),
        source: std::io::Error::new(ErrorKind::AlreadyExists, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::path::PathBuf;

    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;

    use crate::package::walk::FileEntry;

    /// A zip written by updraft's own writer, from `(name, content, executable)`.
    fn updraft_zip(dir: &Path, zip_name: &str, files: &[(&str, &[u8], bool)]) -> PathBuf {
        let tree = dir.join(format!("{zip_name}.tree"));
        let mut entries = Vec::new();
        for (name, content, executable) in files {
            let path = tree.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, content).expect("write");
            entries.push(FileEntry {
                relative: name.to_string(),
                source: path,
                size: content.len() as u64,
                executable: *executable,
                real: None,
            });
        }
        entries.sort_by(|a, b| a.relative.cmp(&b.relative));
        let references: Vec<&FileEntry> = entries.iter().collect();
        let path = dir.join(zip_name);
        archive::write_zip(&references, &path, &|_| {}, &|| false).expect("zip");
        path
    }

    /// A zip written by the `zip` crate: `(name, content, method, mode)`.
    fn other_zip(path: &Path, files: &[(&str, &[u8], CompressionMethod, u32)]) {
        let mut writer = zip::ZipWriter::new(File::create(path).expect("create"));
        for (name, content, method, mode) in files {
            let options = SimpleFileOptions::default()
                .compression_method(*method)
                .unix_permissions(*mode);
            writer.start_file(*name, options).expect("start");
            writer.write_all(content).expect("write");
        }
        writer.finish().expect("finish");
    }

    /// Every entry of a zip: name, content, Unix mode.
    fn unzip(path: &Path) -> Vec<(String, Vec<u8>, Option<u32>)> {
        let bytes = std::fs::read(path).expect("read");
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a valid zip");
        (0..archive.len())
            .map(|index| {
                let mut file = archive.by_index(index).expect("entry");
                let mut content = Vec::new();
                file.read_to_end(&mut content).expect("inflate");
                (file.name().to_string(), content, file.unix_mode())
            })
            .collect()
    }

    fn io_kind(error: &PackageError) -> Option<ErrorKind> {
        match error {
            PackageError::Read { source, .. } | PackageError::Write { source, .. } => {
                Some(source.kind())
            }
            _ => None,
        }
    }

    #[test]
    fn the_merged_zip_holds_the_union_with_contents_and_modes_unchanged() {
        let dir = tempfile::tempdir().expect("scratch");
        let text = "module.exports.hello = () => 'hello';\n".repeat(50);
        let a = updraft_zip(
            dir.path(),
            "a.zip",
            &[
                ("index.js", text.as_bytes(), false),
                ("bin/run", b"#!/bin/sh\necho hi\n", true),
                ("empty.txt", b"", false),
            ],
        );
        let b = dir.path().join("b.zip");
        let noise: Vec<u8> = (0..3000u32).map(|i| (i * 7919 % 251) as u8).collect();
        other_zip(
            &b,
            &[
                (
                    "index.js",
                    text.as_bytes(),
                    CompressionMethod::Stored,
                    0o644,
                ),
                ("data/noise.bin", &noise, CompressionMethod::Stored, 0o600),
                (
                    "lib/ünï.txt",
                    b"deflated text text text text text",
                    CompressionMethod::Deflated,
                    0o640,
                ),
            ],
        );
        let host = br#"{"version": "2.0"}"#.to_vec();
        let extra = vec![
            ("host.json".to_string(), host.clone()),
            ("hello/function.json".to_string(), b"{}\n".to_vec()),
        ];
        let merged = dir.path().join("app.zip");
        let written = merge_zips(&[&a, &b], &extra, &merged).expect("merge");
        assert!(written.rewritten);
        assert_eq!(
            written.bytes,
            std::fs::metadata(&merged).expect("merged").len()
        );
        assert_eq!(
            written.sha256,
            archive::existing_sha256(&merged).expect("hash")
        );
        let entries = unzip(&merged);
        let expected: Vec<(String, Vec<u8>, Option<u32>)> = vec![
            (
                "bin/run".into(),
                b"#!/bin/sh\necho hi\n".to_vec(),
                Some(0o100755),
            ),
            ("data/noise.bin".into(), noise.clone(), Some(0o100600)),
            ("empty.txt".into(), Vec::new(), Some(0o100644)),
            (
                "hello/function.json".into(),
                b"{}\n".to_vec(),
                Some(0o100644),
            ),
            ("host.json".into(), host, Some(0o100644)),
            ("index.js".into(), text.clone().into_bytes(), Some(0o100644)),
            (
                "lib/ünï.txt".into(),
                b"deflated text text text text text".to_vec(),
                Some(0o100640),
            ),
        ];
        assert_eq!(entries, expected);
        let unzipped: usize = expected.iter().map(|(_, content, _)| content.len()).sum();
        assert_eq!(written.unzipped_bytes, unzipped as u64);
    }

    #[test]
    fn merging_again_gives_the_same_bytes_and_leaves_the_file_alone() {
        let dir = tempfile::tempdir().expect("scratch");
        let a = updraft_zip(dir.path(), "a.zip", &[("a.js", b"exports.a = 1;\n", false)]);
        let b = updraft_zip(dir.path(), "b.zip", &[("b.js", b"exports.b = 2;\n", false)]);
        let extra = vec![("host.json".to_string(), b"{}".to_vec())];
        let first_path = dir.path().join("first.zip");
        let first = merge_zips(&[&a, &b], &extra, &first_path).expect("merge");
        let again = merge_zips(&[&a, &b], &extra, &first_path).expect("merge again");
        assert_eq!(first.sha256, again.sha256);
        assert!(!again.rewritten, "an identical zip is left untouched");
        let elsewhere = dir.path().join("second.zip");
        let other_order = merge_zips(&[&b, &a], &extra, &elsewhere).expect("merge");
        assert_eq!(first.sha256, other_order.sha256);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_name_with_two_contents_is_an_error_naming_both_zips() {
        let dir = tempfile::tempdir().expect("scratch");
        let a = updraft_zip(dir.path(), "a.zip", &[("index.js", b"one", false)]);
        let b = updraft_zip(dir.path(), "b.zip", &[("index.js", b"two", false)]);
        let merged = dir.path().join("app.zip");
        let error = merge_zips(&[&a, &b], &[], &merged).expect_err("a conflict");
        let message = error.to_string();
        assert!(
            message.contains("a.zip") && message.contains("b.zip"),
            "{message}"
        );
        assert!(message.contains("`index.js`"), "{message}");
        assert_eq!(io_kind(&error), Some(ErrorKind::AlreadyExists));
        assert!(!merged.exists());
        let leftovers = std::fs::read_dir(dir.path()).expect("list").flatten();
        assert!(leftovers
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .all(|name| !name.ends_with(".partial")));
    }

    #[test]
    fn an_extra_entry_replaces_nothing() {
        let dir = tempfile::tempdir().expect("scratch");
        let a = updraft_zip(dir.path(), "a.zip", &[("host.json", b"{}", false)]);
        let merged = dir.path().join("app.zip");
        let extra = vec![("host.json".to_string(), b"{}".to_vec())];
        let error = merge_zips(&[&a], &extra, &merged).expect_err("a conflict");
        let message = error.to_string();
        assert!(
            message.contains("`host.json`") && message.contains("a.zip"),
            "{message}"
        );
        assert_eq!(io_kind(&error), Some(ErrorKind::AlreadyExists));
        let twice = vec![
            ("x.json".to_string(), b"1".to_vec()),
            ("x.json".to_string(), b"1".to_vec()),
        ];
        let error = merge_zips(&[], &twice, &merged).expect_err("given twice");
        assert!(error.to_string().contains("`x.json`"));
        assert!(!merged.exists());
    }

    #[test]
    fn streamed_and_zip64_zips_are_refused() {
        let dir = tempfile::tempdir().expect("scratch");
        let streamed = dir.path().join("streamed.zip");
        let mut writer = zip::ZipWriter::new_stream(File::create(&streamed).expect("create"));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        writer.start_file("index.js", options).expect("start");
        writer.write_all(b"exports.a = 1;").expect("write");
        writer.finish().expect("finish");
        let merged = dir.path().join("app.zip");
        let error = merge_zips(&[&streamed], &[], &merged).expect_err("refused");
        assert_eq!(io_kind(&error), Some(ErrorKind::InvalidData));
        let message = error.to_string();
        assert!(
            message.contains("data descriptor") && message.contains("`index.js`"),
            "{message}"
        );

        let large = dir.path().join("large.zip");
        let mut writer = zip::ZipWriter::new(File::create(&large).expect("create"));
        writer
            .start_file("big.bin", SimpleFileOptions::default().large_file(true))
            .expect("start");
        writer.write_all(b"not big at all").expect("write");
        writer.finish().expect("finish");
        let error = merge_zips(&[&large], &[], &merged).expect_err("refused");
        let message = error.to_string();
        assert!(
            message.contains("zip64") && message.contains("`big.bin`"),
            "{message}"
        );

        let not_a_zip = dir.path().join("notes.txt");
        std::fs::write(&not_a_zip, "hello").expect("write");
        let error = merge_zips(&[&not_a_zip], &[], &merged).expect_err("refused");
        assert!(error.to_string().contains("not a zip"), "{error}");
        assert!(!merged.exists());
    }

    #[test]
    fn a_zip_with_a_zip64_end_record_is_read() {
        // Past 65,534 entries updraft's writer adds zip64 end records; the entries stay plain.
        let dir = tempfile::tempdir().expect("scratch");
        let many: Vec<(String, Vec<u8>)> = (0..65_540)
            .map(|i| (format!("f/{i:05}"), i.to_string().into_bytes()))
            .collect();
        let first = dir.path().join("many.zip");
        merge_zips(&[], &many, &first).expect("write many");
        let extra = vec![("host.json".to_string(), b"{}".to_vec())];
        let merged = dir.path().join("app.zip");
        merge_zips(&[&first], &extra, &merged).expect("merge many");
        let bytes = std::fs::read(&merged).expect("read");
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a valid zip");
        assert_eq!(archive.len(), 65_541);
        let mut content = String::new();
        archive
            .by_name("f/65539")
            .expect("entry")
            .read_to_string(&mut content)
            .expect("read");
        assert_eq!(content, "65539");
    }
}
