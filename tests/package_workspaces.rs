//! `updraft package` on a service that is a Node workspace member: links to sibling
//! workspace packages are packaged as their content, and production packages hoisted to the
//! workspace root's `node_modules` are packaged under the function's own `node_modules/`, so
//! that the deployed function can load them. Checked on a tree laid out from a lockfile that a
//! real `npm install` wrote (`tests/fixtures/node_deps/workspaces`).

#![cfg(unix)]

mod common;
mod package_support;

use std::path::Path;

use package_support::*;

fn link(target: &str, at: &Path) {
    std::fs::create_dir_all(at.parent().expect("parent")).expect("dirs");
    std::os::unix::fs::symlink(target, at).expect("symlink");
}

#[test]
fn hoisted_production_packages_go_under_the_functions_node_modules() {
    let monorepo = fixture_copy("node_deps/workspaces");
    install_from_lockfile(monorepo.path());
    let orders = monorepo.path().join("packages/orders");
    write(
        &orders,
        "serverless.yml",
        "service: orders\nprovider:\n  name: aws\n  runtime: nodejs18.x\nfunctions:\n  hello:\n    handler: handler.hello\n",
    );
    write(&orders, "handler.js", "exports.hello = async () => 1;\n");
    package_ok(&orders);
    let entries = unzip(&artifact(&orders, "orders.zip"));
    let names: Vec<&str> = entries.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "handler.js",
            // The sibling workspace, through the root's link, with its own nested copy.
            "node_modules/@acme/shared/node_modules/uuid/index.js",
            "node_modules/@acme/shared/node_modules/uuid/package.json",
            "node_modules/@acme/shared/package.json",
            // Hoisted to the root: what orders and shared need.
            "node_modules/debug/index.js",
            "node_modules/debug/node_modules/ms/index.js",
            "node_modules/debug/node_modules/ms/package.json",
            "node_modules/debug/package.json",
            // orders' own copy (6.0.0) wins over the root's dev-only 7.0.0.
            "node_modules/is-number/index.js",
            "node_modules/is-number/package.json",
            "node_modules/ms/index.js",
            "node_modules/ms/package.json",
            "node_modules/uuid/index.js",
            "node_modules/uuid/package.json",
            "package.json",
        ]
    );
    assert_eq!(
        entries["node_modules/debug/index.js"].content,
        b"// node_modules/debug\n"
    );
    assert_eq!(
        entries["node_modules/is-number/index.js"].content,
        b"// packages/orders/node_modules/is-number\n"
    );
}

#[test]
fn a_node_modules_link_to_a_sibling_workspace_is_packaged_as_its_content() {
    let root = tempfile::tempdir().expect("temp dir");
    write(
        root.path(),
        "package.json",
        r#"{"name": "monorepo", "private": true, "workspaces": ["packages/*"]}"#,
    );
    write(
        root.path(),
        "packages/shared/package.json",
        r#"{"name": "@acme/shared", "version": "1.0.0"}"#,
    );
    write(
        root.path(),
        "packages/shared/index.js",
        "module.exports = 1;\n",
    );
    let api = root.path().join("packages/api");
    write(
        &api,
        "package.json",
        r#"{"name": "api", "version": "1.0.0", "dependencies": {"@acme/shared": "1.0.0"}}"#,
    );
    write(
        &api,
        "serverless.yml",
        "service: api\nprovider:\n  name: aws\n  runtime: nodejs18.x\nfunctions:\n  hello:\n    handler: handler.hello\n",
    );
    write(&api, "handler.js", "exports.hello = async () => 1;\n");
    link("../../../shared", &api.join("node_modules/@acme/shared"));
    package_ok(&api);
    let entries = unzip(&artifact(&api, "api.zip"));
    assert_eq!(
        entries["node_modules/@acme/shared/index.js"].content,
        b"module.exports = 1;\n"
    );
    assert!(entries.contains_key("node_modules/@acme/shared/package.json"));
}

#[test]
fn a_link_out_of_the_workspace_is_still_an_error() {
    let outside = tempfile::tempdir().expect("temp dir");
    write(
        outside.path(),
        "elsewhere/index.js",
        "module.exports = 2;\n",
    );
    let root = tempfile::tempdir().expect("temp dir");
    write(
        root.path(),
        "package.json",
        r#"{"name": "monorepo", "private": true, "workspaces": ["packages/*"]}"#,
    );
    let api = root.path().join("packages/api");
    write(
        &api,
        "package.json",
        r#"{"name": "api", "version": "1.0.0"}"#,
    );
    write(
        &api,
        "serverless.yml",
        "service: api\nprovider:\n  name: aws\n  runtime: nodejs18.x\nfunctions:\n  hello:\n    handler: handler.hello\n",
    );
    write(&api, "handler.js", "exports.hello = async () => 1;\n");
    let target = outside.path().join("elsewhere");
    link(
        target.to_str().expect("UTF-8 path"),
        &api.join("node_modules/elsewhere"),
    );
    let run = package(&api, &[]);
    assert_eq!(run.status, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("node_modules/elsewhere"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_pnpm_workspace_link_into_the_store_is_packaged_as_its_content() {
    let root = tempfile::tempdir().expect("temp dir");
    write(
        root.path(),
        "pnpm-workspace.yaml",
        "packages:\n  - 'packages/*'\n",
    );
    write(
        root.path(),
        "package.json",
        r#"{"name": "monorepo", "private": true}"#,
    );
    let store = "node_modules/.pnpm/ms@2.1.3/node_modules/ms";
    write(
        root.path(),
        &format!("{store}/package.json"),
        r#"{"name": "ms", "version": "2.1.3"}"#,
    );
    write(
        root.path(),
        &format!("{store}/index.js"),
        "module.exports = 3;\n",
    );
    let api = root.path().join("packages/api");
    write(
        &api,
        "package.json",
        r#"{"name": "api", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}}"#,
    );
    write(
        &api,
        "serverless.yml",
        "service: api\nprovider:\n  name: aws\n  runtime: nodejs18.x\nfunctions:\n  hello:\n    handler: handler.hello\n",
    );
    write(&api, "handler.js", "exports.hello = async () => 1;\n");
    link(&format!("../../../{store}"), &api.join("node_modules/ms"));
    package_ok(&api);
    let entries = unzip(&artifact(&api, "api.zip"));
    assert_eq!(
        entries["node_modules/ms/index.js"].content,
        b"module.exports = 3;\n"
    );
}
