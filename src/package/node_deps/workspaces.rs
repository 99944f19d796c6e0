//! `workspaces` patterns of a root package.json: matching a folder against them, and listing the
//! folders they name.
//!
//! Patterns are the ones npm and Yarn accept in practice: literal paths (`apps/api`), `*` and `?`
//! inside one path segment (`packages/*`, `services/svc-*`), `**` for any number of segments,
//! and `!pattern` to exclude; a later pattern wins over an earlier one. Matching is globset's
//! (with `*` kept inside one segment); a pattern globset refuses matches nothing.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

/// How deep `**` looks for workspace folders on disk; monorepos nest a few levels at most.
const MAX_WORKSPACE_DEPTH: usize = 8;
/// Patterns longer than this are not workspace globs anyone writes; they match nothing.
const MAX_PATTERN_SEGMENTS: usize = 32;

/// One pattern, compiled.
struct Pattern {
    negated: bool,
    matcher: GlobMatcher,
    /// Its segments, for deciding which folders a walk must look into.
    segments: Vec<String>,
}

fn compile(patterns: &[String]) -> Vec<Pattern> {
    patterns
        .iter()
        .filter_map(|pattern| {
            let (negated, pattern) = match pattern.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, pattern.as_str()),
            };
            let segments: Vec<String> = segments(pattern).map(str::to_string).collect();
            if segments.is_empty() || segments.len() > MAX_PATTERN_SEGMENTS {
                return None;
            }
            let matcher = GlobBuilder::new(&segments.join("/"))
                .literal_separator(true)
                .build()
                .ok()?
                .compile_matcher();
            Some(Pattern {
                negated,
                matcher,
                segments,
            })
        })
        .collect()
}

/// Whether the folder at `relative` (from the root, `/`-separated) is one of the workspaces.
pub(super) fn is_workspace(patterns: &[String], relative: &str) -> bool {
    matches(&compile(patterns), relative)
}

fn matches(patterns: &[Pattern], relative: &str) -> bool {
    let path = segments(relative).collect::<Vec<_>>().join("/");
    let mut included = false;
    for pattern in patterns {
        if pattern.matcher.is_match(&path) {
            included = !pattern.negated;
        }
    }
    included
}

/// The workspace folders under `root`, relative and sorted. Folders called `node_modules` and
/// hidden folders are never workspaces; a matching folder without a package.json is not one.
pub(super) fn expand(root: &Path, patterns: &[String]) -> Vec<String> {
    let compiled = compile(patterns);
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
            if matches(&compiled, &child) && entry.path().join("package.json").is_file() {
                found.push(child.clone());
            }
            if depth + 1 < MAX_WORKSPACE_DEPTH && could_contain_workspace(&compiled, &child) {
                pending.push((child, depth + 1));
            }
        }
    }
    found.sort();
    found
}

/// Whether some pattern could match a folder below `relative`, so the walk stays inside the
/// folders the patterns talk about instead of reading the whole repository. Conservative: a
/// segment with a wildcard in it is taken to match any folder name.
fn could_contain_workspace(patterns: &[Pattern], relative: &str) -> bool {
    let path: Vec<&str> = segments(relative).collect();
    patterns
        .iter()
        .filter(|pattern| !pattern.negated)
        .any(|pattern| {
            let mut pattern_segments = pattern.segments.iter();
            for folder in &path {
                match pattern_segments.next() {
                    Some(segment) if segment == "**" => return true,
                    Some(segment) if is_wildcard(segment) || segment == folder => {}
                    _ => return false,
                }
            }
            // Something of the pattern is left for a folder below.
            pattern_segments.next().is_some()
        })
}

fn is_wildcard(segment: &str) -> bool {
    segment.contains(['*', '?', '[', '{'])
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter(|segment| !segment.is_empty() && *segment != ".")
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
        let list = patterns(&["svc-*", "*-api", "a*b*c"]);
        assert!(is_workspace(&list, "svc-orders"));
        assert!(is_workspace(&list, "orders-api"));
        assert!(is_workspace(&list, "axxbyyc"));
        assert!(!is_workspace(&list, "axxbyy"));
    }

    #[test]
    fn the_walk_looks_only_where_a_pattern_could_match() {
        let compiled = compile(&patterns(&["packages/*", "services/**", "!tools/*"]));
        assert!(could_contain_workspace(&compiled, "packages"));
        assert!(!could_contain_workspace(&compiled, "packages/api"));
        assert!(could_contain_workspace(&compiled, "services/a/b"));
        assert!(!could_contain_workspace(&compiled, "tools"));
        assert!(!could_contain_workspace(&compiled, "docs"));
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
