//! No cycles between the server's modules.
//!
//! Reads `src/**/*.rs` (not `main.rs`, a crate of its own), finds every path
//! that starts with `crate::` or `super::` (in `use` declarations and in
//! code alike) and checks, for every module, that its children do not depend
//! on each other in a cycle:
//!
//! - At the top, the children of the crate (`store`, `service`,
//!   `dispatcher` …), each with everything inside it: a file in
//!   `dispatcher/` that names `crate::service::…` makes `dispatcher` depend
//!   on `service`.
//! - Inside a directory module, its files (`store::events`,
//!   `store::group_commit` …), each with its own inline modules.
//!
//! A parent owns its children: what `mod.rs` (or `lib.rs`) says about its
//! own children (declaring them, re-exporting them, calling them) is not a
//! dependency of one child on another, so it is not an edge. A child naming
//! its parent's items is no edge either, unless the parent only re-exports
//! the item from another child: `super::Ingestion` in `store/group_commit.rs`,
//! where `store/mod.rs` has `pub use events::Ingestion`, is an edge to
//! `store::events`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path from the crate root (`[]` for the root itself).
type ModPath = Vec<String>;

#[test]
fn modules_of_the_server_depend_on_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let crate_ = Crate::read(&src);
    let cycles = crate_.cycles();
    assert!(
        cycles.is_empty(),
        "modules of the server depend on each other in a cycle:\n{}",
        cycles.join("\n")
    );
}

/// The finder itself: a cycle written in a scratch crate is found.
#[test]
fn a_cycle_between_siblings_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |path: &str, text: &str| {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n");
    write("a.rs", "use crate::b::Thing;\n");
    write(
        "b/mod.rs",
        "mod x;\nmod y;\npub use x::Thing;\nuse y::Other;\n",
    );
    // b::x and b::y, through the parent's re-export; b depends on c.
    write("b/x.rs", "use super::Other;\npub struct Thing;\n");
    write(
        "b/y.rs",
        "// crate::a::ignored in a comment\npub struct Other(super::x::Thing);\nfn f() { crate::c::g(); }\n",
    );
    // c back to a: a -> b -> c -> a.
    write(
        "c.rs",
        "pub fn g() { let _ = \"crate::b::in_a_string\"; }\n#[cfg(test)]\nmod tests {\n    use super::*;\n    fn h() { crate::a::thing(); }\n}\n",
    );
    let cycles = Crate::read(src).cycles();
    assert_eq!(
        cycles,
        [
            "crate: a -> b -> c -> a (all edges among them: a -> b, b -> c, c -> a)".to_owned(),
            "crate::b: x -> y -> x (all edges among them: x -> y, y -> x)".to_owned()
        ]
    );
}

struct Crate {
    /// Every module that has a file, and the paths it names, resolved to
    /// absolute paths.
    references: BTreeMap<ModPath, Vec<ModPath>>,
    /// Every module, inline ones included.
    modules: BTreeSet<ModPath>,
    /// What each module's `use` declarations bring in: name -> absolute path.
    imports: BTreeMap<ModPath, BTreeMap<String, ModPath>>,
}

impl Crate {
    fn read(src: &Path) -> Crate {
        let mut crate_ = Crate {
            references: BTreeMap::new(),
            modules: BTreeSet::new(),
            imports: BTreeMap::new(),
        };
        let files: Vec<(ModPath, PathBuf)> = rust_files(src)
            .into_iter()
            .filter(|file| file.strip_prefix(src).unwrap() != Path::new("main.rs"))
            .map(|file| (module_of(file.strip_prefix(src).unwrap()), file))
            .collect();
        crate_
            .modules
            .extend(files.iter().map(|(module, _)| module.clone()));
        for (module, file) in &files {
            let code = strip(&std::fs::read_to_string(file).unwrap());
            crate_.scan(module, &code);
        }
        crate_
    }

