//! Amazon Web Services: cloud variable sources now; deployment in a later step.

pub mod variables;
