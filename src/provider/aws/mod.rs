//! Amazon Web Services: cloud variable sources now; deployment in a later step.

mod sdk;
pub mod variables;
