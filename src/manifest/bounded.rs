//! Reading a file a manifest names, bounded: the manifest itself and what `${file(...)}` reads.
//! Only a regular file is read, and never more than the limit: a device (`/dev/zero`,
//! `/dev/urandom`), a FIFO or a socket would block or never end, a directory cannot be read, and
//! a huge (or sparse) file would be read whole before any size check. Each is refused at once,
//! before the file is opened, with what it is.

use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub enum BoundedReadError {
    /// It does not exist.
    NotFound,
    /// It is not a regular file: what it is instead.
    NotAFile(&'static str),
    /// It holds more than the limit (its size, when known).
    TooLarge {
        size: u64,
        limit: u64,
    },
    Io(std::io::Error),
}

impl std::fmt::Display for BoundedReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BoundedReadError::NotFound => write!(f, "it does not exist"),
            BoundedReadError::NotAFile(what) => write!(f, "it is {what}, not a regular file"),
            BoundedReadError::TooLarge { size, limit } => {
                write!(f, "it is {size} bytes, more than the {limit}-byte limit")
            }
            BoundedReadError::Io(error) => write!(f, "{error}"),
        }
    }
}

/// The bytes of the regular file at `path` (links followed), at most `limit` of them.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => BoundedReadError::NotFound,
        _ => BoundedReadError::Io(error),
    })?;
    if !metadata.is_file() {
        return Err(BoundedReadError::NotAFile(kind_of(&metadata)));
    }
    if metadata.len() > limit {
        return Err(BoundedReadError::TooLarge {
            size: metadata.len(),
            limit,
        });
    }
    let file = std::fs::File::open(path).map_err(BoundedReadError::Io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    // One byte more than the limit tells a file that grew since the size was read.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(BoundedReadError::Io)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(BoundedReadError::TooLarge { size: read, limit });
    }
    Ok(bytes)
}

fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    if metadata.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "hello").unwrap();
        assert_eq!(read(&path, 5).unwrap(), b"hello");
        assert!(matches!(
            read(&path, 4),
            Err(BoundedReadError::TooLarge { size: 5, limit: 4 })
        ));
        assert!(matches!(
            read(&dir.path().join("nope"), 5),
            Err(BoundedReadError::NotFound)
        ));
    }

    #[test]
    fn a_sparse_file_larger_than_the_limit_is_refused_by_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(2 * 1024 * 1024 * 1024).unwrap();
        assert!(matches!(
            read(&path, 16 * 1024 * 1024),
            Err(BoundedReadError::TooLarge { .. })
        ));
    }

    #[test]
    fn devices_directories_and_fifos_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read(dir.path(), 1024),
            Err(BoundedReadError::NotAFile("a directory"))
        ));
        assert!(matches!(
            read(Path::new("/dev/zero"), 1024),
            Err(BoundedReadError::NotAFile("a device"))
        ));
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        assert!(matches!(
            read(&fifo, 1024),
            Err(BoundedReadError::NotAFile("a named pipe (FIFO)"))
        ));
    }
}
