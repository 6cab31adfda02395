//! The browser bundle's file names, and the tags of the page's `<head>` that load it.
//!
//! Release builds put a hash of each file's content in its name (`skalin.Ab3….wasm`), so
//! browsers may keep them for a year and still never run a stale bundle after an upgrade.
//! The names are found once, by looking at what the build wrote, rather than in a file of
//! hashes beside the executable: tests and the release binary then read the same site.

use std::path::Path;
use std::sync::Arc;

use leptos::prelude::*;

/// The three files a page loads, as paths under the site root (`/pkg/…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteAssets {
    pub js: String,
    pub wasm: String,
    pub css: String,
}

impl SiteAssets {
    /// The names a build without hashing writes.
    pub fn unhashed(output_name: &str, pkg_dir: &str) -> Self {
        Self {
            js: format!("/{pkg_dir}/{output_name}.js"),
            wasm: format!("/{pkg_dir}/{output_name}.wasm"),
            css: format!("/{pkg_dir}/{output_name}.css"),
        }
    }

    /// Looks in the site's package folder for `<output_name>[.<hash>].{js,wasm,css}`;
    /// a file not found keeps its unhashed name (the page then renders, and says in the
    /// browser's console what is missing).
    pub fn find(site_pkg: &Path, output_name: &str, pkg_dir: &str) -> Self {
        let mut assets = Self::unhashed(output_name, pkg_dir);
        let Ok(entries) = std::fs::read_dir(site_pkg) else {
            return assets;
        };
        for name in entries.flatten().filter_map(|entry| entry.file_name().into_string().ok()) {
            let Some((stem, ext)) = name.rsplit_once('.') else { continue };
            let hashed = hash_of(stem, output_name).is_some();
            if stem != output_name && !hashed {
                continue;
            }
            let slot = match ext {
                "js" => &mut assets.js,
                "wasm" => &mut assets.wasm,
                "css" => &mut assets.css,
                _ => continue,
            };
            // A hashed name wins over a plain one left beside it.
            if hashed || !is_hashed(slot) {
                *slot = format!("/{pkg_dir}/{name}");
            }
        }
        assets
    }
}

/// Whether a file name carries a content hash, so that its content never changes.
pub fn is_hashed(file_name: &str) -> bool {
    let name = file_name.rsplit('/').next().unwrap_or(file_name);
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    stem.rsplit_once('.').is_some_and(|(_, hash)| looks_like_hash(hash))
}

fn hash_of<'a>(stem: &'a str, output_name: &str) -> Option<&'a str> {
    stem.strip_prefix(output_name)?.strip_prefix('.').filter(|hash| looks_like_hash(hash))
}

/// cargo-leptos names files with the base64url MD5 of their content: 22 characters.
fn looks_like_hash(text: &str) -> bool {
    text.len() >= 16 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The assets of the request being rendered: the server puts them in the request's
/// extensions, as it does the CSP nonce.
fn request_assets(options: &LeptosOptions) -> SiteAssets {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Arc<SiteAssets>>().map(|assets| SiteAssets::clone(assets)))
        .unwrap_or_else(|| SiteAssets::unhashed(&options.output_name, &options.site_pkg_dir))
}

/// The stylesheet, the bundle's preloads and the script that hydrates the page: what
/// Leptos' `HydrationScripts` writes, with names that need no hash file.
#[component]
pub fn HeadAssets(options: LeptosOptions) -> impl IntoView {
    let SiteAssets { js, wasm, css } = request_assets(&options);
    let nonce = leptos::nonce::use_nonce();
    let load = format!("import({js:?}).then(m => m.default({{module_or_path: {wasm:?}}}).then(() => m.hydrate()));");
    view! {
        <link rel="stylesheet" id="leptos" href=css />
        <link rel="modulepreload" href=js.clone() />
        // `crossorigin`: the bundle's loader fetches in CORS mode, and a preload made in
        // another mode would not be reused (the WASM would be downloaded twice).
        <link rel="preload" href=wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin="anonymous" />
        <script type="module" nonce=nonce>{load}</script>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_without_hashes_keeps_the_plain_names() {
        let dir = tempdir_with(&["skalin.js", "skalin.wasm", "skalin.css"]);
        assert_eq!(SiteAssets::find(dir.path(), "skalin", "pkg"), SiteAssets::unhashed("skalin", "pkg"));
    }

    #[test]
    fn a_hashed_build_is_found_by_its_names() {
        let dir = tempdir_with(&[
            "skalin.k3Jd9Qn2LmA0pX7vB1c_eW.js",
            "skalin.Zz0-aaBBccDDeeFFggHHii.wasm",
            "skalin.Q9w8E7r6T5y4U3i2O1p0aS.css",
            "skalin.Zz0-aaBBccDDeeFFggHHii.wasm.br",
            "robots.txt",
        ]);
        let assets = SiteAssets::find(dir.path(), "skalin", "pkg");
        assert_eq!(assets.js, "/pkg/skalin.k3Jd9Qn2LmA0pX7vB1c_eW.js");
        assert_eq!(assets.wasm, "/pkg/skalin.Zz0-aaBBccDDeeFFggHHii.wasm");
        assert_eq!(assets.css, "/pkg/skalin.Q9w8E7r6T5y4U3i2O1p0aS.css");
    }

    #[test]
    fn only_names_with_a_hash_count_as_never_changing() {
        assert!(is_hashed("/pkg/skalin.k3Jd9Qn2LmA0pX7vB1c_eW.js"));
        assert!(is_hashed("skalin.Zz0-aaBBccDDeeFFggHHii.wasm"));
        assert!(!is_hashed("/pkg/skalin.js"));
        assert!(!is_hashed("/pkg/skalin_bg.wasm"));
        assert!(!is_hashed("robots.txt"));
    }

    fn tempdir_with(names: &[&str]) -> TempDir {
        let dir = TempDir::new();
        for name in names {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        dir
    }

    /// A folder removed when dropped (the app crate has no tempfile dependency).
    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new() -> Self {
            let path = std::env::temp_dir().join(format!("skalin-assets-{}", rand::random::<u64>()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
