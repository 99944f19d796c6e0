//! The templates `updraft create` writes, embedded from `templates/` at build time so that
//! creating a service needs no network and no checkout. Each template is a directory there; this
//! table lists its files. (A test checks that the table and the directories agree.)

/// A service template: its name, one line about it, its files (path, contents) and the commands
/// a user types next.
#[derive(Debug)]
pub struct Template {
    pub name: &'static str,
    pub summary: &'static str,
    pub files: &'static [(&'static str, &'static str)],
    /// What to run once before anything else (installing the build tools).
    pub setup: &'static [&'static str],
    /// The commands that use the new service.
    pub next: &'static [&'static str],
}

/// What a user types next: run the service locally, then deploy it. (`updraft offline` calls
/// Google and Azure functions the way their own runtimes do.)
const NEXT: &[&str] = &["updraft offline", "updraft deploy"];
/// An Azure Python function imports `azure.functions`, which its requirements install.
const AZURE_PYTHON_SETUP: &[&str] = &[
    "python3 -m venv .venv",
    ". .venv/bin/activate",
    "pip install -r requirements.txt",
];

macro_rules! files {
    ($template:literal: $($path:literal),+ $(,)?) => {
        &[$(($path, include_str!(concat!("../../templates/", $template, "/", $path)))),+]
    };
}

/// Every template, in the order `updraft create --list` shows them.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "aws-nodejs",
        summary: "AWS: one Node.js 20 function behind an HTTP API route",
        setup: &[],
        next: NEXT,
        files: files!("aws-nodejs":
            ".gitignore",
            "README.md",
            "handler.mjs",
            "serverless.yml",
        ),
    },
    Template {
        name: "aws-nodejs-typescript",
        summary: "AWS: one TypeScript function behind an HTTP API route, bundled with esbuild",
        setup: &["npm install"],
        next: NEXT,
        files: files!("aws-nodejs-typescript":
            ".gitignore",
            "README.md",
            "package.json",
            "serverless.yml",
            "src/handler.ts",
            "tsconfig.json",
        ),
    },
    Template {
        name: "aws-python",
        summary: "AWS: one Python 3.12 function behind an HTTP API route",
        setup: &[],
        next: NEXT,
        files: files!("aws-python":
            ".gitignore",
            "README.md",
            "handler.py",
            "serverless.yml",
        ),
    },
    Template {
        name: "aws-rust",
        summary: "AWS: one Rust function (provided.al2023) behind an HTTP API route",
        setup: &[],
        next: NEXT,
        files: files!("aws-rust":
            ".gitignore",
            "Cargo.lock",
            "Cargo.toml",
            "README.md",
            "serverless.yml",
            "src/main.rs",
        ),
    },
    Template {
        name: "aws-go",
        summary: "AWS: one Go function (provided.al2023) behind an HTTP API route",
        // No go.sum ships with the template: `go mod tidy` fetches aws-lambda-go and writes it.
        setup: &["go mod tidy"],
        next: NEXT,
        files: files!("aws-go":
            ".gitignore",
            "README.md",
            "go.mod",
            "main.go",
            "serverless.yml",
        ),
    },
    Template {
        name: "aws-http-api-dynamodb",
        summary:
            "AWS: a small CRUD API in Python over HTTP API routes, its items in a DynamoDB table",
        setup: &[],
        next: NEXT,
        files: files!("aws-http-api-dynamodb":
            ".gitignore",
            "README.md",
            "handler.py",
            "serverless.yml",
        ),
    },
    Template {
        name: "google-nodejs",
        summary: "Google Cloud Functions: one Node.js 20 HTTP function",
        setup: &[],
        next: NEXT,
        files: files!("google-nodejs":
            ".gitignore",
            "README.md",
            "index.js",
            "package.json",
            "serverless.yml",
        ),
    },
    Template {
        name: "google-python",
        summary: "Google Cloud Functions: one Python 3.12 HTTP function",
        setup: &[],
        next: NEXT,
        files: files!("google-python":
            ".gitignore",
            "README.md",
            "main.py",
            "serverless.yml",
        ),
    },
    Template {
        name: "azure-nodejs",
        summary: "Azure Functions: one Node.js 20 HTTP function",
        setup: &[],
        next: NEXT,
        files: files!("azure-nodejs":
            ".gitignore",
            "README.md",
            "handlers/http.js",
            "package.json",
            "serverless.yml",
        ),
    },
    Template {
        name: "azure-python",
        summary: "Azure Functions: one Python 3.11 HTTP function",
        setup: AZURE_PYTHON_SETUP,
        next: NEXT,
        files: files!("azure-python":
            ".gitignore",
            "README.md",
            "handlers/__init__.py",
            "handlers/http.py",
            "requirements.txt",
            "serverless.yml",
        ),
    },
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::TEMPLATES;

    /// A file added to a template directory but not to the table would be left out of every
    /// service made from it.
    #[test]
    fn the_table_lists_every_file_of_every_template_directory() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for template in TEMPLATES {
            let directory = root.join(template.name);
            let mut on_disk = BTreeSet::new();
            let mut pending = vec![directory.clone()];
            while let Some(folder) = pending.pop() {
                for entry in std::fs::read_dir(&folder).expect("a template directory") {
                    let path = entry.expect("an entry").path();
                    if path.is_dir() {
                        pending.push(path);
                    } else {
                        let relative = path.strip_prefix(&directory).expect("inside");
                        on_disk.insert(relative.to_string_lossy().into_owned());
                    }
                }
            }
            let listed: BTreeSet<String> = template
                .files
                .iter()
                .map(|(path, _)| path.to_string())
                .collect();
            assert_eq!(listed, on_disk, "{}", template.name);
        }
    }
}
