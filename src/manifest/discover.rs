//! Finds the manifest file, reads its bytes as text, and checks that the document is a manifest
//! at all (a map, not a list or a scalar). JavaScript and TypeScript manifests are found here and
//! evaluated by [`super::scripted`].
//!
//! Encoding problems are reported here, before YAML parsing, so that a UTF-16 file or a binary
//! file gets a message about encoding rather than a confusing YAML error.

use std::path::{Path, PathBuf};

use super::node::{Node, Value};
use super::source::{SourceMap, Span};

/// The file names looked for, in order: the Framework's (`yml`, `yaml`, `json`, `js`, `ts`),
/// then the module kinds Node.js also reads.
pub const CANDIDATES: [&str; 8] = [
    "serverless.yml",
    "serverless.yaml",
    "serverless.json",
    "serverless.js",
    "serverless.ts",
    "serverless.cjs",
    "serverless.mjs",
    "serverless.mts",
];

/// A larger manifest is refused before it is read.
pub const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug)]
pub struct Found {
    pub path: PathBuf,
    /// The name shown in messages: as the user gave it, or the bare file name.
    pub display_name: String,
    /// The directory that holds the manifest; relative paths in it start here.
    pub service_dir: PathBuf,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DiscoverError {
    #[error("no serverless.yml (or .yaml, .json, .js, .ts) in {}", dir.display())]
    #[diagnostic(help(
        "run updraft in a service directory, or name the file with `--config PATH`"
    ))]
    NotFound { dir: PathBuf },
    #[error("the configuration file {} does not exist", path.display())]
    #[diagnostic(help("check the path given to `--config`"))]
    ConfigMissing { path: PathBuf },
    #[error("cannot read {name}: {source}")]
    Read {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{name} is {size} bytes, more than the {MAX_MANIFEST_BYTES}-byte limit for a manifest"
    )]
    #[diagnostic(help(
        "move large data out of the manifest (e.g. into a file the function reads)"
    ))]
    TooLarge { name: String, size: u64 },
    #[error("{name} is encoded as {encoding}; updraft reads UTF-8 only")]
    #[diagnostic(help(
        "re-save the file as UTF-8 (most editors offer this in \"Save with encoding\")"
    ))]
    Encoding {
        name: String,
        encoding: &'static str,
    },
    #[error("{name} is not text: invalid UTF-8 at line {line}, byte {offset}")]
    #[diagnostic(help("is this the right file? A manifest must be UTF-8 text"))]
    Binary {
        name: String,
        line: usize,
        offset: usize,
    },
    #[error("{name} is empty")]
    #[diagnostic(help("a manifest needs at least `service:` and `provider: {{name: aws}}`"))]
    Empty { name: String },
    #[error("{location}: the manifest must be a map of keys (service, provider, functions, ...), but this document is {kind}")]
    #[diagnostic(help("start the file with `service: my-service`"))]
    NotAMap {
        location: String,
        kind: &'static str,
        #[source_code]
        source_code: crate::manifest::snippet::Snippet,
        #[label("the document starts here")]
        at: miette::SourceSpan,
    },
}

/// Finds the manifest in `dir`, or checks the one named by `--config`.
pub fn find(dir: &Path, config: Option<&Path>) -> Result<Found, DiscoverError> {
    if let Some(config) = config {
        let path = dir.join(config);
        let name = config.to_string_lossy().into_owned();
        // A path that exists but is no regular file (a directory, a device) is refused by the
        // bounded read, which says what it is.
        if !path.exists() {
            return Err(DiscoverError::ConfigMissing { path });
        }
        let service_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.to_path_buf());
        return Ok(Found {
            path,
            display_name: name,
            service_dir,
        });
    }
    for candidate in CANDIDATES {
        let path = dir.join(candidate);
        if path.is_file() {
            return Ok(Found {
                path,
                display_name: candidate.to_string(),
                service_dir: dir.to_path_buf(),
            });
        }
    }
    Err(DiscoverError::NotFound {
        dir: dir.to_path_buf(),
    })
}

/// A manifest that is a JavaScript or TypeScript module, evaluated by [`super::scripted`].
pub fn is_scripted(path: &Path) -> bool {
    let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    matches!(
        extension.as_deref(),
        Some("js" | "cjs" | "mjs" | "ts" | "mts" | "cts")
    )
}

