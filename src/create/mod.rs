//! `updraft create`: a new service written from a template built into the binary (no network),
//! with its `service:` set to the name asked for. A target directory that holds files is refused
//! unless the caller forces it, so that nothing of theirs is overwritten by accident.
//!
//! The templates themselves are the directories under `templates/`, embedded by [`templates`].

pub mod templates;

use std::path::{Path, PathBuf};

pub use templates::{Template, TEMPLATES};

/// The placeholder every template's `serverless.yml` (and `package.json`, `Cargo.toml` or
/// `go.mod`) names itself with.
const PLACEHOLDER: &str = "my-service";

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CreateError {
    #[error("there is no template `{name}`")]
    #[diagnostic(code(create::unknown_template), help("{help}"))]
    UnknownTemplate { name: String, help: String },
    #[error("{} is not empty", path.display())]
    #[diagnostic(
        code(create::not_empty),
        help(
            "choose a new or empty directory with --path, or pass --force to write the \
             template's files there (files of the same name are replaced, others are kept)"
        )
    )]
    NotEmpty { path: PathBuf },
    #[error("`{name}` cannot be a service name")]
    #[diagnostic(
        code(create::bad_name),
        help(
            "a service name starts with a letter and has only letters, digits and hyphens \
             (at most 128 characters): give one with --name"
        )
    )]
    BadName { name: String },
    #[error("cannot write {}: {source}", path.display())]
    #[diagnostic(
        code(create::write),
        help("check that the directory is writable and the disk has room")
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What [`create`] wrote.
#[derive(Debug)]
pub struct Created {
    pub template: &'static Template,
    pub directory: PathBuf,
    pub service: String,
    /// The files written, relative to `directory`.
    pub files: Vec<&'static str>,
}

/// The template called `name`, or an error naming the closest one.
pub fn find(name: &str) -> Result<&'static Template, CreateError> {
    if let Some(template) = TEMPLATES.iter().find(|t| t.name == name) {
        return Ok(template);
    }
    let closest = TEMPLATES
        .iter()
        .map(|t| (distance(name, t.name), t.name))
        .min()
        .filter(|(distance, _)| *distance <= name.len().max(3) / 2 + 1)
        .map(|(_, closest)| closest)
        // `nodejs` for `aws-nodejs`: a name inside a template's.
        .or_else(|| {
            TEMPLATES
                .iter()
                .find(|t| !name.is_empty() && t.name.contains(name))
                .map(|t| t.name)
        });
    let help = match closest {
        Some(closest) => {
            format!("did you mean `{closest}`? `updraft create --list` lists the templates")
        }
        None => "`updraft create --list` lists the templates".to_string(),
    };
    Err(CreateError::UnknownTemplate {
        name: name.to_string(),
        help,
    })
}

/// Writes `template` into `directory` (made if missing) as the service `name`, by default the
/// directory's own name.
pub fn create(
    template: &'static Template,
    directory: &Path,
    name: Option<&str>,
    force: bool,
) -> Result<Created, CreateError> {
    let service = match name {
        Some(name) => name.to_string(),
        None => directory_name(directory),
    };
    if !valid_service_name(&service) {
        return Err(CreateError::BadName { name: service });
    }
    let occupied = std::fs::read_dir(directory)
        .map(|mut entries| entries.next().is_some())
        .unwrap_or(false);
    if occupied && !force {
        return Err(CreateError::NotEmpty {
            path: directory.to_path_buf(),
        });
    }
    let write = |path: &Path, contents: &[u8]| -> Result<(), CreateError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| CreateError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(path, contents).map_err(|source| CreateError::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    std::fs::create_dir_all(directory).map_err(|source| CreateError::Write {
        path: directory.to_path_buf(),
        source,
    })?;
    for (relative, contents) in template.files {
        write(
            &directory.join(relative),
            named(contents, &service).as_bytes(),
        )?;
    }
    Ok(Created {
        template,
        directory: directory.to_path_buf(),
        service,
        files: template.files.iter().map(|(path, _)| *path).collect(),
    })
}

/// The template's text with the placeholder name replaced where it names the service: the
/// `service:` line, a `package.json` or `Cargo.toml` name, a `go.mod` module path and the
/// README's title.
fn named(contents: &str, service: &str) -> String {
    contents
        .replace(
            &format!("service: {PLACEHOLDER}"),
            &format!("service: {service}"),
        )
        .replace(
            &format!("\"name\": \"{PLACEHOLDER}\""),
            &format!("\"name\": \"{service}\""),
        )
        .replace(
            &format!("name = \"{PLACEHOLDER}\""),
            &format!("name = \"{service}\""),
        )
        .replace(
            &format!("\nmodule {PLACEHOLDER}\n"),
            &format!("\nmodule {service}\n"),
        )
        .replace(&format!("# {PLACEHOLDER} ("), &format!("# {service} ("))
}

/// The last component of the directory (made absolute first, so that `.` gives a name).
fn directory_name(directory: &Path) -> String {
    let absolute = std::path::absolute(directory).unwrap_or_else(|_| directory.to_path_buf());
    absolute
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The Framework's rule: a letter, then letters, digits and hyphens; 128 characters at most.
pub fn valid_service_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters.next().is_some_and(|c| c.is_ascii_alphabetic())
        && characters.all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.len() <= 128
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_template_suggests_the_closest() {
        let error = find("aws-nodjs").expect_err("no such template");
        let CreateError::UnknownTemplate { help, .. } = error else {
            panic!("{error:?}");
        };
        assert!(help.contains("`aws-nodejs`"), "{help}");
        let CreateError::UnknownTemplate { help, .. } = find("python").expect_err("none") else {
            panic!("unknown template");
        };
        assert!(help.contains("python`"), "{help}");
        let CreateError::UnknownTemplate { help, .. } = find("zzzzzzzzzzzz").expect_err("none")
        else {
            panic!("unknown template");
        };
        assert!(!help.contains("did you mean"), "{help}");
    }

    #[test]
    fn service_names_follow_the_frameworks_rule() {
        assert!(valid_service_name("orders"));
        assert!(valid_service_name("orders-api-2"));
        assert!(!valid_service_name("2orders"));
        assert!(!valid_service_name("orders_api"));
        assert!(!valid_service_name(""));
        assert!(!valid_service_name(&"a".repeat(129)));
    }

    #[test]
    fn every_template_names_itself_with_the_placeholder() {
        for template in TEMPLATES {
            let manifest = template
                .files
                .iter()
                .find(|(path, _)| *path == "serverless.yml")
                .map(|(_, contents)| *contents)
                .unwrap_or_else(|| panic!("{} has a serverless.yml", template.name));
            assert!(
                manifest
                    .lines()
                    .any(|line| line == format!("service: {PLACEHOLDER}")),
                "{}",
                template.name
            );
            assert!(
                template.files.iter().any(|(path, _)| *path == "README.md"),
                "{} has a README",
                template.name
            );
        }
    }
}
