//! Which files go into an artifact, decided as the Serverless Framework v3 decides it: every
//! file starts included, the default excludes and the deprecated `exclude` list leave files out,
//! then `include` and `patterns` are applied in order, each matching pattern setting the file's
//! state (a leading `!` leaves it out), so later patterns win. Beyond the Framework, files that
//! look like secrets stay out unless a pattern names them, and Python caches stay out.

use globset::{GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

use super::error::{PackageError, PackageWarning};
use super::node_deps::NodeDependencies;
use super::walk::FileEntry;

/// The Framework's own default excludes (package-service.js), in its order.
pub const FRAMEWORK_EXCLUDES: &[&str] = &[
    ".git/**",
    ".gitignore",
    ".DS_Store",
    "npm-debug.log*",
    "yarn-*.log",
    ".serverless/**",
    ".serverless_plugins/**",
];

/// Python byte-code caches: rebuilt by the runtime, and they differ between machines.
const PYTHON_EXCLUDES: &[&str] = &["**/__pycache__/**", "**/*.pyc"];

/// Files that usually hold credentials. Kept out at any depth outside `node_modules`.
const SECRET_PATTERNS: &[&str] = &[
    "**/.env*",
    "**/.aws/**",
    "**/.ssh/**",
    "**/*.pem",
    "**/*.key",
    "**/id_rsa*",
    "**/id_ed25519*",
    "**/.npmrc",
    "**/.yarnrc.yml",
    "**/.pypirc",
    "**/.netrc",
    "**/.git-credentials",
    "**/.docker/config.json",
    "**/.azure/**",
    "**/.config/gcloud/**",
    "**/application_default_credentials.json",
];

/// One pattern, compiled.
#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    matcher: GlobMatcher,
    include: bool,
    /// A positive pattern whose last segment is not only wildcards: it names files, so a secret
    /// it matches is wanted.
    names_files: bool,
}

/// The patterns of one artifact, ready to match.
#[derive(Debug, Clone)]
pub struct Selector {
    defaults: Vec<Rule>,
    user: Vec<Rule>,
    secrets: GlobSet,
}

/// The deprecated and current pattern lists of one artifact, in the Framework's order.
#[derive(Debug, Default, Clone)]
pub struct PatternLists {
    /// Extra default excludes (layer paths, the output directory).
    pub extra_excludes: Vec<String>,
    pub exclude: Vec<(String, String)>,
    pub include: Vec<(String, String)>,
    pub patterns: Vec<(String, String)>,
}

/// The outcome for one artifact.
#[derive(Debug, Default)]
pub struct Selected<'a> {
    pub files: Vec<&'a FileEntry>,
    pub secrets_left_out: Vec<String>,
    pub warnings: Vec<PackageWarning>,
}

impl Selector {
    /// `place` in each pair says where the pattern was written, for errors.
    pub fn new(lists: &PatternLists) -> Result<Selector, PackageError> {
        let mut defaults = Vec::new();
        for pattern in FRAMEWORK_EXCLUDES
            .iter()
            .chain(PYTHON_EXCLUDES)
            .map(|p| p.to_string())
            .chain(lists.extra_excludes.iter().cloned())
        {
            defaults.push(compile(&format!("!{pattern}"), "default excludes")?);
        }
        let mut user = Vec::new();
        // The Framework turns `exclude: [a, '!b']` into patterns `['!a', 'b']`, then appends
        // `include` and `patterns`; each list is de-duplicated (lodash `union`).
        for (pattern, place) in dedup(&lists.exclude) {
            let flipped = match pattern.strip_prefix('!') {
                Some(rest) => rest.to_string(),
                None => format!("!{pattern}"),
            };
            user.push(compile(&flipped, place)?);
        }
        for (pattern, place) in dedup(&lists.include)
            .into_iter()
            .chain(dedup(&lists.patterns))
        {
            user.push(compile(pattern, place)?);
        }
        let mut secrets = GlobSetBuilder::new();
        for pattern in SECRET_PATTERNS {
            secrets.add(glob(pattern).map_err(|reason| PackageError::Pattern {
                pattern: pattern.to_string(),
                place: "secret patterns".into(),
                reason,
            })?);
        }
        let secrets = secrets.build().map_err(|e| PackageError::Pattern {
            pattern: SECRET_PATTERNS.join(", "),
            place: "secret patterns".into(),
            reason: e.to_string(),
        })?;
        Ok(Selector {
            defaults,
            user,
            secrets,
        })
    }

