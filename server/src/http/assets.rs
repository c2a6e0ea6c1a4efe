//! The console's static files: the wasm app, its JS and CSS under `/pkg`, and
//! what `app/public` holds (the favicon).
//!
//! A release build names the JS, wasm and CSS by their content hash
//! (`hash-files = true` in the workspace's leptos metadata) and lists the
//! hashes in `hash.txt`. A file under such a name never changes, so browsers
//! may keep it a year without asking again (`immutable`); every other file is
//! checked on each use (`no-cache`, answered 304 while unchanged). Files go out
//! compressed: the `.br` or `.gz` copy beside a file when the build made one
//! (`cargo leptos build --release --precompress`), else compressed on the fly
//! by the router's compression layer.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The name cargo-leptos gives the list of hashes.
pub const HASH_FILE: &str = "hash.txt";

/// How long a browser keeps a file named by its hash: a year, unasked.
pub const CACHE_HASHED: &str = "public, max-age=31536000, immutable";
/// Every other file: kept, but checked with the server before each use.
pub const CACHE_OTHER: &str = "no-cache";

/// The hashes a `hash.txt` lists, by file extension (`js`, `wasm`, `css`).
fn read_hashes(path: &Path) -> Option<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).ok()?;
    let hashes: Vec<_> = text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(kind, hash)| (kind.trim().to_owned(), hash.trim().to_owned()))
        .filter(|(kind, hash)| ["js", "wasm", "css"].contains(&kind.as_str()) && !hash.is_empty())
        .collect();
    (!hashes.is_empty()).then_some(hashes)
}

/// The name of the built `kind` file whose content hashes to `hash`.
fn hashed_name(output_name: &str, kind: &str, hash: &str) -> String {
    format!("{output_name}.{hash}.{kind}")
}

/// The hash list of the built assets in `site_root`: beside the binary, where
/// cargo-leptos writes it, else in the site root (where a deployment may copy
/// it with the site). `None` for a build without hashed names: no list, or
/// one whose files are not in `site_root/pkg_dir` (a stale list).
pub fn find_hash_file(site_root: &Path, pkg_dir: &str, output_name: &str) -> Option<PathBuf> {
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(HASH_FILE)));
    let pkg = site_root.join(pkg_dir.trim_matches('/'));
    beside_binary
        .into_iter()
        .chain([site_root.join(HASH_FILE)])
        .find(|path| {
            read_hashes(path).is_some_and(|hashes| {
                hashes
                    .iter()
                    .all(|(kind, hash)| pkg.join(hashed_name(output_name, kind, hash)).is_file())
            })
        })
}

/// The static files of the site root, and which of them are named by hash.
#[derive(Clone)]
pub struct Assets {
    files: ServeDir,
    /// Request paths of the files named by their content hash.
    hashed: HashSet<String>,
    /// `/pkg/hookline.css` → its hashed name: the app links the stylesheet
    /// by its plain name, which a hashed build does not write.
    aliases: HashMap<String, String>,
}