    /// Records the paths `code` (a file of `module`) names, module by
    /// module of its inline modules.
    fn scan(&mut self, module: &ModPath, code: &str) {
        self.modules.insert(module.clone());
        let chars: Vec<char> = code.chars().collect();
        // Inline modules open at a brace depth and end when it closes.
        let mut scopes: Vec<(ModPath, usize)> = vec![(module.clone(), 0)];
        let mut depth = 0;
        let mut i = 0;
        while i < chars.len() {
            let current = scopes.last().unwrap().0.clone();
            let c = chars[i];
            if c == '{' {
                depth += 1;
                i += 1;
                continue;
            }
            if c == '}' {
                depth -= 1;
                if scopes.len() > 1 && scopes.last().unwrap().1 == depth {
                    scopes.pop();
                }
                i += 1;
                continue;
            }
            if !is_ident_char(c) || (i > 0 && is_ident_char(chars[i - 1])) {
                i += 1;
                continue;
            }
            let word = ident_at(&chars, i);
            if word == "mod" {
                let mut j = skip_space(&chars, i + 3);
                let name = ident_at(&chars, j);
                j = skip_space(&chars, j + name.len());
                if !name.is_empty() && chars.get(j) == Some(&'{') {
                    let mut inner = current.clone();
                    inner.push(name.clone());
                    self.modules.insert(inner.clone());
                    scopes.push((inner, depth));
                    i = j;
                    continue;
                }
            }
            if word == "use" {
                let end = (i..chars.len()).find(|&k| chars[k] == ';').unwrap();
                let tree: String = chars[i + 3..end].iter().collect();
                for (name, path) in use_tree(tree.trim()) {
                    let Some(absolute) = absolute(&current, &path, &self.modules) else {
                        continue;
                    };
                    if name != "*" && name != "self" {
                        self.imports
                            .entry(current.clone())
                            .or_default()
                            .insert(name, absolute.clone());
                    }
                    self.references
                        .entry(current.clone())
                        .or_default()
                        .push(absolute);
                }
                i = end + 1;
                continue;
            }
            if word == "crate" || word == "super" {
                // A path in code: `crate::store::is_unavailable(…)`.
                let mut end = i;
                loop {
                    let segment = ident_at(&chars, end);
                    end += segment.len();
                    if chars.get(end) == Some(&':') && chars.get(end + 1) == Some(&':') {
                        end += 2;
                    } else {
                        break;
                    }
                }
                let text: String = chars[i..end].iter().collect();
                let path: Vec<String> = text
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if let Some(absolute) = absolute(&current, &path, &self.modules) {
                    self.references
                        .entry(current.clone())
                        .or_default()
                        .push(absolute);
                }
                i = end;
                continue;
            }
            i += word.len();
        }
    }

    /// The module an absolute path lands in, following re-exports; the path
    /// itself when it names a module.
    fn target(&self, path: &ModPath) -> Option<ModPath> {
        let mut path = path.clone();
        for _ in 0..16 {
            // The longest prefix that is a module.
            let module = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| self.modules.contains(prefix))?;
            if module.len() == path.len() {
                return Some(module);
            }
            let name = &path[module.len()];
            match self.imports.get(&module).and_then(|m| m.get(name)) {
                Some(imported) => {
                    let mut next = imported.clone();
                    next.extend(path[module.len() + 1..].iter().cloned());
                    path = next;
                }
                None => return Some(module),
            }
        }
        None
    }

    /// For every module, a cycle among its children, if there is one, as
    /// `parent: a -> b -> a`.
    fn cycles(&self) -> Vec<String> {
        // Edges between siblings: from the child of `parent` that holds the
        // referring module to the child that holds the target.
        let mut graphs: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (from, paths) in &self.references {
            for path in paths {
                let Some(to) = self.target(path) else {
                    continue;
                };
                let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
                // Within one child, or a parent naming its own descendant, or
                // a child naming its ancestor: no edge between siblings.
                if common >= from.len() || common >= to.len() {
                    continue;
                }
                graphs
                    .entry(from[..common].to_vec())
                    .or_default()
                    .entry(from[common].clone())
                    .or_default()
                    .insert(to[common].clone());
            }
        }
        let mut found = Vec::new();
        for (parent, graph) in &graphs {
            let name = std::iter::once("crate".to_owned())
                .chain(parent.iter().cloned())
                .collect::<Vec<_>>()
                .join("::");
            for tangle in tangles(graph) {
                // One cycle through the tangle's first module, which every
                // other module of it lies on some cycle with.
                let within: BTreeMap<String, BTreeSet<String>> = graph
                    .iter()
                    .filter(|(node, _)| tangle.contains(*node))
                    .map(|(node, next)| (node.clone(), &tangle & next))
                    .collect();
                let cycle = find_cycle(&within).unwrap();
                let edges: Vec<String> = within
                    .iter()
                    .flat_map(|(from, to)| to.iter().map(move |to| format!("{from} -> {to}")))
                    .collect();
                found.push(format!(
                    "{name}: {} (all edges among them: {})",
                    cycle.join(" -> "),
                    edges.join(", ")
                ));
            }
        }
        found
    }
}

