//! Amazon Web Services: the deploy backend and the cloud variable sources.

pub mod naming;
mod sdk;
pub mod variables;
