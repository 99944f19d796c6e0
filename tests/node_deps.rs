//! Leaving dev dependencies out of a Node service's artifact, checked against lockfiles written by
//! a real `npm install` (`tests/fixtures/node_deps/`). The node_modules trees are rebuilt from the
//! lockfiles' `packages` entries in temporary folders, so the tests run offline.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};
use updraft::package::node_deps::{
    production_filter, DependencySource, LockfileKind, NodeDepsError, NodeDepsWarning,
    WorkspaceLayout,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/node_deps")
        .join(name)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the fixture `name` in a temporary folder.
fn project(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(name), dir.path());
    dir
}

fn lockfile_packages(root: &Path) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(root.join("package-lock.json")).unwrap();
    let lockfile: Value = serde_json::from_str(&text).unwrap();
    lockfile["packages"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(location, entry)| (location.clone(), entry.clone()))
        .collect()
}

fn is_installed(location: &str) -> bool {
    location.starts_with("node_modules/") || location.contains("/node_modules/")
}

fn package_name(location: &str) -> &str {
    let start = location.rfind("node_modules/").unwrap() + "node_modules/".len();
    &location[start..]
}

/// Lays out node_modules under `root` as npm would from its package-lock.json: a folder with a
/// package.json and an index.js per installed package, a symlink per workspace link.
fn install_from_lockfile(root: &Path) {
    for (location, entry) in lockfile_packages(root) {
        if !is_installed(&location) {
            continue;
        }
        let path = root.join(&location);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if entry["link"] == json!(true) {
            let target = root.join(entry["resolved"].as_str().unwrap());
            symlink(&target, &path);
            continue;
        }
        std::fs::create_dir_all(&path).unwrap();
        let mut manifest = json!({
            "name": package_name(&location),
            "version": entry["version"],
        });
        for field in [
            "dependencies",
            "optionalDependencies",
            "peerDependencies",
            "bundleDependencies",
        ] {
            if let Some(value) = entry.get(field) {
                manifest[field] = value.clone();
            }
        }
        std::fs::write(path.join("package.json"), manifest.to_string()).unwrap();
        std::fs::write(path.join("index.js"), "module.exports = {};\n").unwrap();
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path) {
    std::os::windows::fs::symlink_dir(target, link).unwrap();
}

/// An installed copy of a fixture.
fn installed(name: &str) -> tempfile::TempDir {
    let dir = project(name);
    install_from_lockfile(dir.path());
    dir
}

const PRODUCTION: [&str; 11] = [
    "node_modules/@isaacs/string-locale-compare",
    "node_modules/debug",
    "node_modules/debug/node_modules/ms",
    "node_modules/is-buffer",
    "node_modules/is-even",
    "node_modules/is-even/node_modules/is-number",
    "node_modules/is-even/node_modules/is-odd",
    "node_modules/kind-of",
    "node_modules/kind-of/node_modules/is-buffer",
    "node_modules/ms",
    "node_modules/uuid",
];

const DEV_ONLY: [&str; 6] = [
    "node_modules/@types/ms",
    "node_modules/humanize-ms",
    "node_modules/is-number",
    "node_modules/is-odd",
    "node_modules/is-odd/node_modules/is-number",
    "node_modules/left-pad",
];

#[test]
fn lockfile_keeps_the_production_closure_and_drops_dev_only_packages() {
    let service = installed("lockfile-v3");
    let decision = production_filter(service.path()).unwrap();

    // Direct production dependencies, a hoisted transitive one (kind-of, via is-even), the
    // optional one, the scoped one, and `ms`, which a dev dependency (humanize-ms) needs too.
    for allowed in [
        "node_modules/debug/src/index.js",
        "node_modules/kind-of/index.js",
        "node_modules/is-buffer/index.js",
        "node_modules/@isaacs/string-locale-compare/index.js",
        "node_modules/ms/index.js",
        "node_modules/uuid/dist/bin/uuid",
    ] {
        assert!(decision.allows(allowed), "{allowed} should be kept");
    }
    for denied in [
        "node_modules/left-pad/index.js",
        "node_modules/humanize-ms/package.json",
        "node_modules/@types/ms/index.d.ts",
        "node_modules/is-odd/index.js",
    ] {
        assert!(!decision.allows(denied), "{denied} should be left out");
    }
    // Outside node_modules, tooling folders and packages no lockfile knows are kept.
    for allowed in [
        "handler.js",
        "src/lib/node_modules.js",
        "node_modules/.bin/uuid",
        "node_modules/hand-copied/index.js",
    ] {
        assert!(decision.allows(allowed), "{allowed} should be kept");
    }
    assert_eq!(decision.production_locations(), PRODUCTION);
    assert_eq!(decision.dev_only_locations(), DEV_ONLY);
    assert_eq!(decision.production_packages(), 11);
    assert_eq!(decision.dev_only_packages(), 6);
    assert!(decision.warnings().is_empty(), "{:?}", decision.warnings());
    assert_eq!(
        decision.source(),
        &DependencySource::Lockfile {
            path: service.path().join("package-lock.json"),
            kind: LockfileKind::PackageLock,
            version: 3,
        }
    );
    assert_eq!(decision.layout(), &WorkspaceLayout::Standalone);
}

#[test]
fn nested_version_conflict_copies_are_decided_separately() {
    let service = installed("lockfile-v3");
    let decision = production_filter(service.path()).unwrap();
    // is-number@7 (root) is a dev dependency, is-number@6 under is-odd only serves is-odd (dev),
    // but is-number@3 under is-even is needed in production.
    assert!(!decision.allows("node_modules/is-number/index.js"));
    assert!(!decision.allows("node_modules/is-odd/node_modules/is-number/index.js"));
    assert!(decision.allows("node_modules/is-even/node_modules/is-number/index.js"));
    // is-odd@3 (root, dev) versus is-odd@0.1.2 nested under is-even (production).
    assert!(!decision.allows("node_modules/is-odd/package.json"));
    assert!(decision.allows("node_modules/is-even/node_modules/is-odd/package.json"));
    // debug needs ms@2.1.2, nested because the service pins ms@2.0.0 at the root.
    assert!(decision.allows("node_modules/debug/node_modules/ms/index.js"));
}

/// Every lockfile entry is kept exactly when npm did not flag it `dev`.
fn assert_agrees_with_dev_flags(root: &Path, service: &Path) {
    let decision = production_filter(service).unwrap();
    let relative = service.strip_prefix(root).unwrap();
    let up = "../".repeat(relative.components().count());
    let member = relative.to_str().unwrap().replace('\\', "/");
    for (location, entry) in lockfile_packages(root) {
        if !is_installed(&location) {
            continue;
        }
        let seen_from_service = match location.strip_prefix(&format!("{member}/")) {
            Some(inside) if !member.is_empty() => inside.to_string(),
            _ => format!("{up}{location}"),
        };
        let npm_keeps = entry["dev"] != json!(true);
        assert_eq!(
            decision.allows(&format!("{seen_from_service}/index.js")),
            npm_keeps,
            "{location} in {}",
            root.display()
        );
    }
}

#[test]
fn decisions_agree_with_the_lockfile_dev_flags() {
    for name in ["lockfile-v3", "lockfile-v2", "workspaces"] {
        let dir = installed(name);
        assert_agrees_with_dev_flags(dir.path(), dir.path());
    }
}

#[test]
fn lockfile_version_two_decides_like_version_three() {
    let version_two = installed("lockfile-v2");
    let decision = production_filter(version_two.path()).unwrap();
    assert_eq!(decision.production_locations(), PRODUCTION);
    assert_eq!(decision.dev_only_locations(), DEV_ONLY);
    assert!(matches!(
        decision.source(),
        DependencySource::Lockfile { version: 2, .. }
    ));
}

#[test]
fn hidden_lockfile_is_used_when_package_lock_is_absent() {
    let service = installed("lockfile-v3");
    let hidden = service.path().join("node_modules/.package-lock.json");
    std::fs::rename(service.path().join("package-lock.json"), &hidden).unwrap();
    let decision = production_filter(service.path()).unwrap();
    assert_eq!(
        decision.source(),
        &DependencySource::Lockfile {
            path: hidden,
            kind: LockfileKind::Hidden,
            version: 3,
        }
    );
    assert_eq!(decision.production_locations(), PRODUCTION);
    assert_eq!(decision.dev_only_locations(), DEV_ONLY);
}

#[test]
fn walking_node_modules_without_a_lockfile_gives_the_same_answer() {
    let service = installed("lockfile-v3");
    std::fs::remove_file(service.path().join("package-lock.json")).unwrap();
    let decision = production_filter(service.path()).unwrap();
    assert_eq!(
        decision.source(),
        &DependencySource::NodeModules {
            root: service.path().to_path_buf(),
            version_one_lockfile: None,
        }
    );
    assert_eq!(decision.production_locations(), PRODUCTION);
    assert_eq!(decision.dev_only_locations(), DEV_ONLY);
    assert!(decision.warnings().is_empty(), "{:?}", decision.warnings());
}

#[test]
fn a_version_one_lockfile_falls_back_to_node_modules() {
    let service = installed("lockfile-v3");
    let lockfile = service.path().join("package-lock.json");
    std::fs::write(
        &lockfile,
        r#"{"name": "orders-service", "lockfileVersion": 1, "requires": true, "dependencies": {}}"#,
    )
    .unwrap();
    let decision = production_filter(service.path()).unwrap();
    assert_eq!(
        decision.source(),
        &DependencySource::NodeModules {
            root: service.path().to_path_buf(),
            version_one_lockfile: Some(lockfile),
        }
    );
    assert_eq!(decision.production_locations(), PRODUCTION);
}

/// What the `orders` workspace needs, seen from its folder: its own nested is-number@6, the
/// sibling workspace it links to and that workspace's dependencies, hoisted or nested, and the
/// link to itself (npm keeps it too).
const ORDERS_PRODUCTION: [&str; 8] = [
    "../../node_modules/@acme/orders",
    "../../node_modules/@acme/shared",
    "../../node_modules/debug",
    "../../node_modules/debug/node_modules/ms",
    "../../node_modules/ms",
    "../../node_modules/uuid",
    "../../packages/shared/node_modules/uuid",
    "node_modules/is-number",
];

#[test]
fn workspace_member_keeps_its_own_and_hoisted_production_packages() {
    let monorepo = installed("workspaces");
    let orders = monorepo.path().join("packages/orders");
    let decision = production_filter(&orders).unwrap();
    assert_eq!(decision.production_locations(), ORDERS_PRODUCTION);
    assert!(decision.allows("node_modules/is-number/index.js"));
    // The root's is-number@7 is a dev dependency of the monorepo; is-odd is orders' dev one; web's
    // packages are not orders' business.
    for denied in [
        "../../node_modules/is-number/index.js",
        "../../node_modules/is-odd/index.js",
        "../../node_modules/left-pad/index.js",
        "../../node_modules/is-even/index.js",
        "../../packages/web/node_modules/uuid/index.js",
        "../../node_modules/@acme/web/index.js",
    ] {
        assert!(!decision.allows(denied), "{denied} should be left out");
    }
    let canonical_root = monorepo.path().canonicalize().unwrap();
    assert_eq!(
        decision.layout(),
        &WorkspaceLayout::WorkspaceMember {
            root: canonical_root.clone(),
            member: "packages/orders".to_string(),
        }
    );
    assert!(matches!(
        decision.source(),
        DependencySource::Lockfile { path, .. } if path == &canonical_root.join("package-lock.json")
    ));
    assert!(decision.warnings().is_empty(), "{:?}", decision.warnings());
}

#[test]
fn workspace_root_keeps_every_workspace_production_dependency() {
    let monorepo = installed("workspaces");
    let decision = production_filter(monorepo.path()).unwrap();
    assert_eq!(
        decision.layout(),
        &WorkspaceLayout::WorkspaceRoot {
            workspaces: vec![
                "packages/orders".to_string(),
                "packages/shared".to_string(),
                "packages/web".to_string()
            ]
        }
    );
    assert!(decision.allows("node_modules/is-even/index.js"));
    assert!(decision.allows("packages/web/node_modules/uuid/index.js"));
    assert!(decision.allows("node_modules/@acme/web/index.js"));
    assert!(!decision.allows("node_modules/left-pad/index.js"));
    assert!(!decision.allows("node_modules/is-odd/node_modules/is-number/index.js"));
}

#[test]
fn workspaces_without_a_lockfile_are_walked_through_their_links() {
    let monorepo = installed("workspaces");
    let with_lockfile = production_filter(&monorepo.path().join("packages/orders")).unwrap();
    let root_with_lockfile = production_filter(monorepo.path()).unwrap();
    std::fs::remove_file(monorepo.path().join("package-lock.json")).unwrap();

    let member = production_filter(&monorepo.path().join("packages/orders")).unwrap();
    assert!(matches!(
        member.source(),
        DependencySource::NodeModules { .. }
    ));
    assert_eq!(member.production_locations(), ORDERS_PRODUCTION);
    assert_eq!(
        member.dev_only_locations(),
        with_lockfile.dev_only_locations()
    );

    let root = production_filter(monorepo.path()).unwrap();
    assert_eq!(
        root.production_locations(),
        root_with_lockfile.production_locations()
    );
    assert_eq!(
        root.dev_only_locations(),
        root_with_lockfile.dev_only_locations()
    );
}

#[test]
fn an_invalid_lockfile_is_an_error_naming_the_file_and_the_fix() {
    let service = project("lockfile-v3");
    let lockfile = service.path().join("package-lock.json");
    let text = std::fs::read_to_string(&lockfile).unwrap();
    // A merge conflict left in the lockfile.
    let broken = text.replacen(
        "    \"node_modules/debug\": {",
        "<<<<<<< HEAD\n    \"node_modules/debug\": {",
        1,
    );
    std::fs::write(&lockfile, &broken).unwrap();
    let error = production_filter(service.path()).unwrap_err();
    assert!(
        error.to_string().contains(&lockfile.display().to_string()),
        "{error}"
    );
    let help = miette::Diagnostic::help(&error).unwrap().to_string();
    assert!(help.contains("npm install"), "{help}");
    let NodeDepsError::InvalidLockfile(invalid) = &error else {
        panic!("expected an invalid lockfile error, got {error:?}");
    };
    assert_eq!(invalid.at.offset(), broken.find("<<<<<<<").unwrap());
    assert!(help.contains("merge conflict"), "{help}");
}

#[test]
fn a_truncated_lockfile_is_an_error_saying_to_regenerate_it() {
    let service = project("lockfile-v3");
    let lockfile = service.path().join("package-lock.json");
    let text = std::fs::read_to_string(&lockfile).unwrap();
    std::fs::write(&lockfile, &text[..text.len() / 2]).unwrap();
    let error = production_filter(service.path()).unwrap_err();
    let help = miette::Diagnostic::help(&error).unwrap().to_string();
    assert!(
        help.contains("delete") && help.contains("npm install"),
        "{help}"
    );
    assert!(!error.to_string().contains(" at line "), "{error}");
}

#[test]
fn an_invalid_service_package_json_is_an_error() {
    let service = project("lockfile-v3");
    std::fs::write(service.path().join("package.json"), "{\"dependencies\": ").unwrap();
    let error = production_filter(service.path()).unwrap_err();
    assert!(
        matches!(error, NodeDepsError::InvalidPackageJson(_)),
        "{error:?}"
    );
}

#[test]
fn a_service_without_package_json_keeps_everything() {
    let service = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(service.path().join("node_modules/left-pad")).unwrap();
    let decision = production_filter(service.path()).unwrap();
    assert_eq!(decision.source(), &DependencySource::NoPackageJson);
    assert!(decision.allows("node_modules/left-pad/index.js"));
    assert_eq!(decision.production_packages(), 0);
    assert_eq!(decision.dev_only_packages(), 0);
}

#[test]
fn a_production_package_missing_from_node_modules_is_a_warning() {
    let service = installed("lockfile-v3");
    std::fs::remove_dir_all(service.path().join("node_modules/kind-of")).unwrap();
    // is-buffer is optional: npm may skip it on some platforms, so its absence is not reported.
    std::fs::remove_dir_all(service.path().join("node_modules/is-buffer")).unwrap();
    let decision = production_filter(service.path()).unwrap();
    assert_eq!(
        decision.warnings(),
        [
            NodeDepsWarning::NotInstalled {
                location: "node_modules/kind-of".to_string(),
                lockfile: service.path().join("package-lock.json"),
            },
            NodeDepsWarning::NotInstalled {
                location: "node_modules/kind-of/node_modules/is-buffer".to_string(),
                lockfile: service.path().join("package-lock.json"),
            }
        ]
    );
    assert!(decision.allows("node_modules/debug/index.js"));
    assert!(!decision.allows("node_modules/left-pad/index.js"));
}

#[test]
fn a_lockfile_without_node_modules_warns_once() {
    let service = project("lockfile-v3");
    let decision = production_filter(service.path()).unwrap();
    assert_eq!(
        decision.warnings(),
        [NodeDepsWarning::NodeModulesMissing {
            root: service.path().to_path_buf()
        }]
    );
}

#[test]
fn a_dependency_added_to_package_json_after_the_lockfile_is_a_warning() {
    let service = installed("lockfile-v3");
    let path = service.path().join("package.json");
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest["dependencies"]["lodash"] = json!("^4.17.21");
    std::fs::write(&path, manifest.to_string()).unwrap();
    let decision = production_filter(service.path()).unwrap();
    assert_eq!(
        decision.warnings(),
        [NodeDepsWarning::MissingFromLockfile {
            name: "lodash".to_string(),
            required_by: "package.json".to_string(),
            lockfile: service.path().join("package-lock.json"),
        }]
    );
}

#[test]
fn bundled_dependencies_are_kept_with_their_parent() {
    let service = tempfile::tempdir().unwrap();
    let manifest = json!({"name": "svc", "dependencies": {"bundler": "1.0.0"},
                          "devDependencies": {"tool": "1.0.0"}});
    // `bundled` lists no dependents in the lockfile: only its place inside `bundler` keeps it.
    let lockfile = json!({"lockfileVersion": 3, "packages": {
        "": manifest,
        "node_modules/bundler": {"version": "1.0.0", "bundleDependencies": ["bundled"]},
        "node_modules/bundler/node_modules/bundled": {"version": "2.0.0", "inBundle": true},
        "node_modules/tool": {"version": "1.0.0", "dev": true, "bundleDependencies": ["bundled"]},
        "node_modules/tool/node_modules/bundled": {"version": "2.0.0", "dev": true, "inBundle": true}
    }});
    std::fs::write(service.path().join("package.json"), manifest.to_string()).unwrap();
    std::fs::write(
        service.path().join("package-lock.json"),
        lockfile.to_string(),
    )
    .unwrap();
    install_from_lockfile(service.path());
    let decision = production_filter(service.path()).unwrap();
    assert!(decision.allows("node_modules/bundler/node_modules/bundled/index.js"));
    assert!(!decision.allows("node_modules/tool/node_modules/bundled/index.js"));
    assert_agrees_with_dev_flags(service.path(), service.path());
}

#[test]
fn a_pnpm_install_keeps_everything_and_says_so() {
    let service = tempfile::tempdir().unwrap();
    std::fs::write(
        service.path().join("package.json"),
        r#"{"dependencies": {"ms": "2"}, "devDependencies": {"left-pad": "1"}}"#,
    )
    .unwrap();
    std::fs::create_dir_all(service.path().join("node_modules/.pnpm")).unwrap();
    let decision = production_filter(service.path()).unwrap();
    assert!(decision.allows("node_modules/left-pad/index.js"));
    assert!(matches!(
        decision.warnings(),
        [NodeDepsWarning::PnpmLayout { .. }]
    ));
}

/// A synthetic install of `count` packages: half reachable from production (chains of ten, with
/// a nested conflicting copy under each chain head), half from dev dependencies.
fn synthetic_install(root: &Path, count: usize) {
    let mut packages = serde_json::Map::new();
    let mut production = serde_json::Map::new();
    let mut dev = serde_json::Map::new();
    for index in 0..count {
        let name = format!("package-{index}");
        let is_dev = index % 2 == 1;
        let mut entry = json!({"version": "1.0.0"});
        if index + 2 < count && index % 10 < 8 {
            entry["dependencies"] = json!({ format!("package-{}", index + 2): "1.0.0" });
        }
        if index % 10 < 2 {
            entry["dependencies"]["shared"] = json!("2.0.0");
            packages.insert(
                format!("node_modules/{name}/node_modules/shared"),
                json!({"version": "2.0.0", "dev": is_dev}),
            );
        }
        if is_dev {
            entry["dev"] = json!(true);
        }
        if index % 10 < 2 {
            if is_dev { &mut dev } else { &mut production }.insert(name.clone(), json!("1.0.0"));
        }
        packages.insert(format!("node_modules/{name}"), entry);
    }
    packages.insert(
        String::new(),
        json!({"dependencies": production, "devDependencies": dev}),
    );
    let manifest = json!({"name": "big", "dependencies": production, "devDependencies": dev});
    std::fs::write(root.join("package.json"), manifest.to_string()).unwrap();
    std::fs::write(
        root.join("package-lock.json"),
        json!({"lockfileVersion": 3, "packages": packages}).to_string(),
    )
    .unwrap();
    for location in packages.keys().filter(|location| !location.is_empty()) {
        std::fs::create_dir_all(root.join(location)).unwrap();
    }
}

#[test]
fn two_thousand_packages_are_decided_in_milliseconds() {
    let service = tempfile::tempdir().unwrap();
    synthetic_install(service.path(), 2000);
    let started = Instant::now();
    let decision = production_filter(service.path()).unwrap();
    let decided = started.elapsed();
    assert_eq!(decision.production_packages(), 1200);
    assert_eq!(decision.dev_only_packages(), 1200);
    assert_agrees_with_dev_flags(service.path(), service.path());

    // Twenty files per package, as `allows` sees them while the artifact is built.
    let paths: Vec<String> = (0..2000)
        .flat_map(|index| {
            (0..20).map(move |file| format!("node_modules/package-{index}/lib/file-{file}.js"))
        })
        .collect();
    let started = Instant::now();
    let kept = paths.iter().filter(|path| decision.allows(path)).count();
    let filtered = started.elapsed();
    assert_eq!(kept, 20_000);
    eprintln!(
        "2 000-package lockfile decided in {decided:?}; {} paths filtered in {filtered:?}",
        paths.len()
    );
    // Generous for unoptimized builds on a loaded machine; release builds are far below.
    assert!(decided.as_millis() < 2_000, "deciding took {decided:?}");
    assert!(filtered.as_millis() < 2_000, "filtering took {filtered:?}");
}

#[test]
fn an_extraneous_package_is_kept_unless_it_sits_in_a_dev_package() {
    let service = installed("lockfile-v3");
    for leftover in [
        "node_modules/leftover",
        "node_modules/left-pad/node_modules/leftover",
    ] {
        let folder = service.path().join(leftover);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("package.json"), r#"{"name": "leftover"}"#).unwrap();
    }
    std::fs::remove_file(service.path().join("package-lock.json")).unwrap();
    let decision = production_filter(service.path()).unwrap();
    assert!(decision.allows("node_modules/leftover/index.js"));
    assert!(!decision.allows("node_modules/left-pad/node_modules/leftover/index.js"));
    assert_eq!(decision.unreferenced_packages(), 2);
    assert_eq!(decision.production_locations(), PRODUCTION);
    assert_eq!(decision.dev_only_locations(), DEV_ONLY);
}

#[test]
fn npm_shrinkwrap_wins_over_package_lock() {
    let service = installed("lockfile-v3");
    let shrinkwrap = service.path().join("npm-shrinkwrap.json");
    std::fs::copy(service.path().join("package-lock.json"), &shrinkwrap).unwrap();
    // A stale package-lock.json that would keep left-pad: npm ignores it beside a shrinkwrap.
    std::fs::write(
        service.path().join("package-lock.json"),
        json!({"lockfileVersion": 3, "packages": {"": {"dependencies": {"left-pad": "1"}}}})
            .to_string(),
    )
    .unwrap();
    let decision = production_filter(service.path()).unwrap();
    assert!(matches!(
        decision.source(),
        DependencySource::Lockfile { kind: LockfileKind::Shrinkwrap, path, .. } if path == &shrinkwrap
    ));
    assert_eq!(decision.production_locations(), PRODUCTION);
    assert_eq!(
        decision.summary(),
        format!(
            "11 production packages kept, 6 dev-only packages left out (from {} (lockfileVersion 3))",
            shrinkwrap.display()
        )
    );
}
