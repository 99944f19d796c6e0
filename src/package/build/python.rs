//! Python requirements, the job of serverless-python-requirements. (Not built yet: no
//! function gets requirements.)

use super::{BuildRequest, BuildWarning, FunctionBuild};
use crate::package::build::BuildError;

pub fn build(
    _request: &BuildRequest<'_>,
    _warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<(String, FunctionBuild)>, BuildError> {
    Ok(Vec::new())
}