    /// Whether the patterns alone (no secrets, no dependency filter) keep this path.
    pub fn keeps(&self, path: &str) -> bool {
        self.state(path, true).0
    }

    /// Whether a user pattern (`include`, `patterns`) brings this path in on its own: it would
    /// be kept even if every file started out excluded. What stays beside a bundle.
    pub fn names(&self, path: &str) -> bool {
        self.state(path, false).0
    }

    /// The file's state after every pattern, and the last naming pattern that included it.
    fn state(&self, path: &str, initial: bool) -> (bool, Option<&str>) {
        let mut included = initial;
        for rule in &self.defaults {
            if rule.matcher.is_match(path) {
                included = rule.include;
            }
        }
        let mut named_by = None;
        for rule in &self.user {
            if rule.matcher.is_match(path) {
                included = rule.include;
                // A later broad pattern (`**`) does not take back a name; an exclusion does.
                if !rule.include {
                    named_by = None;
                } else if rule.names_files {
                    named_by = Some(rule.pattern.as_str());
                }
            }
        }
        (included, named_by)
    }

    /// Selects from `files` (sorted), keeping the order.
    pub fn select<'a>(
        &self,
        files: &'a [FileEntry],
        dependencies: &NodeDependencies,
        artifact: &str,
    ) -> Selected<'a> {
        use rayon::prelude::*;
        let decisions: Vec<Decision> = files
            .par_iter()
            .map(|file| self.decide(file, dependencies))
            .collect();
        let mut selected = Selected::default();
        for (file, decision) in files.iter().zip(decisions) {
            match decision {
                Decision::Keep => selected.files.push(file),
                Decision::Skip => {}
                Decision::SecretLeftOut => selected.secrets_left_out.push(file.relative.clone()),
                Decision::SecretNamed(pattern) => {
                    selected.files.push(file);
                    selected.warnings.push(PackageWarning::SecretIncluded {
                        path: file.relative.clone(),
                        pattern,
                        artifact: artifact.to_string(),
                    });
                }
            }
        }
        selected
    }

    fn decide(&self, file: &FileEntry, dependencies: &NodeDependencies) -> Decision {
        let path = file.relative.as_str();
        let (included, named_by) = self.state(path, dependencies.allows(path));
        if !included {
            return Decision::Skip;
        }
        let in_dependencies = path.starts_with("node_modules/") || path.contains("/node_modules/");
        // A link is judged by the file it points at too: `config.ini` linking to
        // `.aws/credentials` is a secret.
        let secret = self.secrets.is_match(path)
            || file
                .real
                .as_deref()
                .is_some_and(|real| self.secrets.is_match(real));
        if in_dependencies || !secret {
            return Decision::Keep;
        }
        match named_by {
            Some(pattern) => Decision::SecretNamed(pattern.to_string()),
            None => Decision::SecretLeftOut,
        }
    }
}

enum Decision {
    Keep,
    Skip,
    SecretLeftOut,
    SecretNamed(String),
}

fn dedup(list: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut seen = std::collections::HashSet::new();
    list.iter()
        .filter(|(pattern, _)| seen.insert(pattern.as_str()))
        .map(|(pattern, place)| (pattern.as_str(), place.as_str()))
        .collect()
}