impl Assets {
    pub fn new(options: &LeptosOptions) -> Self {
        let pkg = options.site_pkg_dir.trim_matches('/');
        let mut hashed = HashSet::new();
        let mut aliases = HashMap::new();
        if options.hash_files {
            // As leptos reads it: relative to the binary's folder (an
            // absolute path stays as it is).
            let path = std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(Path::to_path_buf))
                .unwrap_or_default()
                .join(&*options.hash_file);
            for (kind, hash) in read_hashes(&path).unwrap_or_default() {
                let path = format!("/{pkg}/{}", hashed_name(&options.output_name, &kind, &hash));
                if kind == "css" {
                    aliases.insert(format!("/{pkg}/{}.css", options.output_name), path.clone());
                }
                hashed.insert(path);
            }
        }
        let files = ServeDir::new(&*options.site_root)
            .precompressed_br()
            .precompressed_gzip()
            .append_index_html_on_directories(false);
        Self {
            files,
            hashed,
            aliases,
        }
    }

    /// The file `request` names, with how long it may be cached; `None` when
    /// there is no such file or the request does not read one.
    pub async fn serve(&self, request: &Parts) -> Option<Response> {
        if request.method != Method::GET && request.method != Method::HEAD {
            return None;
        }
        let path = request.uri.path();
        let alias = self.aliases.get(path);
        // The request's own headers: Accept-Encoding picks the compressed
        // copy, If-Modified-Since and Range work as for any file.
        let mut file_request = Request::builder()
            .method(request.method.clone())
            .uri(alias.map_or(path, String::as_str))
            .body(Body::empty())
            .ok()?;
        *file_request.headers_mut() = request.headers.clone();
        let response = match self.files.clone().oneshot(file_request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if response.status() == StatusCode::NOT_FOUND {
            return None;
        }
        let mut response = response.map(Body::new);
        let cache = if alias.is_none() && self.hashed.contains(path) {
            CACHE_HASHED
        } else {
            CACHE_OTHER
        };
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
        // A precompressed copy is one answer of several for this URL.
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
        Some(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(site_root: &Path, hash_file: Option<&Path>) -> LeptosOptions {
        let mut options = LeptosOptions::builder()
            .output_name("app")
            .site_root(site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .build();
        if let Some(file) = hash_file {
            options.hash_files = true;
            options.hash_file = file.to_string_lossy().as_ref().into();
        }
        options
    }

    fn get(path: &str, encodings: &str) -> Parts {
        let request = Request::builder()
            .uri(path)
            .header("accept-encoding", encodings)
            .body(())
            .unwrap();
        request.into_parts().0
    }

    fn header(response: &Response, name: &str) -> String {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn hashed_files_are_cached_for_a_year_and_others_checked_each_time() {
        let site = tempfile::tempdir().unwrap();
        let pkg = site.path().join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        for name in ["app.J1.js", "app.W1.wasm", "app.C1.css"] {
            std::fs::write(pkg.join(name), "content").unwrap();
        }
        std::fs::write(pkg.join("app.W1.wasm.br"), "brotli").unwrap();
        std::fs::write(site.path().join("favicon.svg"), "<svg/>").unwrap();
        let list = site.path().join(HASH_FILE);
        std::fs::write(&list, "js: J1\nwasm: W1\ncss: C1\n").unwrap();
        assert_eq!(
            find_hash_file(site.path(), "pkg", "app"),
            Some(list.clone())
        );
        let assets = Assets::new(&options(site.path(), Some(&list)));

        let wasm = assets
            .serve(&get("/pkg/app.W1.wasm", "gzip, br"))
            .await
            .unwrap();
        assert_eq!(wasm.status(), StatusCode::OK);
        assert_eq!(header(&wasm, "cache-control"), CACHE_HASHED);
        assert_eq!(header(&wasm, "content-encoding"), "br");
        assert_eq!(header(&wasm, "vary"), "accept-encoding");
        let plain = assets
            .serve(&get("/pkg/app.W1.wasm", "gzip"))
            .await
            .unwrap();
        assert_eq!(header(&plain, "content-encoding"), "");

        let icon = assets.serve(&get("/favicon.svg", "br")).await.unwrap();
        assert_eq!(header(&icon, "cache-control"), CACHE_OTHER);
        // The stylesheet's plain name serves the hashed file, checked each time.
        let css = assets.serve(&get("/pkg/app.css", "")).await.unwrap();
        assert_eq!(css.status(), StatusCode::OK);
        assert_eq!(header(&css, "cache-control"), CACHE_OTHER);

        assert!(assets.serve(&get("/pkg/missing.js", "")).await.is_none());
        assert!(assets.serve(&get("/pkg", "")).await.is_none());
        let post = Request::post("/favicon.svg").body(()).unwrap();
        assert!(assets.serve(&post.into_parts().0).await.is_none());
    }

    #[tokio::test]
    async fn an_unhashed_build_is_checked_each_time() {
        let site = tempfile::tempdir().unwrap();
        let pkg = site.path().join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("app.wasm"), "content").unwrap();
        // A stale list, naming files this build did not write.
        std::fs::write(site.path().join(HASH_FILE), "wasm: OLD\n").unwrap();
        assert_eq!(find_hash_file(site.path(), "pkg", "app"), None);
        let assets = Assets::new(&options(site.path(), None));
        let wasm = assets.serve(&get("/pkg/app.wasm", "br")).await.unwrap();
        assert_eq!(header(&wasm, "cache-control"), CACHE_OTHER);
    }
}
