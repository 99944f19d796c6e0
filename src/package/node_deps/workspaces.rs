//! `workspaces` patterns of a root package.json: matching a folder against them, and listing the
//! folders they name.
//!
//! Patterns are the ones npm and Yarn accept in practice: literal paths (`apps/api`), `*` and `?`
//! inside one path segment (`packages/*`, `services/svc-*`), `**` for any number of segments,
//! and `!pattern` to exclude. Brace sets and character classes are not supported.

use std::path::Path;

/// How deep `**` looks for workspace folders on disk; monorepos nest a few levels at most.
const MAX_WORKSPACE_DEPTH: usize = 8;
/// Patterns longer than this are not workspace globs anyone writes; they match nothing.
const MAX_PATTERN_SEGMENTS: usize = 32;

/// Whether the folder at `relative` (from the root, `/`-separated) is one of the workspaces.
pub(super) fn is_workspace(patterns: &[String], relative: &str) -> bool {
    let path: Vec<&str> = segments(relative).collect();
    let mut included = false;
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern.as_str()),
        };
        let pattern: Vec<&str> = segments(pattern).collect();
        if pattern.is_empty() || pattern.len() > MAX_PATTERN_SEGMENTS {
            continue;
        }
        if path_matches(&pattern, &path) {
            included = !negated;
        }
    }
    included
}

/// The workspace folders under `root`, relative and sorted. Folders called `node_modules` and
/// hidden folders are never workspaces; a matching folder without a package.json is not one.
pub(super) fn expand(root: &Path, patterns: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![(String::new(), 0_usize)];
    while let Some((relative, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&relative)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            if name.starts_with('.') || name == "node_modules" {
                continue;
            }
            if !entry.path().is_dir() {
                continue;
            }
            let child = if relative.is_empty() {
                name.to_string()
            } else {
                format!("{relative}/{name}")
            };
            if is_workspace(patterns, &child) && entry.path().join("package.json").is_file() {
                found.push(child.clone());
            }
            if depth + 1 < MAX_WORKSPACE_DEPTH && could_contain_workspace(patterns, &child) {
                pending.push((child, depth + 1));
            }
        }
    }
    found.sort();
    found
}

/// Whether some pattern could match a folder below `relative`, so the walk stays inside the
/// folders the patterns talk about instead of reading the whole repository.
fn could_contain_workspace(patterns: &[String], relative: &str) -> bool {
    let path: Vec<&str> = segments(relative).collect();
    patterns
        .iter()
        .filter(|pattern| !pattern.starts_with('!'))
        .any(|pattern| {
            let pattern: Vec<&str> = segments(pattern).collect();
            pattern.len() <= MAX_PATTERN_SEGMENTS && prefix_matches(&pattern, &path)
        })
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter(|segment| !segment.is_empty() && *segment != ".")
}

/// Whether the whole of `path` matches the whole of `pattern`.
fn path_matches(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| path_matches(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((name, path_rest)) => {
                segment_matches(first, name) && path_matches(rest, path_rest)
            }
            None => false,
        },
    }
}

/// Whether `path` could be the leading folders of a match of `pattern`.
fn prefix_matches(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.split_first(), path.split_first()) {
        (_, None) => !pattern.is_empty(),
        (None, Some(_)) => false,
        (Some((&"**", _)), Some(_)) => true,
        (Some((first, rest)), Some((name, path_rest))) => {
            segment_matches(first, name) && prefix_matches(rest, path_rest)
        }
    }
}

/// `*` (any run of characters) and `?` (one character) within one segment.
fn segment_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Classic two-pointer wildcard match: linear, no recursion.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(list: &[&str]) -> Vec<String> {
        list.iter().map(|pattern| (*pattern).to_string()).collect()
    }

    #[test]
    fn star_matches_one_segment_only() {
        let list = patterns(&["packages/*"]);
        assert!(is_workspace(&list, "packages/api"));
        assert!(!is_workspace(&list, "packages/api/nested"));
        assert!(!is_workspace(&list, "packages"));
        assert!(!is_workspace(&list, "apps/api"));
    }

    #[test]
    fn globstar_literals_wildcards_and_negation() {
        let list = patterns(&[
            "./apps/api/",
            "services/**",
            "libs/lib-?",
            "!services/legacy",
        ]);
        assert!(is_workspace(&list, "apps/api"));
        assert!(is_workspace(&list, "services/a/b"));
        assert!(is_workspace(&list, "libs/lib-x"));
        assert!(!is_workspace(&list, "libs/lib-xy"));
        assert!(!is_workspace(&list, "services/legacy"));
    }

    #[test]
    fn segment_wildcards() {
        assert!(segment_matches("svc-*", "svc-orders"));
        assert!(segment_matches("*-api", "orders-api"));
        assert!(segment_matches("a*b*c", "axxbyyc"));
        assert!(!segment_matches("a*b*c", "axxbyy"));
        assert!(segment_matches("*", ""));
    }

    #[test]
    fn expansion_lists_folders_with_a_package_json() {
        let root = tempfile::tempdir().unwrap();
        for folder in ["packages/api", "packages/web", "packages/notes", "tools/x"] {
            std::fs::create_dir_all(root.path().join(folder)).unwrap();
        }
        for folder in ["packages/api", "packages/web", "tools/x"] {
            std::fs::write(root.path().join(folder).join("package.json"), "{}").unwrap();
        }
        assert_eq!(
            expand(root.path(), &patterns(&["packages/*"])),
            ["packages/api", "packages/web"]
        );
    }
}
