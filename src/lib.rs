//! updraft: deploy `serverless.yml` services to AWS, Azure and Google Cloud, and run them locally.
//!
//! The library is layered; a lower layer never imports a higher one:
//! - [`manifest`]: read, resolve and validate `serverless.yml` into a typed model;
//! - [`plan`]: pure comparison of desired and live state;
//! - [`package`]: deterministic deployment artifacts;
//! - [`provider`]: the clouds (live state, applying a plan, cloud variable sources);
//! - [`ops`]: the cloud commands' sequences (plan, deploy, remove, info) over any backend;
//! - [`offline`]: the local emulator;
//! - [`create`]: new services from the built-in templates;
//! - [`cli`]: the command line, the only place that knows clap and terminals.

pub mod cli;
pub mod create;
pub mod manifest;
pub mod offline;
pub mod ops;
pub mod package;
pub mod plan;
pub mod provider;
