use super::*;
use serde_json::json;

fn service(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("folder");
        }
        std::fs::write(path, text).expect("write");
    }
    dir
}

fn found(files: &[(&str, &str)], options: &Options) -> Option<Input> {
    let dir = service(files);
    find(dir.path(), options).expect("an input or none")
}

#[test]
fn requirements_txt_comes_before_lock_files() {
    let input = found(
        &[
            ("requirements.txt", "attrs\n"),
            (
                "pyproject.toml",
                "[project]\nname = 'x'\ndependencies = ['six']\n",
            ),
            ("uv.lock", "version = 1\n"),
            ("Pipfile.lock", "{}"),
        ],
        &Options::default(),
    )
    .expect("an input");
    assert_eq!(input.label, "requirements.txt");
}

#[test]
fn a_lock_beside_pyproject_is_exported_and_a_plain_pyproject_is_read() {
    let pyproject = (
        "pyproject.toml",
        "[project]\nname = 'x'\ndependencies = ['six']\n",
    );
    let uv = found(&[pyproject, ("uv.lock", "")], &Options::default()).expect("uv");
    assert_eq!(uv.kind, Kind::UvLock);
    let poetry = found(&[pyproject, ("poetry.lock", "")], &Options::default()).expect("poetry");
    assert_eq!(poetry.kind, Kind::PoetryLock);
    let plain = found(&[pyproject], &Options::default()).expect("pyproject");
    assert_eq!(plain.kind, Kind::PyProject);
    let no_uv = Options {
        use_uv: false,
        ..Options::default()
    };
    assert_eq!(
        found(&[pyproject, ("uv.lock", "")], &no_uv).map(|i| i.kind),
        Some(Kind::PyProject)
    );
    assert!(found(&[("pyproject.toml", "[tool.black]\n")], &Options::default()).is_none());
}

#[test]
fn a_poetry_project_without_its_lock_says_to_run_poetry_lock() {
    let dir = service(&[(
        "pyproject.toml",
        "[tool.poetry.dependencies]\npython = '^3.12'\nrequests = '^2'\n",
    )]);
    match find(dir.path(), &Options::default()) {
        Err(BuildError::Setting { help, .. }) => assert!(help.contains("poetry lock"), "{help}"),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn a_pipfile_without_its_lock_says_to_run_pipenv_lock() {
    let dir = service(&[("Pipfile", "[packages]\nrequests = '*'\n")]);
    match find(dir.path(), &Options::default()) {
        Err(BuildError::Setting { help, .. }) => assert!(help.contains("pipenv lock"), "{help}"),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn a_missing_file_name_is_an_error_naming_it() {
    let dir = service(&[("requirements.txt", "attrs\n")]);
    let options = Options {
        file_name: Some("requirements-prod.txt".into()),
        ..Options::default()
    };
    match find(dir.path(), &options) {
        Err(BuildError::Setting { place, reason, .. }) => {
            assert_eq!(place, "custom.pythonRequirements.fileName");
            assert!(reason.contains("requirements-prod.txt"), "{reason}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn the_fingerprint_follows_included_files() {
    let files = [
        ("requirements.txt", "-r base.txt\nattrs==23.2.0\n"),
        ("base.txt", "six==1.16.0\n"),
    ];
    let dir = service(&files);
    let before = find(dir.path(), &Options::default()).unwrap().unwrap();
    std::fs::write(dir.path().join("base.txt"), "six==1.17.0\n").unwrap();
    let after = find(dir.path(), &Options::default()).unwrap().unwrap();
    assert_ne!(before.fingerprint, after.fingerprint);
    // The same files elsewhere give the same fingerprint: the cache survives a moved service.
    let elsewhere = service(&files);
    let moved = find(elsewhere.path(), &Options::default())
        .unwrap()
        .unwrap();
    assert_eq!(before.fingerprint, moved.fingerprint);
}

#[test]
fn included_files_are_inlined_and_no_deploy_packages_left_out() {
    let dir = service(&[
        (
            "requirements.txt",
            "# pinned\n-r nested/base.txt\n--constraint c.txt\nBoto3==1.34.0  # from Lambda\n\
             attrs==23.2.0 \\\n    --hash=sha256:abc\n",
        ),
        ("nested/base.txt", "python_dateutil>=2\nsix\n"),
        ("c.txt", "six<2\n"),
    ]);
    let input = find(dir.path(), &Options::default()).unwrap().unwrap();
    let options = Options {
        no_deploy: vec!["boto3".into(), "python-dateutil".into()],
        ..Options::default()
    };
    let text = requirements_text(dir.path(), &input, &options)
        .unwrap()
        .unwrap();
    let text = without_no_deploy(&text, &options.no_deploy);
    let constraint = format!("--constraint {}", dir.path().join("c.txt").display());
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        vec![
            "six",
            constraint.as_str(),
            "attrs==23.2.0      --hash=sha256:abc"
        ]
    );
}

#[test]
fn requirement_names_are_read_up_to_the_version_or_extras() {
    assert_eq!(requirement_name("attrs==23.2.0"), Some("attrs"));
    assert_eq!(requirement_name("requests[socks] >= 2"), Some("requests"));
    assert_eq!(
        requirement_name("zope.interface ; python_version > '3'"),
        Some("zope.interface")
    );
    assert_eq!(requirement_name("./local/package"), None);
    assert_eq!(requirement_name("https://example.invalid/a.whl"), None);
}

#[test]
fn pipfile_lock_default_section_becomes_pinned_requirements() {
    let lock = json!({
        "_meta": {"sources": [
            {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true},
            {"name": "private", "url": "https://example.invalid/simple", "verify_ssl": true}
        ]},
        "default": {
            "attrs": {"hashes": ["sha256:abc"], "version": "==23.2.0"},
            "requests": {"extras": ["socks"], "version": "==2.31.0", "markers": "python_version >= '3.7'"},
            "tool": {"git": "https://example.invalid/tool.git", "ref": "0123abc"},
            "local": {"path": "./vendor/local", "editable": true}
        },
        "develop": {"pytest": {"version": "==8.0.0"}}
    });
    assert_eq!(
        pipfile_lock_requirements(&lock),
        "--index-url https://pypi.org/simple\n\
         --extra-index-url https://example.invalid/simple\n\
         attrs==23.2.0\n\
         requests[socks]==2.31.0 ; python_version >= '3.7'\n\
         tool @ git+https://example.invalid/tool.git@0123abc\n\
         ./vendor/local\n"
    );
}

#[test]
fn pyproject_dependencies_and_asked_for_groups_are_read() {
    let table: toml::Table = "[project]\nname = 'x'\ndependencies = ['attrs==23.2.0', 'six']\n\
         [project.optional-dependencies]\nfast = ['markupsafe']\ntest = ['pytest']\n"
        .parse()
        .unwrap();
    assert_eq!(pyproject_requirements(&table, &[]), "attrs==23.2.0\nsix\n");
    assert_eq!(
        pyproject_requirements(&table, &["fast".into(), "missing".into()]),
        "attrs==23.2.0\nsix\nmarkupsafe\n"
    );
}

#[test]
fn invalid_pyproject_is_an_error_naming_the_file() {
    let dir = service(&[("pyproject.toml", "[project\n")]);
    match find(dir.path(), &Options::default()) {
        Err(BuildError::Read { path, reason }) => {
            assert!(path.ends_with("pyproject.toml"));
            assert!(reason.contains("TOML"), "{reason}");
        }
        other => panic!("expected a read error, got {other:?}"),
    }
}
