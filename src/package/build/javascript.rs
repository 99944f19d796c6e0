//! JavaScript and TypeScript bundles, the job of serverless-esbuild and
//! serverless-plugin-typescript. (Not built yet: no function gets a bundle.)

use indexmap::IndexMap;

use super::{BuildRequest, BuildWarning, FunctionBuild};
use crate::package::build::BuildError;
use crate::package::walk::FileEntry;

pub fn build(
    _request: &BuildRequest<'_>,
    _warnings: &mut Vec<BuildWarning>,
) -> Result<Vec<(String, FunctionBuild)>, BuildError> {
    Ok(Vec::new())
}

/// Which of the service's selected files an artifact keeps beside a bundle.
pub fn keep_alongside_bundle<'a>(
    _selected: &[&'a FileEntry],
    _files: &mut IndexMap<&'a str, &'a FileEntry>,
) {
}
