//! What a browser downloads: the bundle under hashed names, kept a year, sent as the
//! brotli or gzip file the build made; pages and server functions' answers compressed
//! when the browser accepts it. Each app here serves a site made up for the test, laid
//! out as `cargo leptos build --release --precompress` lays it out.

use std::io::{Read, Write};
use std::path::Path;

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, VARY};
use reqwest::StatusCode;
use skalin_tests::*;

const JS: &str = "skalin.k3Jd9Qn2LmA0pX7vB1c_eW.js";
const WASM: &str = "skalin.Zz0-aaBBccDDeeFFggHHii.wasm";
const CSS: &str = "skalin.Q9w8E7r6T5y4U3i2O1p0aS.css";

/// A release-like site: hashed files, each with its `.br` and `.gz` beside it.
fn release_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for (name, content) in [
        (JS, "export default function init() {}\n".repeat(50)),
        (WASM, "\0asm".repeat(500)),
        (CSS, "body { margin: 0 }\n".repeat(50)),
    ] {
        write_precompressed(&pkg, name, content.as_bytes());
    }
    site
}

/// A debug-like site: a stylesheet without a hash, and no compressed copy.
fn debug_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("skalin.css"), "body { margin: 0 }\n".repeat(50)).unwrap();
    site
}

fn write_precompressed(dir: &Path, name: &str, content: &[u8]) {
    std::fs::write(dir.join(name), content).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(content).unwrap();
    std::fs::write(dir.join(format!("{name}.gz")), gz.finish().unwrap()).unwrap();
    let mut br = Vec::new();
    brotli::BrotliCompress(&mut &content[..], &mut br, &Default::default()).unwrap();
    std::fs::write(dir.join(format!("{name}.br")), br).unwrap();
}

async fn app_serving(site: &Path) -> TestApp {
    spawn_app_with(&["--site-root", site.to_str().unwrap()]).await
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut text).unwrap();
    text
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
    out
}

#[tokio::test]
async fn pages_load_the_bundle_by_its_hashed_names() {
    let site = release_site();
    let app = app_serving(site.path()).await;
    let client = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = client.get(app.url("/customers")).send().await.unwrap().text().await.unwrap();
    for name in [JS, WASM, CSS] {
        assert!(page.contains(&format!("/pkg/{name}")), "the page does not name {name}: {page}");
    }
    assert!(!page.contains("/pkg/skalin.css") && !page.contains("/pkg/skalin.wasm"), "{page}");
}

#[tokio::test]
async fn hashed_bundle_files_are_kept_a_year_and_sent_as_the_brotli_file_the_build_made() {
    let site = release_site();
    let app = app_serving(site.path()).await;
    let client = reqwest::Client::new();
    let response =
        client.get(app.url(&format!("/pkg/{WASM}"))).header(ACCEPT_ENCODING, "gzip, deflate, br").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert_eq!(header(&response, CONTENT_ENCODING), "br");
    assert!(header(&response, VARY).to_ascii_lowercase().contains("accept-encoding"), "{:?}", response.headers());
    let body = response.bytes().await.unwrap();
    let built = std::fs::read(site.path().join("pkg").join(format!("{WASM}.br"))).unwrap();
    assert_eq!(body.as_ref(), built.as_slice(), "not the build's own brotli file");
    assert_eq!(unbrotli(&body), "\0asm".repeat(500).into_bytes());
}

#[tokio::test]
async fn a_browser_without_brotli_gets_the_gzip_file_and_one_without_either_the_plain_one() {
    let site = release_site();
    let app = app_serving(site.path()).await;
    let client = reqwest::Client::new();
    let url = app.url(&format!("/pkg/{CSS}"));
    let gzip = client.get(&url).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(header(&gzip, CONTENT_ENCODING), "gzip");
    assert_eq!(gunzip(&gzip.bytes().await.unwrap()), "body { margin: 0 }\n".repeat(50));
    let plain = client.get(&url).send().await.unwrap();
    assert_eq!(header(&plain, CONTENT_ENCODING), "");
    assert_eq!(header(&plain, CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert_eq!(plain.text().await.unwrap(), "body { margin: 0 }\n".repeat(50));
}

#[tokio::test]
async fn a_bundle_file_without_a_hash_is_asked_for_again_each_time() {
    let site = debug_site();
    let app = app_serving(site.path()).await;
    let response = reqwest::Client::new().get(app.url("/pkg/skalin.css")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CACHE_CONTROL), "no-cache");
}

#[tokio::test]
async fn a_bundle_file_without_a_precompressed_copy_is_compressed_on_the_way() {
    let site = debug_site();
    let app = app_serving(site.path()).await;
    let response =
        reqwest::Client::new().get(app.url("/pkg/skalin.css")).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(header(&response, CONTENT_ENCODING), "gzip");
    assert_eq!(gunzip(&response.bytes().await.unwrap()), "body { margin: 0 }\n".repeat(50));
}

#[tokio::test]
async fn pages_are_compressed_for_a_browser_that_accepts_it_and_never_kept() {
    let site = release_site();
    let app = app_serving(site.path()).await;
    let client = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = client.get(app.url("/customers")).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CONTENT_ENCODING), "gzip");
    assert!(!header(&response, CACHE_CONTROL).contains("immutable"), "{:?}", response.headers());
    let page = without_markers(&gunzip(&response.bytes().await.unwrap()));
    assert!(page.contains("<h1>Customers</h1>"), "{page}");
    assert!(page.contains(&format!("/pkg/{WASM}")), "{page}");
}

#[tokio::test]
async fn server_functions_answers_are_compressed_for_a_browser_that_accepts_it() {
    let app = spawn_app().await;
    seed_customers(app.store.as_ref(), 30).await;
    let client = signed_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = client
        .post(app.url(<app::server_fns::ListCustomers as leptos::server_fn::ServerFn>::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header(ACCEPT_ENCODING, "br")
        .body("page=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CONTENT_ENCODING), "br");
    let json: serde_json::Value = serde_json::from_slice(&unbrotli(&response.bytes().await.unwrap())).unwrap();
    assert!(json.to_string().contains("Customer 001"), "{json}");
}
