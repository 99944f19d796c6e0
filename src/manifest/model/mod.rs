//! The typed, provider-neutral model of a service, built from a resolved manifest tree.
//!
//! (Being written.)
