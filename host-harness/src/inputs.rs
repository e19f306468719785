//! Paths → sources: files, directories (recursive `*.yaml`, `*.yml`, `*.json`) and `-` for stdin.
//!
//! Input may come from an untrusted repository: only regular files are read (after following
//! links), at most [`MAX_FILE_BYTES`] + 1 bytes of each, and a folder reached twice through
//! links is walked once. An entry that cannot be read becomes an NR001 finding on that entry,
//! never a stop.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use netreach_policy::Source;

/// Largest file read, in bytes: well above any real manifest set, far below what would cost
/// the machine its memory.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Read every path. Directory entries are sorted so the same tree always gives the same input.
pub fn read_sources(paths: &[String]) -> Result<Vec<Source>, String> {
    read_sources_except(paths, &|_| false)
}

/// [`read_sources`], leaving out the files and folders `skip` names when walking a folder (a
/// file named on its own is always read). A path that does not exist is an error; an entry
/// that exists but cannot be read is a source marked unreadable.
pub fn read_sources_except(paths: &[String], skip: &dyn Fn(&Path) -> bool) -> Result<Vec<Source>, String> {
    let mut out = Vec::new();
    let mut visited = HashSet::new();
    for p in paths {
        if p == "-" {
            let mut buf = Vec::new();
            std::io::stdin().take(MAX_FILE_BYTES + 1).read_to_end(&mut buf).map_err(|e| format!("cannot read standard input: {e}"))?;
            out.push(match text_of(&buf) {
                Ok(text) => Source::new("<stdin>", text),
                Err(why) => Source::unreadable("<stdin>", why),
            });
            continue;
        }
        let path = Path::new(p);
        let meta = fs::metadata(path).map_err(|e| format!("cannot read {p}: {e}"))?;
        if meta.is_dir() {
            let mut walked = Walked::default();
            walk_into(path, skip, &mut walked, &mut visited);
            let mut entries: Vec<(PathBuf, Option<String>)> =
                walked.files.into_iter().map(|f| (f, None)).chain(walked.skipped.into_iter().map(|(f, why)| (f, Some(why)))).collect();
            entries.sort();
            for (f, why) in entries {
                out.push(match why {
                    None => read_file(&f),
                    Some(why) => Source::unreadable(f.display().to_string(), why),
                });
            }
        } else {
            out.push(read_file(path));
        }
    }
    Ok(out)
}

/// One file as a source; a file that cannot be read is a source marked unreadable.
pub fn read_file(path: &Path) -> Source {
    let name = path.display().to_string();
    match read_manifest(path) {
        Ok(text) => Source::new(name, text),
        Err(why) => Source::unreadable(name, why),
    }
}

/// The text of a manifest file, or why it is not read.
pub fn read_manifest(path: &Path) -> Result<String, String> {
    // `metadata` follows links: a link to /dev/zero or to a FIFO is refused before it is opened
    // (opening a FIFO blocks until a writer comes).
    let meta = fs::metadata(path).map_err(|e| format!("file not read: {e}"))?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a folder" } else { "not a regular file (a device, FIFO or socket)" };
        return Err(format!("file not read: it is {what}"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let file = fs::File::open(path).map_err(|e| format!("file not read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("file not read: {e}"))?;
    text_of(&bytes)
}

fn too_large() -> String {
    format!("file not read: it is larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024))
}

/// Bytes as text: UTF-8 (a byte-order mark dropped), or UTF-16 with its byte-order mark, as the
/// YAML spec allows; anything else is named, not guessed.
pub fn text_of(bytes: &[u8]) -> Result<String, String> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let utf16 = |be: bool, rest: &[u8]| {
        let units = rest.chunks(2).map(|c| match c {
            [a, b] if be => u16::from_be_bytes([*a, *b]),
            [a, b] => u16::from_le_bytes([*a, *b]),
            _ => 0xFFFD,
        });
        char::decode_utf16(units).collect::<Result<String, _>>().map_err(|_| "file not read: invalid UTF-16 text".to_string())
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => std::str::from_utf8(rest).map(str::to_string).map_err(|e| not_utf8(&e)),
        [0xFF, 0xFE, rest @ ..] => utf16(false, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(true, rest),
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(e) => Err(not_utf8(&e)),
        },
    }
}

fn not_utf8(e: &std::str::Utf8Error) -> String {
    format!("file not read: it is not UTF-8 text (invalid byte at offset {}); save it as UTF-8", e.valid_up_to())
}

/// What a folder walk found: manifest files to read, and entries that cannot be, with why.
#[derive(Debug, Default)]
pub(crate) struct Walked {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<(PathBuf, String)>,
}

/// Walk `dir` for manifests (`*.yaml`, `*.yml`, `*.json`), following links once.
pub(crate) fn walk(dir: &Path, skip: &dyn Fn(&Path) -> bool) -> Walked {
    let mut walked = Walked::default();
    walk_into(dir, skip, &mut walked, &mut HashSet::new());
    walked
}

fn walk_into(dir: &Path, skip: &dyn Fn(&Path) -> bool, out: &mut Walked, visited: &mut HashSet<PathBuf>) {
    // A folder reached again (a link loop, or two links to one folder) is walked once.
    match fs::canonicalize(dir) {
        Ok(real) => {
            if !visited.insert(real) {
                return;
            }
        }
        Err(e) => {
            out.skipped.push((dir.to_path_buf(), format!("folder not read: {e}")));
            return;
        }
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            out.skipped.push((dir.to_path_buf(), format!("folder not read: {e}")));
            return;
        }
    };
    // Sorted, so that a folder reached through two links is always named the same way.
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if skip(&path) {
            continue;
        }
        let manifest = path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk_into(&path, skip, out, visited),
            Ok(meta) if manifest && meta.is_file() => out.files.push(path),
            Ok(_) if manifest => out.skipped.push((path, "file not read: it is not a regular file (a device, FIFO or socket)".to_string())),
            Err(e) if manifest => out.skipped.push((path, format!("file not read: {e}"))),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_with_a_byte_order_mark_is_read_and_other_bytes_are_named() {
        let text = "kind: Namespace\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(text_of(&le).as_deref(), Ok(text));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(text_of(&be).as_deref(), Ok(text));
        assert_eq!(text_of(b"\xEF\xBB\xBFa: 1").as_deref(), Ok("a: 1"));
        let no_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        // UTF-16 without a byte-order mark is valid UTF-8 full of NULs: the YAML reader names them.
        assert!(text_of(&no_bom).is_ok());
        let err = text_of(b"a: \xFF\n").unwrap_err();
        assert!(err.contains("not UTF-8") && err.contains("offset 3"), "{err}");
    }
}