fn compile(pattern: &str, place: &str) -> Result<Rule, PackageError> {
    let (include, body) = match pattern.strip_prefix('!') {
        Some(rest) => (false, rest),
        None => (true, pattern),
    };
    // micromatch drops a leading `./`: `!./**` is `!**`.
    let body = body.strip_prefix("./").unwrap_or(body);
    let matcher = glob(body)
        .map_err(|reason| PackageError::Pattern {
            pattern: pattern.to_string(),
            place: place.to_string(),
            reason,
        })?
        .compile_matcher();
    let last_segment = body
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(body);
    let names_files = include && last_segment.chars().any(|c| c != '*');
    Ok(Rule {
        pattern: pattern.to_string(),
        matcher,
        include,
        names_files,
    })
}

fn glob(pattern: &str) -> Result<globset::Glob, String> {
    GlobBuilder::new(pattern)
        // As micromatch: `*` stays within one path segment, only `**` crosses `/`.
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| e.kind().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths the patterns alone keep, in the given order.
    fn kept(patterns: &[&str], paths: &[&str]) -> Vec<String> {
        let lists = PatternLists {
            patterns: patterns
                .iter()
                .map(|p| (p.to_string(), "package.patterns".to_string()))
                .collect(),
            ..PatternLists::default()
        };
        let selector = Selector::new(&lists).expect("valid patterns");
        paths
            .iter()
            .filter(|p| selector.keeps(p))
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn double_star_matches_at_the_root_and_below() {
        assert_eq!(
            kept(
                &["!**/*.test.js"],
                &["a.test.js", "src/b.test.js", "src/b.js"]
            ),
            ["src/b.js"]
        );
    }

    #[test]
    fn folder_pattern_does_not_match_a_folder_with_a_longer_name() {
        assert_eq!(
            kept(&["!tmp/**"], &["tmp/a", "tmpfile/b", "src/tmp/c"]),
            ["tmpfile/b", "src/tmp/c"]
        );
    }

    #[test]
    fn braces_and_classes_work_as_in_micromatch() {
        assert_eq!(
            kept(
                &["!*.{md,txt}", "!log[0-9].js"],
                &["a.md", "b.txt", "log1.js", "logx.js"]
            ),
            ["logx.js"]
        );
    }

    #[test]
    fn star_matches_dot_files_as_with_the_frameworks_dot_option() {
        assert_eq!(
            kept(&["!*"], &[".eslintrc", "a.js", "src/b.js"]),
            ["src/b.js"]
        );
    }

    #[test]
    fn a_pattern_names_files_only_if_its_last_segment_is_not_just_wildcards() {
        let names = |p: &str| compile(p, "test").expect("valid").names_files;
        assert!(names(".env"));
        assert!(names("config/*.pem"));
        assert!(!names("src/**"));
        assert!(!names("**/*"));
        assert!(!names("!.env"));
    }

    #[test]
    fn a_name_counts_until_a_later_pattern_excludes_the_file() {
        let lists = PatternLists {
            patterns: [".env", "**", "config/.env", "!config/**"]
                .iter()
                .map(|p| (p.to_string(), "package.patterns".to_string()))
                .collect(),
            ..PatternLists::default()
        };
        let selector = Selector::new(&lists).expect("valid");
        assert_eq!(selector.state(".env", true), (true, Some(".env")));
        assert_eq!(selector.state("config/.env", true), (false, None));
        assert_eq!(selector.state("other/.env", true), (true, None));
    }

    #[test]
    fn deprecated_exclude_negations_become_includes() {
        let lists = PatternLists {
            exclude: vec![
                ("tmp/**".into(), "package.exclude[0]".into()),
                ("!tmp/keep".into(), "package.exclude[1]".into()),
            ],
            ..PatternLists::default()
        };
        let selector = Selector::new(&lists).expect("valid");
        assert!(!selector.keeps("tmp/drop"));
        assert!(selector.keeps("tmp/keep"));
    }
}
