//! `provided*` functions written in Rust or Go, compiled into a `bootstrap`. (Not built yet.)

use super::{BuildRequest, BuildWarning, FunctionBuild};
use crate::package::build::BuildError;

pub fn build(
    _request: &BuildRequest<'_>,
    _warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<(String, FunctionBuild)>, BuildError> {
    Ok(Vec::new())
}
