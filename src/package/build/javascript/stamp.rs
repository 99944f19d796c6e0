//! Whether a bundle is up to date, so an unchanged service is not bundled again.
//!
//! Beside each build folder sits `<folder>.stamp`: a key (the tool, its arguments and the
//! configuration files that change its output) and the files the build read, as the tool
//! reported them, with a digest of their contents. The build is reused when the key is the same
//! and every file it read still has the same contents. A stamp is removed before its folder is
//! replaced and written only after, so a stamp never vouches for another build's output.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a build was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub key: String,
    /// The files the build read, relative to the service directory (`/`-separated).
    pub inputs: Vec<String>,
    pub digest: String,
}

/// Collects what a build's output depends on besides the files it reads.
pub struct Key(Sha256);

impl Key {
    /// `kind` names the build step and the format of the stamp: a newer updraft that builds
    /// differently changes it.
    pub fn new(kind: &str) -> Key {
        let mut hasher = Sha256::new();
        hasher.update(kind.as_bytes());
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        Key(hasher)
    }

    pub fn text(&mut self, text: &str) -> &mut Key {
        self.0.update((text.len() as u64).to_le_bytes());
        self.0.update(text.as_bytes());
        self
    }

    /// A program's identity: its real path, size and modification time (a reinstalled esbuild
    /// of another version differs in at least one).
    pub fn program(&mut self, path: &Path) -> &mut Key {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let metadata = std::fs::metadata(&real).ok();
        let modified = metadata
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos().to_string())
            .unwrap_or_default();
        let size = metadata.map(|m| m.len()).unwrap_or_default();
        self.text(&format!("{}|{size}|{modified}", real.display()))
    }

    /// A configuration file's contents, or its absence.
    pub fn file(&mut self, path: &Path) -> &mut Key {
        match std::fs::read(path) {
            Ok(bytes) => {
                self.0.update(b"file");
                self.0.update((bytes.len() as u64).to_le_bytes());
                self.0.update(&bytes);
            }
            Err(_) => {
                self.0.update(b"none");
            }
        }
        self
    }

    pub fn finish(&self) -> String {
        hex::encode(self.0.clone().finalize())
    }
}

/// Where the stamp of the build folder `folder` lives.
pub fn path_of(folder: &Path) -> PathBuf {
    let mut name = folder.file_name().unwrap_or_default().to_os_string();
    name.push(".stamp");
    folder.with_file_name(name)
}

/// One digest over the contents of `inputs` (relative to `base`); a missing file counts too.
pub fn digest(base: &Path, inputs: &[String]) -> String {
    let mut hasher = Sha256::new();
    for input in inputs {
        hasher.update((input.len() as u64).to_le_bytes());
        hasher.update(input.as_bytes());
        match std::fs::read(base.join(input)) {
            Ok(bytes) => {
                hasher.update((bytes.len() as u64).to_le_bytes());
                hasher.update(&bytes);
            }
            Err(_) => hasher.update(u64::MAX.to_le_bytes()),
        }
    }
    hex::encode(hasher.finalize())
}

/// Whether `folder` holds a build made from `key` whose inputs are unchanged.
pub fn is_fresh(folder: &Path, key: &str, base: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path_of(folder)) else {
        return false;
    };
    let Ok(stamp) = serde_json::from_str::<Stamp>(&text) else {
        return false;
    };
    stamp.key == key && folder.is_dir() && digest(base, &stamp.inputs) == stamp.digest
}

/// Forgets the build in `folder` (before it is replaced).
pub fn remove(folder: &Path) {
    let _ = std::fs::remove_file(path_of(folder));
}

/// Records what the build now in `folder` was made from. A stamp that cannot be written only
/// costs a rebuild next time.
pub fn write(folder: &Path, key: String, base: &Path, mut inputs: Vec<String>) {
    inputs.sort();
    inputs.dedup();
    let stamp = Stamp {
        digest: digest(base, &inputs),
        key,
        inputs,
    };
    let Ok(text) = serde_json::to_string(&stamp) else {
        return;
    };
    let path = path_of(folder);
    let temporary = path.with_extension(format!("stamp-{}", uuid::Uuid::new_v4().simple()));
    if std::fs::write(&temporary, text).is_ok() && std::fs::rename(&temporary, &path).is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_is_fresh_until_an_input_or_the_key_changes() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let base = dir.path();
        let folder = base.join("out");
        std::fs::create_dir(&folder).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(base.join("a.ts"), "one").unwrap_or_else(|e| panic!("{e}"));
        write(&folder, "key".into(), base, vec!["a.ts".into()]);
        assert!(is_fresh(&folder, "key", base));
        assert!(!is_fresh(&folder, "other key", base));
        std::fs::write(base.join("a.ts"), "two").unwrap_or_else(|e| panic!("{e}"));
        assert!(!is_fresh(&folder, "key", base));
        write(&folder, "key".into(), base, vec!["a.ts".into()]);
        assert!(is_fresh(&folder, "key", base));
        remove(&folder);
        assert!(!is_fresh(&folder, "key", base));
    }

    #[test]
    fn a_deleted_input_or_output_folder_is_not_fresh() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let base = dir.path();
        let folder = base.join("out");
        std::fs::create_dir(&folder).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(base.join("a.ts"), "one").unwrap_or_else(|e| panic!("{e}"));
        write(&folder, "key".into(), base, vec!["a.ts".into()]);
        std::fs::remove_file(base.join("a.ts")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!is_fresh(&folder, "key", base));
        std::fs::write(base.join("a.ts"), "one").unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_dir(&folder).unwrap_or_else(|e| panic!("{e}"));
        assert!(!is_fresh(&folder, "key", base));
    }
}
