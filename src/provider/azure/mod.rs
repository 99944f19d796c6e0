//! Microsoft Azure backend: a service and stage as one Function App on the Flex Consumption
//! plan (Linux), deployed through Azure Resource Manager.
//!
//! - [`app`] reads the manifest as one app, with Azure's per-app settings, triggers and limits
//!   checked at plan time; [`resources`] turns it into the desired state;
//! - [`arm`] is the typed Resource Manager client on `azure_core`'s pipeline, [`connection`]
//!   its endpoints and credentials;
//! - [`read`] reads the live state, [`apply`] applies a step, [`onedeploy`] sends the code,
//!   [`package`] zips it with its `host.json` and `function.json` files;
//! - [`blob`] and [`deploy_lock`] keep the deploy lock in the service's storage account.

pub mod app;
pub mod apply;
pub mod arm;
pub mod backend;
pub mod blob;
pub mod connection;
pub mod deploy_lock;
pub mod invoke;
pub mod logs;
pub mod onedeploy;
pub mod package;
pub mod read;
pub mod resources;

pub use backend::{connect, connect_to, AzureBackend};
