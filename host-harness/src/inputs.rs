//! Paths → sources: files, directories (recursive `*.yaml`, `*.yml`, `*.json`) and `-` for stdin.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use netreach_policy::Source;

/// Read every path. Directory entries are sorted so the same tree always gives the same input.
pub fn read_sources(paths: &[String]) -> Result<Vec<Source>, String> {
    read_sources_except(paths, &|_| false)
}

/// [`read_sources`], leaving out the files and folders `skip` names when walking a folder (a
/// file named on its own is always read).
pub fn read_sources_except(paths: &[String], skip: &dyn Fn(&Path) -> bool) -> Result<Vec<Source>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(|e| format!("cannot read standard input: {e}"))?;
            out.push(Source::new("<stdin>", String::from_utf8_lossy(&buf).into_owned()));
            continue;
        }
        let path = Path::new(p);
        let meta = fs::metadata(path).map_err(|e| format!("cannot read {p}: {e}"))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, skip, &mut files).map_err(|e| format!("cannot read directory {p}: {e}"))?;
            files.sort();
            for f in files {
                out.push(read_file(&f)?);
            }
        } else {
            out.push(read_file(path)?);
        }
    }
    Ok(out)
}

fn read_file(path: &Path) -> Result<Source, String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Source::new(path.display().to_string(), String::from_utf8_lossy(&bytes).into_owned()))
}

pub(crate) fn walk(dir: &Path, skip: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if skip(&path) {
            continue;
        }
        let ty = entry.file_type()?;
        if ty.is_dir() {
            walk(&path, skip, out)?;
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json")) {
            out.push(path);
        }
    }
    Ok(())
}
