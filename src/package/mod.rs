//! Deterministic zip artifacts of a service's functions and their hashes. (Not built yet.)
pub mod node_deps;