/// The sets of modules that all depend on each other (the strongly
/// connected components of more than one module), each sorted.
fn tangles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(node) = todo.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|node| (node, reach(node))).collect();
    let mut tangles: Vec<BTreeSet<String>> = Vec::new();
    for (node, from_node) in &reached {
        if tangles.iter().any(|t| t.contains(*node)) {
            continue;
        }
        let tangle: BTreeSet<String> = from_node
            .iter()
            .filter(|other| {
                *other != *node && reached.get(other).is_some_and(|r| r.contains(*node))
            })
            .cloned()
            .chain(std::iter::once((*node).clone()))
            .collect();
        if tangle.len() > 1 {
            tangles.push(tangle);
        }
    }
    tangles
}

/// A cycle in `graph`, from a node back to it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

/// `path` as named in `module`, from the crate root; `None` for paths into
/// other crates.
fn absolute(module: &ModPath, path: &[String], modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    let mut base = module.clone();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") | Some("$crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        // A child module of this one (`use events::NewEvent` in `mod.rs`).
        Some(first) => {
            let mut child = module.clone();
            child.push(first.to_owned());
            if !modules.contains(&child) {
                return None;
            }
        }
        None => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The paths a `use` tree names, each with the name it brings in:
/// `super::{a::B, c as D}` gives `(B, super::a::B)` and `(D, super::c)`.
fn use_tree(tree: &str) -> Vec<(String, Vec<String>)> {
    // One space between words, none around punctuation.
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut tree = words.join(" ");
    for mark in ["::", "{", "}", ","] {
        tree = tree
            .replace(&format!(" {mark}"), mark)
            .replace(&format!("{mark} "), mark);
    }
    let mut out = Vec::new();
    expand(&[], &tree, &mut out);
    out
}

fn expand(prefix: &[String], tree: &str, out: &mut Vec<(String, Vec<String>)>) {
    if tree.is_empty() {
        return;
    }
    if let Some(open) = tree.find('{') {
        let head = &tree[..open];
        let mut base = prefix.to_vec();
        base.extend(
            head.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        let inner = &tree[open + 1..tree.rfind('}').unwrap()];
        for item in split_top(inner) {
            expand(&base, item, out);
        }
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((path, alias)) => (path, Some(alias)),
        None => (tree, None),
    };
    let mut full = prefix.to_vec();
    full.extend(
        path.split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
    if full.last().map(String::as_str) == Some("self") {
        full.pop();
    }
    let name = alias
        .map(str::to_owned)
        .or_else(|| full.last().cloned())
        .unwrap_or_default();
    out.push((name, full));
}

/// Splits `a, {b, c}, d` at its top-level commas.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The code without comments, string or character literals (emptied).
fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if (c == 'r' || c == 'b')
            && (i == 0 || !is_ident_char(chars[i - 1]))
            && raw_string_hashes(&chars, i).is_some()
        {
            let (start, hashes) = raw_string_hashes(&chars, i).unwrap();
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            i = start;
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                i += 1;
            }
            i += closing.len();
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (chars.get(i + 2) == Some(&'\'') || next == Some('\\')) {
            // A character literal, not a lifetime.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// For a raw string starting at `i` (`r"`, `r#"`, `br#"` …): where its text
/// starts and how many `#` close it.
fn raw_string_hashes(chars: &[char], mut i: usize) -> Option<(usize, usize)> {
    if chars[i] == 'b' {
        i += 1;
    }
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let mut hashes = 0;
    while chars.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    (chars.get(i) == Some(&'"')).then_some((i + 1, hashes))
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn ident_at(chars: &[char], i: usize) -> String {
    chars[i.min(chars.len())..]
        .iter()
        .take_while(|c| is_ident_char(**c))
        .collect()
}

fn skip_space(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

/// `store/events.rs` -> `[store, events]`; `store/mod.rs` -> `[store]`.
fn module_of(relative: &Path) -> ModPath {
    let mut module: ModPath = relative
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(module.last().map(String::as_str), Some("mod") | Some("lib")) {
        module.pop();
    }
    module
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}