/// Reads a manifest (or an included file) as UTF-8 text, dropping a UTF-8 byte order mark.
pub fn read_text(path: &Path, name: &str) -> Result<String, DiscoverError> {
    let read_error = |source| DiscoverError::Read {
        name: name.to_string(),
        source,
    };
    use crate::manifest::bounded::{self, BoundedReadError};
    let bytes = match bounded::read(path, MAX_MANIFEST_BYTES) {
        Ok(bytes) => bytes,
        Err(BoundedReadError::TooLarge { size, .. }) => {
            return Err(DiscoverError::TooLarge {
                name: name.to_string(),
                size,
            })
        }
        Err(BoundedReadError::NotFound) => {
            return Err(read_error(std::io::Error::from(
                std::io::ErrorKind::NotFound,
            )))
        }
        Err(BoundedReadError::NotAFile(what)) => {
            return Err(read_error(std::io::Error::other(format!(
                "it is {what}, not a regular file"
            ))))
        }
        Err(BoundedReadError::Io(error)) => return Err(read_error(error)),
    };
    decode(bytes, name)
}

/// Turns file bytes into text, naming the encoding when it is not UTF-8.
pub fn decode(mut bytes: Vec<u8>, name: &str) -> Result<String, DiscoverError> {
    let encoding = match bytes.as_slice() {
        [0xFF, 0xFE, 0, 0, ..] | [0, 0, 0xFE, 0xFF, ..] => Some("UTF-32"),
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => Some("UTF-16"),
        // UTF-16 without a byte order mark: ASCII text with every other byte zero.
        [a, 0, b, 0, ..] | [0, a, 0, b, ..] if a.is_ascii() && b.is_ascii() && *a != 0 => {
            Some("UTF-16")
        }
        _ => None,
    };
    if let Some(encoding) = encoding {
        return Err(DiscoverError::Encoding {
            name: name.to_string(),
            encoding,
        });
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        DiscoverError::Binary {
            name: name.to_string(),
            line,
            offset,
        }
    })
}

/// The document must be a map; an empty file parses to null.
pub fn check_root(root: &Node, sources: &SourceMap) -> Result<(), DiscoverError> {
    let file = sources.file(root.span.file);
    match &root.value {
        Value::Map(_) => Ok(()),
        Value::Null if file.text.trim().is_empty() || is_only_comments(&file.text) => {
            Err(DiscoverError::Empty {
                name: file.name.clone(),
            })
        }
        other => Err(DiscoverError::NotAMap {
            location: sources.location(root.span),
            kind: other.kind(),
            source_code: sources.named_source(root.span.file),
            at: Span::new(
                root.span.file,
                root.span.start as usize,
                root.span.start as usize,
            )
            .source_span(),
        }),
    }
}

fn is_only_comments(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_with_bom_is_named_as_utf16() {
        let err = decode(vec![0xFF, 0xFE, b's', 0, b':', 0], "serverless.yml").unwrap_err();
        assert!(err.to_string().contains("UTF-16"), "{err}");
    }

    #[test]
    fn utf8_bom_is_dropped() {
        let text = decode(b"\xEF\xBB\xBFservice: a\n".to_vec(), "s.yml").unwrap();
        assert_eq!(text, "service: a\n");
    }

    #[test]
    fn binary_names_line_of_first_bad_byte() {
        let err = decode(b"a: 1\nb: \xC3\x28\n".to_vec(), "s.yml").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn scripted_configs_are_found_after_yaml_and_json() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("serverless.ts"), "export default {}").unwrap();
        let found = find(dir.path(), None).unwrap();
        assert_eq!(found.display_name, "serverless.ts");
        assert!(is_scripted(&found.path));
        std::fs::write(dir.path().join("serverless.js"), "module.exports = {}").unwrap();
        assert_eq!(
            find(dir.path(), None).unwrap().display_name,
            "serverless.js"
        );
        std::fs::write(dir.path().join("serverless.json"), "{}").unwrap();
        let found = find(dir.path(), None).unwrap();
        assert_eq!(found.display_name, "serverless.json");
        assert!(!is_scripted(&found.path));
        let named = find(dir.path(), Some(Path::new("serverless.ts"))).unwrap();
        assert!(is_scripted(&named.path));
    }

    #[test]
    fn a_config_that_is_a_device_or_a_directory_says_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        for (config, what) in [("/dev/zero", "a device"), (".", "a directory")] {
            let found = find(dir.path(), Some(Path::new(config))).expect("it exists");
            let error = read_text(&found.path, config).unwrap_err();
            assert!(error.to_string().contains(what), "{config}: {error}");
        }
        let missing = find(dir.path(), Some(Path::new("nope.yml"))).unwrap_err();
        assert!(matches!(missing, DiscoverError::ConfigMissing { .. }));
    }
}
