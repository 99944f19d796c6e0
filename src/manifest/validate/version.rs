//! `frameworkVersion`: does the semver range the service asks for admit Framework v3, whose
//! manifest format updraft reads?

/// A version as `(major, minor, patch)`.
type Version = (u64, u64, u64);

/// Versions probed against the range: if any 3.x satisfies it, the manifest is a v3 manifest.
const PROBES: &[Version] = &[
    (3, 0, 0),
    (3, 1, 0),
    (3, 20, 0),
    (3, 38, 0),
    (3, 39, 0),
    (3, 40, 0),
    (3, 99, 0),
];

/// How a `frameworkVersion` reads.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The range admits 3.x.
    V3,
    /// A well-formed range that excludes every 3.x.
    Other,
    /// Not a semver range updraft can read.
    Unreadable,
}

pub fn check(range: &str) -> Verdict {
    let mut any_alternative = false;
    for alternative in range.split("||") {
        let Some(comparators) = parse_alternative(alternative) else {
            return Verdict::Unreadable;
        };
        any_alternative = true;
        if PROBES
            .iter()
            .any(|v| comparators.iter().all(|c| c.admits(*v)))
        {
            return Verdict::V3;
        }
    }
    if any_alternative {
        Verdict::Other
    } else {
        Verdict::Unreadable
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    AtLeast,
    Above,
    Below,
    AtMost,
}

#[derive(Debug, Clone, Copy)]
struct Comparator {
    op: Op,
    version: Version,
}

impl Comparator {
    fn admits(&self, v: Version) -> bool {
        match self.op {
            Op::AtLeast => v >= self.version,
            Op::Above => v > self.version,
            Op::Below => v < self.version,
            Op::AtMost => v <= self.version,
        }
    }
}

/// A partial version: `3`, `3.1`, `3.x`, `3.1.2`, `*`. Missing parts are `None`.
fn parse_partial(text: &str) -> Option<[Option<u64>; 3]> {
    let text = text.trim().trim_start_matches(['v', '=']);
    // Pre-release and build suffixes do not change which major it is.
    let text = text.split(['-', '+']).next().unwrap_or("");
    if text.is_empty() || text == "*" || text.eq_ignore_ascii_case("x") {
        return Some([None, None, None]);
    }
    let mut parts = [None, None, None];
    for (index, part) in text.split('.').enumerate() {
        if index >= 3 {
            return None;
        }
        if part == "*" || part.eq_ignore_ascii_case("x") {
            break;
        }
        parts[index] = Some(part.parse().ok()?);
    }
    Some(parts)
}

fn floor(parts: [Option<u64>; 3]) -> Version {
    (
        parts[0].unwrap_or(0),
        parts[1].unwrap_or(0),
        parts[2].unwrap_or(0),
    )
}

/// The first version past a partial one: `3` -> 4.0.0, `3.1` -> 3.2.0.
fn ceiling(parts: [Option<u64>; 3]) -> Option<Version> {
    match parts {
        [None, _, _] => None,
        [Some(major), None, _] => Some((major + 1, 0, 0)),
        [Some(major), Some(minor), None] => Some((major, minor + 1, 0)),
        [Some(major), Some(minor), Some(patch)] => Some((major, minor, patch + 1)),
    }
}

fn parse_alternative(text: &str) -> Option<Vec<Comparator>> {
    let text = text.trim();
    if let Some((low, high)) = text.split_once(" - ") {
        let low = parse_partial(low)?;
        let high = parse_partial(high)?;
        let mut comparators = vec![Comparator {
            op: Op::AtLeast,
            version: floor(low),
        }];
        if let Some(ceiling) = ceiling(high) {
            comparators.push(Comparator {
                op: Op::Below,
                version: ceiling,
            });
        }
        return Some(comparators);
    }
    let mut comparators = Vec::new();
    // `>= 3` with a space: join operators to their versions.
    let mut tokens: Vec<String> = Vec::new();
    for token in text.split_whitespace() {
        match tokens.last_mut() {
            Some(last) if last.chars().all(|c| "<>=~^".contains(c)) => last.push_str(token),
            _ => tokens.push(token.to_string()),
        }
    }
    if tokens.is_empty() {
        return Some(comparators);
    }
    for token in tokens {
        let (op, rest) = split_operator(&token);
        let parts = parse_partial(rest)?;
        let low = floor(parts);
        match op {
            "^" => {
                comparators.push(Comparator {
                    op: Op::AtLeast,
                    version: low,
                });
                let high = match parts {
                    [Some(0), Some(0), Some(patch)] => Some((0, 0, patch + 1)),
                    [Some(0), Some(minor), _] if minor > 0 => Some((0, minor + 1, 0)),
                    [Some(major), _, _] => Some((major + 1, 0, 0)),
                    _ => None,
                };
                if let Some(high) = high {
                    comparators.push(Comparator {
                        op: Op::Below,
                        version: high,
                    });
                }
            }
            "~" => {
                comparators.push(Comparator {
                    op: Op::AtLeast,
                    version: low,
                });
                let high = match parts {
                    [Some(major), None, _] => Some((major + 1, 0, 0)),
                    [Some(major), Some(minor), _] => Some((major, minor + 1, 0)),
                    _ => None,
                };
                if let Some(high) = high {
                    comparators.push(Comparator {
                        op: Op::Below,
                        version: high,
                    });
                }
            }
            "" | "=" => {
                comparators.push(Comparator {
                    op: Op::AtLeast,
                    version: low,
                });
                if let Some(high) = ceiling(parts) {
                    comparators.push(Comparator {
                        op: Op::Below,
                        version: high,
                    });
                }
            }
            ">=" => comparators.push(Comparator {
                op: Op::AtLeast,
                version: low,
            }),
            ">" => match ceiling(parts) {
                // `>3` on a partial version means past every 3.x.
                Some(high) if parts[2].is_none() => comparators.push(Comparator {
                    op: Op::AtLeast,
                    version: high,
                }),
                _ => comparators.push(Comparator {
                    op: Op::Above,
                    version: low,
                }),
            },
            "<" => comparators.push(Comparator {
                op: Op::Below,
                version: low,
            }),
            "<=" => match ceiling(parts) {
                Some(high) if parts[2].is_none() => comparators.push(Comparator {
                    op: Op::Below,
                    version: high,
                }),
                _ => comparators.push(Comparator {
                    op: Op::AtMost,
                    version: low,
                }),
            },
            _ => return None,
        }
    }
    Some(comparators)
}

fn split_operator(token: &str) -> (&str, &str) {
    let end = token
        .find(|c: char| !"<>=~^".contains(c))
        .unwrap_or(token.len());
    token.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_that_include_3_are_accepted() {
        for range in [
            "3",
            "'3'",
            "^3",
            ">=3",
            "3.x",
            "^3.38.0",
            ">=2.0.0 <4.0.0",
            "2 || 3",
            ">=1",
            "*",
            "~3.40",
            "3.40.0",
            "2 - 3",
            ">= 3",
        ] {
            assert_eq!(check(range.trim_matches('\'')), Verdict::V3, "{range}");
        }
    }

    #[test]
    fn ranges_without_3_are_named_as_other_versions() {
        for range in ["2", "^2.72.0", ">=4", "<3", "1.x", "4", ">3"] {
            assert_eq!(check(range), Verdict::Other, "{range}");
        }
    }

    #[test]
    fn nonsense_is_unreadable() {
        assert_eq!(check("three"), Verdict::Unreadable);
        assert_eq!(check("3.1.2.4"), Verdict::Unreadable);
    }
}
