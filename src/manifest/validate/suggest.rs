//! "Did you mean" for keys and values: the known names closest to what was written.

/// The known name closest to `written`, if one is close enough to be a likely typo.
pub fn closest<'a>(written: &str, known: &[&'a str]) -> Option<&'a str> {
    let written_lower = written.to_ascii_lowercase();
    let limit = (written.chars().count() / 3).max(2);
    known
        .iter()
        .map(|name| {
            (
                strsim::levenshtein(&written_lower, &name.to_ascii_lowercase()),
                *name,
            )
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Up to `count` known names nearest to `written`, nearest first (ties keep the list's order).
pub fn ranked<'a>(written: &str, known: &[&'a str], count: usize) -> Vec<&'a str> {
    let written_lower = written.to_ascii_lowercase();
    let limit = (written.chars().count() / 2).max(2);
    let mut scored: Vec<(usize, usize, &str)> = known
        .iter()
        .enumerate()
        .map(|(order, name)| {
            let distance = strsim::levenshtein(&written_lower, &name.to_ascii_lowercase());
            (distance, order, *name)
        })
        .filter(|(distance, _, _)| *distance <= limit)
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(count)
        .map(|(_, _, name)| name)
        .collect()
}

/// Names as a message lists them: "`a`, `b`, `c` and 12 more".
pub fn list(names: &[&str], most: usize) -> String {
    let shown: Vec<String> = names.iter().take(most).map(|n| format!("`{n}`")).collect();
    let mut text = shown.join(", ");
    if names.len() > most {
        text.push_str(&format!(" and {} more", names.len() - most));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doubled_letter_suggests_the_real_key() {
        assert_eq!(
            closest("memmorySize", &["timeout", "memorySize"]),
            Some("memorySize")
        );
        assert_eq!(
            closest("servicee", &["service", "provider"]),
            Some("service")
        );
    }

    #[test]
    fn an_unrelated_word_suggests_nothing() {
        assert_eq!(closest("banana", &["service", "provider"]), None);
    }

    #[test]
    fn ranking_prefers_nearer_then_listed_first() {
        let ranked = ranked("nodejs99.x", &["nodejs22.x", "nodejs20.x", "python3.13"], 3);
        assert_eq!(ranked, vec!["nodejs22.x", "nodejs20.x"]);
    }
}
