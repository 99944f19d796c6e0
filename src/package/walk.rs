//! Lists every file under the service directory, following symbolic links that stay inside it.
//! Links that escape, dangle or loop are recorded, not followed: they are errors only if the
//! patterns would put them in an artifact.

use std::path::{Path, PathBuf};

use super::error::PackageError;

/// A regular file (or a link to one) under the service directory.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// `/`-separated, relative to the service directory: the name inside the zip.
    pub relative: String,
    /// Where to read it (through the link, when it is one).
    pub source: PathBuf,
    pub size: u64,
    pub executable: bool,
    /// Where the file really is, relative to the service directory, when a link makes it
    /// appear elsewhere (`config.ini` linking to `.aws/credentials`): the secret filter judges
    /// both names.
    pub real: Option<String>,
}

/// A symbolic link that cannot be packaged.
#[derive(Debug, Clone)]
pub struct BadLink {
    pub relative: String,
    pub problem: LinkProblem,
    /// It points to a directory, so patterns select it through the paths inside it.
    pub is_dir: bool,
}

#[derive(Debug, Clone)]
pub enum LinkProblem {
    Escapes(String),
    Broken,
    Loop,
}

impl BadLink {
    pub fn into_error(self) -> PackageError {
        let link = self.relative;
        match self.problem {
            LinkProblem::Escapes(target) => PackageError::LinkEscapes {
                pattern: if self.is_dir {
                    format!("!{link}/**")
                } else {
                    format!("!{link}")
                },
                link,
                target,
            },
            LinkProblem::Broken => PackageError::BrokenLink { link },
            LinkProblem::Loop => PackageError::LinkLoop { link },
        }
    }
}

/// Every file under the service directory, sorted by relative path (byte order), so nothing
/// downstream depends on the order the file system lists directories in.
#[derive(Debug, Default)]
pub struct Tree {
    pub files: Vec<FileEntry>,
    pub bad_links: Vec<BadLink>,
}

struct Pending {
    /// Where to list it (possibly through links).
    path: PathBuf,
    relative: String,
    /// Real directories from the root down to this one: a link to any of them is a loop.
    chain: Vec<PathBuf>,
}

pub fn walk(service_dir: &Path) -> Result<Tree, PackageError> {
    walk_within(service_dir, None)
}

/// As [`walk`], and a link under a `node_modules` folder may also point anywhere inside
/// `workspace_root` (a canonical path): that is how npm, Yarn and pnpm workspaces link a
/// sibling workspace package into a member's `node_modules`.
pub fn walk_within(
    service_dir: &Path,
    workspace_root: Option<&Path>,
) -> Result<Tree, PackageError> {
    let read_error = |path: &Path, source| PackageError::Read {
        path: path.display().to_string(),
        source,
    };
    let root = std::fs::canonicalize(service_dir).map_err(|e| read_error(service_dir, e))?;
    let mut tree = Tree::default();
    // An explicit stack: depth is bounded by the file system, never by recursion.
    let mut stack = vec![Pending {
        path: service_dir.to_path_buf(),
        relative: String::new(),
        chain: vec![root.clone()],
    }];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir.path).map_err(|e| read_error(&dir.path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| read_error(&dir.path, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if dir.relative.is_empty() {
                name.clone()
            } else {
                format!("{}/{}", dir.relative, name)
            };
            let path = entry.path();
            let file_type = entry.file_type().map_err(|e| read_error(&path, e))?;
            let current = dir.chain.last().cloned().unwrap_or_else(|| root.clone());
            if file_type.is_symlink() {
                let target = match std::fs::canonicalize(&path) {
                    Ok(target) => target,
                    Err(error) => {
                        let problem = if is_loop(&error) {
                            LinkProblem::Loop
                        } else if error.kind() == std::io::ErrorKind::NotFound {
                            LinkProblem::Broken
                        } else {
                            return Err(read_error(&path, error));
                        };
                        tree.bad_links.push(BadLink {
                            relative,
                            problem,
                            is_dir: false,
                        });
                        continue;
                    }
                };
                let workspace_link = workspace_root.is_some_and(|outer| target.starts_with(outer))
                    && (relative.starts_with("node_modules/")
                        || relative.contains("/node_modules/"));
                if !target.starts_with(&root) && !workspace_link {
                    let problem = LinkProblem::Escapes(target.display().to_string());
                    tree.bad_links.push(BadLink {
                        relative,
                        problem,
                        is_dir: target.is_dir(),
                    });
                    continue;
                }
                let metadata = std::fs::metadata(&target).map_err(|e| read_error(&path, e))?;
                if metadata.is_dir() {
                    if current.starts_with(&target) || dir.chain.contains(&target) {
                        tree.bad_links.push(BadLink {
                            relative,
                            problem: LinkProblem::Loop,
                            is_dir: true,
                        });
                        continue;
                    }
                    let mut chain = dir.chain.clone();
                    chain.push(target);
                    stack.push(Pending {
                        path,
                        relative,
                        chain,
                    });
                } else if metadata.is_file() {
                    let real = real_name(&root, &target, &relative);
                    let mut entry = file_entry(relative, path, &metadata);
                    entry.real = real;
                    tree.files.push(entry);
                }
            } else if file_type.is_dir() {
                let mut chain = dir.chain.clone();
                chain.push(current.join(&name));
                stack.push(Pending {
                    path,
                    relative,
                    chain,
                });
            } else if file_type.is_file() {
                let metadata = entry.metadata().map_err(|e| read_error(&path, e))?;
                // Inside a linked directory the file's real place is under the link's target.
                let real = real_name(&root, &current.join(&name), &relative);
                let mut entry = file_entry(relative, path, &metadata);
                entry.real = real;
                tree.files.push(entry);
            }
            // Sockets, pipes and devices have no content to package.
        }
    }
    tree.files.sort_by(|a, b| a.relative.cmp(&b.relative));
    tree.bad_links.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(tree)
}

/// `real` relative to `root`, `/`-separated, when it is another name than `relative`.
fn real_name(root: &Path, real: &Path, relative: &str) -> Option<String> {
    let inside = real.strip_prefix(root).unwrap_or(real);
    let name = inside
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    (name != relative).then_some(name)
}

fn file_entry(relative: String, source: PathBuf, metadata: &std::fs::Metadata) -> FileEntry {
    let name = relative.rsplit('/').next().unwrap_or(&relative);
    let executable = name == "bootstrap" || has_exec_bit(metadata);
    FileEntry {
        relative,
        source,
        size: metadata.len(),
        executable,
        real: None,
    }
}

#[cfg(unix)]
fn has_exec_bit(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn has_exec_bit(_metadata: &std::fs::Metadata) -> bool {
    false
}

fn is_loop(error: &std::io::Error) -> bool {
    // ELOOP: 40 on Linux, 62 on macOS and the BSDs.
    matches!(error.raw_os_error(), Some(40) if cfg!(target_os = "linux"))
        || matches!(error.raw_os_error(), Some(62) if cfg!(target_os = "macos"))
}
