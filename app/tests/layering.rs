//! The app's top-level modules import one another in one direction only, and the parts
//! that run without a browser (the Intercom client, the sync engine, the store) know
//! nothing of Leptos. Read from the source, so that a new import that breaks either rule
//! fails here rather than in a review.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Modules that must build without Leptos: they are used by the command line, the worker
/// and the tests as plain Rust.
const WITHOUT_LEPTOS: &[&str] = &["intercom", "sync", "store", "integration", "secrets", "config", "auth"];

/// The Intercom client speaks Intercom's API and nothing of Skalin's.
const LEAVES: &[&str] = &["intercom", "domain", "secrets"];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    for entry in fs::read_dir(path).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() || path.extension().is_some_and(|e| e == "rs") {
            files.extend(rust_files(&path));
        }
    }
    files
}

/// The top-level modules each `crate::…` path in `source` names, `crate::{a, b::c}` included.
fn named_modules(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in source.match_indices("crate::") {
        let rest = &source[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                found.extend(first_ident(item.trim()));
            }
        } else {
            found.extend(first_ident(rest));
        }
    }
    found
}

fn first_ident(s: &str) -> Option<String> {
    let ident: String = s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!ident.is_empty()).then_some(ident)
}

fn source_of(module_path: &Path) -> String {
    rust_files(module_path).iter().map(|f| fs::read_to_string(f).unwrap()).collect::<Vec<_>>().join("\n")
}

fn app_modules() -> BTreeMap<String, PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name != "lib" {
            modules.insert(name, path);
        }
    }
    modules
}

fn import_graph() -> Graph {
    let modules = app_modules();
    modules
        .iter()
        .map(|(name, path)| {
            let deps =
                named_modules(&source_of(path)).into_iter().filter(|d| d != name && modules.contains_key(d)).collect();
            (name.clone(), deps)
        })
        .collect()
}

/// A cycle through `start`, as the list of modules walked, if there is one.
fn cycle_from(graph: &Graph, start: &str) -> Option<Vec<String>> {
    fn walk(graph: &Graph, start: &str, at: &str, path: &mut Vec<String>, seen: &mut BTreeSet<String>) -> bool {
        for next in graph.get(at).into_iter().flatten() {
            path.push(next.clone());
            if next == start || (seen.insert(next.clone()) && walk(graph, start, next, path, seen)) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = import_graph();
    assert!(graph.len() > 5, "the app's modules were not found: {graph:?}");
    for module in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, module) {
            panic!("modules import each other in a circle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_intercom_client_the_domain_and_the_secrets_import_no_other_module() {
    let graph = import_graph();
    for leaf in LEAVES {
        let deps = &graph[*leaf];
        assert!(deps.is_empty(), "`{leaf}` must stand alone but imports {deps:?}");
    }
}

#[test]
fn the_engine_the_client_and_the_store_know_nothing_of_leptos() {
    let modules = app_modules();
    for name in WITHOUT_LEPTOS {
        for file in rust_files(&modules[*name]) {
            let source = fs::read_to_string(&file).unwrap();
            assert!(!source.contains("leptos"), "{} names Leptos", file.display());
        }
    }
}

#[test]
fn the_checks_see_grouped_imports_and_find_a_planted_circle() {
    let names = named_modules("use crate::{store::Store, sync};\nlet x = crate::domain::Zone::Us;");
    assert_eq!(names, ["domain", "store", "sync"].map(String::from).into());

    let mut graph = Graph::new();
    graph.insert("state".into(), ["sync".into()].into());
    graph.insert("sync".into(), ["integration".into()].into());
    graph.insert("integration".into(), ["state".into()].into());
    assert_eq!(cycle_from(&graph, "state").unwrap(), ["state", "sync", "integration", "state"]);
    graph.get_mut("integration").unwrap().clear();
    assert_eq!(cycle_from(&graph, "state"), None);
}
