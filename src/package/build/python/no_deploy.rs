//! `noDeploy`: distributions taken out of an installed tree whoever pulled them in, by the
//! files their `RECORD` lists (console scripts included), then their `.dist-info`.

use std::path::Path;

use super::options::normalized_name;
use crate::package::build::BuildError;

/// Removes the distributions named in `names` (the files their RECORD lists, then their
/// dist-info), whoever pulled them in.
pub fn remove_distributions(packages: &Path, names: &[String]) -> Result<(), BuildError> {
    if names.is_empty() {
        return Ok(());
    }
    let entries = std::fs::read_dir(packages).map_err(|error| BuildError::Read {
        path: packages.to_path_buf(),
        reason: error.to_string(),
    })?;
    for entry in entries.flatten() {
        let folder = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = folder.strip_suffix(".dist-info") else {
            continue;
        };
        let name = stem.rsplit_once('-').map_or(stem, |(name, _version)| name);
        if !names.contains(&normalized_name(name)) {
            continue;
        }
        let record = std::fs::read_to_string(entry.path().join("RECORD")).unwrap_or_default();
        for line in record.lines() {
            let path = record_path(line);
            // Console scripts are recorded as `../../bin/name`; with --target they are in `bin/`.
            let place = match path.strip_prefix("../../bin/") {
                Some(script) => packages.join("bin").join(script),
                None if path.split('/').any(|part| part == "..") => continue,
                None => packages.join(path),
            };
            let _ = std::fs::remove_file(place);
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
    super::slim::remove_empty_folders(packages);
    Ok(())
}

/// The path of a RECORD line (CSV: a path with a comma in it is quoted).
fn record_path(line: &str) -> String {
    if let Some(quoted) = line.strip_prefix('"') {
        let mut path = String::new();
        let mut characters = quoted.chars().peekable();
        while let Some(character) = characters.next() {
            if character == '"' {
                if characters.peek() == Some(&'"') {
                    characters.next();
                    path.push('"');
                    continue;
                }
                break;
            }
            path.push(character);
        }
        return path;
    }
    line.split(',').next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::build::tree_of;

    #[test]
    fn record_paths_are_read_quoted_or_not() {
        assert_eq!(record_path("six.py,sha256=abc,123"), "six.py");
        assert_eq!(record_path("\"odd,name.py\",sha256=abc,1"), "odd,name.py");
        assert_eq!(
            record_path("six-1.16.0.dist-info/RECORD,,"),
            "six-1.16.0.dist-info/RECORD"
        );
    }

    #[test]
    fn removing_a_distribution_takes_its_files_and_scripts_and_leaves_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "boto3/__init__.py",
            "boto3/data/x.json",
            "boto3-1.34.0.dist-info/RECORD",
            "bin/boto3-tool",
            "attrs/__init__.py",
            "attrs-23.2.0.dist-info/RECORD",
        ] {
            std::fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
            std::fs::write(root.join(file), "").unwrap();
        }
        std::fs::write(
            root.join("boto3-1.34.0.dist-info/RECORD"),
            "boto3/__init__.py,sha256=a,1\nboto3/data/x.json,sha256=b,2\n../../bin/boto3-tool,,\n",
        )
        .unwrap();
        remove_distributions(root, &["boto3".into()]).unwrap();
        let mut left: Vec<String> = tree_of(root)
            .unwrap()
            .files
            .into_iter()
            .map(|f| f.relative)
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec!["attrs-23.2.0.dist-info/RECORD", "attrs/__init__.py"]
        );
    }
}
