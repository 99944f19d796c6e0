//! `updraft package` file selection as the Serverless Framework v3 does it: `package.patterns`
//! (with the Framework's documented examples), the deprecated `include`/`exclude`, the default
//! excludes, and function-level patterns.

mod common;
mod package_support;

use package_support::*;

#[test]
fn documented_example_excludes_node_modules_but_one_package() {
    let files = selected(
        "  patterns:\n    - '!node_modules/**'\n    - 'node_modules/node-fetch/**'\n",
        TREE,
    );
    assert_eq!(
        files,
        list(&[
            "README.md",
            "handler.js",
            "node_modules/node-fetch/index.js",
            "src/function/handler.js",
            "src/function/helper.js",
            "src/lib/util.js",
            "tmp/cache.txt",
            "tmp/keep.txt",
        ])
    );
}

#[test]
fn documented_example_excludes_a_folder_but_one_file() {
    let files = selected(
        "  patterns:\n    - '!src/**'\n    - src/function/handler.js\n",
        TREE,
    );
    assert!(files.contains(&"src/function/handler.js".to_string()));
    assert!(!files
        .iter()
        .any(|f| f == "src/function/helper.js" || f == "src/lib/util.js"));
    assert!(files.contains(&"handler.js".to_string()));
}

#[test]
fn exclude_everything_then_add_back_only_what_is_named() {
    for negation in ["'!**'", "'!./**'"] {
        let files = selected(
            &format!("  patterns:\n    - {negation}\n    - 'src/function/**'\n"),
            TREE,
        );
        assert_eq!(
            files,
            list(&["src/function/handler.js", "src/function/helper.js"]),
            "with {negation}"
        );
    }
}

#[test]
fn deprecated_exclude_and_include_map_as_the_framework_maps_them() {
    let deprecated = selected(
        "  exclude:\n    - 'src/**'\n    - 'tmp/**'\n    - '!tmp/keep.txt'\n  include:\n    - src/function/handler.js\n",
        TREE,
    );
    let current = selected(
        "  patterns:\n    - '!src/**'\n    - '!tmp/**'\n    - 'tmp/keep.txt'\n    - src/function/handler.js\n",
        TREE,
    );
    assert_eq!(deprecated, current);
    assert!(deprecated.contains(&"tmp/keep.txt".to_string()));
    assert!(!deprecated.contains(&"tmp/cache.txt".to_string()));
}

#[test]
fn later_patterns_win_over_earlier_ones() {
    let readme_back = selected("  patterns:\n    - '!*.md'\n    - README.md\n", TREE);
    assert!(readme_back.contains(&"README.md".to_string()));
    let readme_out = selected("  patterns:\n    - README.md\n    - '!*.md'\n", TREE);
    assert!(!readme_out.contains(&"README.md".to_string()));
}

#[test]
fn single_star_stays_within_one_folder() {
    let files = selected("  patterns:\n    - '!*.js'\n", TREE);
    assert!(!files.contains(&"handler.js".to_string()));
    assert!(files.contains(&"src/lib/util.js".to_string()));
}

#[test]
fn framework_default_excludes_apply_and_patterns_can_override_them() {
    let tree = &[
        "handler.js",
        ".git/HEAD",
        ".gitignore",
        ".DS_Store",
        "npm-debug.log",
        "npm-debug.log.1",
        "yarn-error.log",
        ".serverless/old.zip",
        ".serverless_plugins/local.js",
        "lib/.gitignore",
        "app/__pycache__/mod.cpython-311.pyc",
        "app/mod.pyc",
        "app/mod.py",
    ];
    let files = selected("  patterns: []\n", tree);
    assert_eq!(files, list(&["app/mod.py", "handler.js", "lib/.gitignore"]));
    let back = selected("  patterns:\n    - .gitignore\n", tree);
    assert!(back.contains(&".gitignore".to_string()));
}

#[test]
fn no_matching_file_is_an_error_naming_the_artifact() {
    let dir = service(
        &manifest("package:\n  patterns: ['!**']\nfunctions:\n  hello:\n    handler: h.h\n"),
        &["h.js"],
    );
    let run = package(dir.path(), &[]);
    assert_eq!(run.status, Some(1));
    assert!(run
        .stderr
        .contains("no file matches the package patterns of demo.zip"));
}

#[test]
fn invalid_pattern_names_the_pattern_and_where_it_is() {
    let dir = service(
        &manifest("package:\n  patterns: ['src/[a']\nfunctions:\n  hello:\n    handler: h.h\n"),
        &["h.js"],
    );
    let run = package(dir.path(), &[]);
    assert_eq!(run.status, Some(1));
    assert!(run.stderr.contains("`src/[a`"), "{}", run.stderr);
    assert!(run.stderr.contains("package.patterns[0]"), "{}", run.stderr);
}

#[test]
fn individually_packaged_functions_add_their_patterns_after_the_services() {
    // The Framework documentation's example.
    let dir = service(
        &manifest(
            "package:\n  individually: true\n  patterns:\n    - '!excluded-by-default.json'\n\
             functions:\n  hello:\n    handler: handler.hello\n    package:\n      patterns:\n        - excluded-by-default.json\n\
             \x20 world:\n    handler: handler.hello\n    package:\n      patterns:\n        - '!some-file.js'\n",
        ),
        &["handler.js", "excluded-by-default.json", "some-file.js"],
    );
    package_ok(dir.path());
    assert!(!artifact(dir.path(), "demo.zip").exists());
    assert_eq!(
        names(&artifact(dir.path(), "hello.zip")),
        list(&["excluded-by-default.json", "handler.js", "some-file.js"])
    );
    assert_eq!(
        names(&artifact(dir.path(), "world.zip")),
        list(&["handler.js"])
    );
}

#[test]
fn function_level_individually_packages_only_that_function_apart() {
    let dir = service(
        &manifest(
            "functions:\n  hello:\n    handler: handler.hello\n  world:\n    handler: handler.hello\n    package:\n      individually: true\n      patterns: ['!extra.js']\n",
        ),
        &["handler.js", "extra.js"],
    );
    package_ok(dir.path());
    assert!(names(&artifact(dir.path(), "demo.zip")).contains(&"extra.js".to_string()));
    assert!(!names(&artifact(dir.path(), "world.zip")).contains(&"extra.js".to_string()));
    assert!(!artifact(dir.path(), "hello.zip").exists());
}
