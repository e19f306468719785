//! The workspace on disk: which files are manifests, file URIs, the rule pages diagnostics
//! link to.

use std::path::{Path, PathBuf};

/// Whether a text is a Kubernetes manifest worth checking: it names an `apiVersion` and a
/// `kind`, and is not a template (`{{ }}` of Helm and other Go templates, which is not YAML
/// until rendered).
pub fn is_manifest(text: &str) -> bool {
    !text.contains("{{") && text.contains("apiVersion") && text.contains("kind")
}

/// Whether a path has a manifest extension.
pub fn is_manifest_path(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

/// Every `*.yaml`, `*.yml`, `*.json` under `root`, sorted; hidden folders, `node_modules`,
/// build caches (a `CACHEDIR.TAG`, as in Cargo's `target/`) and what `skip` names are left out.
pub fn manifest_files(root: &Path, skip: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let ignore = |p: &Path| {
        let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') || n == "node_modules");
        hidden || p.join("CACHEDIR.TAG").is_file() || skip(p)
    };
    // An unreadable folder or file costs itself only; the rest of the workspace is still checked.
    let mut out = crate::inputs::walk(root, &ignore).files;
    out.sort();
    out
}

/// Bytes kept as they are in a file URI path.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
}

/// `file://` URI of an absolute path, percent-encoded as editors send them.
pub fn file_uri(path: &Path) -> String {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if unreserved(b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// Percent-decode.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path of a `file://` URI.
pub fn uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file://host/path`: only the local host is a path here.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    path.starts_with('/').then(|| PathBuf::from(decode(path)))
}

/// Write every rule's page into the cache (`$XDG_CACHE_HOME` or `~/.cache`, else the temp
/// folder) under the running version, and return their base `file://` URI. Diagnostics link
/// there, so the page always matches the server and needs no network.
pub fn write_rule_docs() -> Option<String> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let dir = cache.join("netreach").join(env!("CARGO_PKG_VERSION")).join("rules");
    std::fs::create_dir_all(&dir).ok()?;
    for r in netreach_policy::rules::ALL {
        let path = dir.join(format!("{}.md", r.meta.name));
        let text = r.meta.page();
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).ok()?;
        }
    }
    Some(file_uri(&dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/a b/ü#.yaml");
        let u = file_uri(p);
        assert_eq!(u, "file:///tmp/a%20b/%C3%BC%23.yaml");
        assert_eq!(uri_path(&u).as_deref(), Some(p));
        assert_eq!(uri_path("untitled:Untitled-1"), None);
    }

    #[test]
    fn templates_and_other_yaml_are_not_manifests() {
        assert!(is_manifest("apiVersion: v1\nkind: Service\n"));
        assert!(!is_manifest("apiVersion: v1\nkind: Service\nmetadata: {name: {{ .Release.Name }}}\n"));
        assert!(!is_manifest("name: CI\non: push\njobs: {}\n"));
        assert!(!is_manifest("apiVersion: v2\nname: chart\nversion: 1.0.0\n"));
    }
}
