//! Imports point down the floors of ARCHITECTURE.md, and the top-level modules have no cycles.
//!
//! Reads `src/` as text: every `crate::`, `$crate::` and `super::` path outside comments,
//! string literals and `#[cfg(test)]` items is resolved to the file that defines it (through
//! the module tree, or, for a name used from the crate root, the file that defines an item of
//! that name at its top level), and the file's floor must not be below the floor of what it
//! names. Tests may use anything, so they are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Floor {
    Scalar,
    Kernels,
    Core,
    Layers,
    Losses,
    Optimizers,
    Training,
    Outer,
}

/// Path prefixes (relative to the crate root) and their floors; the longest prefix wins.
const FLOORS: &[(&str, Floor)] = &[
    ("src/matmul", Floor::Kernels),
    ("src/simd.rs", Floor::Kernels),
    ("src/x86.rs", Floor::Kernels),
    ("src/x86/", Floor::Kernels),
    // The int8 kernels (x86 vectors, Cortex-M DSP) serve the quantised layers and take their types.
    ("src/x86_int8.rs", Floor::Layers),
    ("src/arm_int8.rs", Floor::Layers),
    ("src/lib.rs", Floor::Core),
    // The scalar, which the kernels are generic over.
    ("src/real", Floor::Scalar),
    ("src/tensors.rs", Floor::Core),
    ("src/rng.rs", Floor::Core),
    ("src/init.rs", Floor::Core),
    ("src/const_expr.rs", Floor::Core),
    ("src/counters.rs", Floor::Core),
    // The layer traits (`Parameters`, `Layer`, `Stream`, `Activation` and their composition)
    // and the activation visitor: core, although they sit beside the layers.
    ("src/layer.rs", Floor::Core),
    ("src/layer/activation.rs", Floor::Core),
    ("src/layer/stream.rs", Floor::Core),
    ("src/layer/visit.rs", Floor::Core),
    ("src/layer/", Floor::Layers),
    ("src/mlp.rs", Floor::Layers),
    // Int8 inference: layers of their own, converted from the f32 layers.
    ("src/quantised", Floor::Layers),
    ("src/loss", Floor::Losses),
    ("src/optim", Floor::Optimizers),
    ("src/workspace.rs", Floor::Training),
    ("src/train", Floor::Training),
    ("src/predict.rs", Floor::Training),
    ("src/format", Floor::Outer),
    ("src/data", Floor::Outer),
    ("src/diagnostics", Floor::Outer),
    ("src/gradcheck.rs", Floor::Outer),
    ("src/guide", Floor::Outer),
];

fn floor_of(file: &str) -> Floor {
    FLOORS
        .iter()
        .filter(|(prefix, _)| file.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .unwrap_or_else(|| panic!("{file} has no floor: add it to FLOORS in tests/import_floors.rs"))
        .1
}

/// The source with comments, string and character literals blanked out (lengths kept).
fn strip(source: &str) -> String {
    let b = source.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            let end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let end = source[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'r' && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#')) && !ident(b, i) {
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let close = format!("\"{}", "#".repeat(hashes));
            let start = i + 2 + hashes;
            let end = source[start..]
                .find(&close)
                .map_or(b.len(), |p| start + p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\u{7f}'); otherwise a lifetime.
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..].iter().position(|&c| c == b'\'').map(|p| i + 2 + p + 1)
            } else {
                let len = source[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 2 + len)
            };
            match end {
                Some(end) => {
                    blank(&mut out, i, end);
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    let text = String::from_utf8(out).unwrap();
    remove_test_items(&text)
}

/// Whether the byte before `i` continues an identifier.
fn ident(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// Blanks every item marked `#[cfg(test)]` (a module, a function, a `use`).
fn remove_test_items(text: &str) -> String {
    let mut out = text.as_bytes().to_vec();
    let mut from = 0;
    while let Some(p) = text[from..].find("#[cfg(test)]") {
        let start = from + p;
        let rest = &text[start..];
        let semicolon = rest.find(';');
        let brace = rest.find('{');
        let end = match (semicolon, brace) {
            (Some(s), Some(b)) if s < b => start + s + 1,
            (_, Some(b)) => {
                let mut depth = 0;
                let mut end = text.len();
                for (k, c) in text[start + b..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = start + b + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (Some(s), None) => start + s + 1,
            (None, None) => text.len(),
        };
        for c in &mut out[start..end] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = end;
    }
    String::from_utf8(out).unwrap()
}

/// Every path that follows `prefix` (`crate::`, `super::`), with `{a, b::c}` groups expanded.
fn paths_after(text: &str, prefix: &str) -> Vec<(usize, Vec<String>)> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(p) = text[from..].find(prefix) {
        let start = from + p;
        from = start + prefix.len();
        // `crate::` inside `$crate::` counts; inside an identifier (`mycrate::`) it does not.
        if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
            continue;
        }
        // `super::super::` is read once, from its first `super`.
        if prefix == "super::" && text[..start].trim_end().ends_with("super::") {
            continue;
        }
        let line = text[..start].matches('\n').count() + 1;
        let mut position = from;
        for path in parse_tree(text, &mut position) {
            found.push((line, path));
        }
    }
    found
}

/// Parses `a::b::{c, d::e}` from `position`, returning every full path.
fn parse_tree(text: &str, position: &mut usize) -> Vec<Vec<String>> {
    let b = text.as_bytes();
    let skip_space = |p: &mut usize| {
        while *p < b.len() && b[*p].is_ascii_whitespace() {
            *p += 1;
        }
    };
    let mut segments = Vec::new();
    loop {
        skip_space(position);
        if *position < b.len() && b[*position] == b'{' {
            *position += 1;
            let mut all = Vec::new();
            loop {
                skip_space(position);
                if *position >= b.len() || b[*position] == b'}' {
                    *position += 1;
                    break;
                }
                for tail in parse_tree(text, position) {
                    let mut path = segments.clone();
                    path.extend(tail);
                    all.push(path);
                }
                skip_space(position);
                if *position < b.len() && b[*position] == b',' {
                    *position += 1;
                }
            }
            return all;
        }
        let start = *position;
        while *position < b.len() && (b[*position].is_ascii_alphanumeric() || b[*position] == b'_') {
            *position += 1;
        }
        if *position == start {
            break;
        }
        segments.push(text[start..*position].to_owned());
        if text[*position..].starts_with("::") {
            *position += 2;
        } else {
            break;
        }
    }
    // `use crate::x as y`: the alias is not part of the path.
    vec![segments]
}

/// The crate as files, their module paths and their cleaned text.
struct Crate {
    root: PathBuf,
    files: BTreeMap<String, String>,
    /// Names defined at the top level of a file (items and `macro_rules!`), by name.
    definitions: BTreeMap<String, BTreeSet<String>>,
}

impl Crate {
    fn read(root: &Path) -> Self {
        let mut files = BTreeMap::new();
        let mut stack = vec![root.join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let name = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                    files.insert(name, strip(&std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        let mut definitions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (file, text) in &files {
            for line in text.lines() {
                let words: Vec<&str> = line
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '!'))
                    .filter(|w| !w.is_empty())
                    .collect();
                let name = match words.as_slice() {
                    ["pub", "const", "fn", name, ..] => Some(*name),
                    ["pub", kind, name, ..]
                        if ["struct", "enum", "trait", "type", "fn", "const", "static", "mod"].contains(kind) =>
                    {
                        Some(*name)
                    }
                    ["macro_rules!", name, ..] => Some(*name),
                    _ => None,
                };
                if let Some(name) = name.filter(|_| !line.starts_with(char::is_whitespace)) {
                    definitions.entry(name.to_owned()).or_default().insert(file.clone());
                }
            }
        }
        Self {
            root: root.to_owned(),
            files,
            definitions,
        }
    }

    /// The file of the module at `modules` (`["layer", "dense"]`), if there is one.
    fn module_file(&self, modules: &[String]) -> Option<String> {
        let joined = modules.join("/");
        [format!("src/{joined}.rs"), format!("src/{joined}/mod.rs")]
            .into_iter()
            .find(|f| self.files.contains_key(f))
    }

    /// The module path of a file (`src/layer/dense.rs` → `["layer", "dense"]`).
    fn modules_of(file: &str) -> Vec<String> {
        let inner = file
            .trim_start_matches("src/")
            .trim_end_matches(".rs")
            .trim_end_matches("/mod");
        if inner == "lib" {
            Vec::new()
        } else {
            inner.split('/').map(str::to_owned).collect()
        }
    }

    /// The files a path may name: the deepest module on it, or, for a name used from the crate
    /// root, the files that define it.
    fn resolve(&self, path: &[String]) -> Result<Vec<String>, String> {
        let mut deepest = None;
        for len in 1..=path.len() {
            match self.module_file(&path[..len]) {
                Some(file) => deepest = Some(file),
                None => break,
            }
        }
        if let Some(file) = deepest {
            return Ok(vec![file]);
        }
        let first = &path[0];
        // Re-exported dependencies and `self` are not the crate's modules.
        if ["nalgebra", "bytemuck", "self"].contains(&first.as_str()) {
            return Ok(Vec::new());
        }
        match self.definitions.get(first) {
            Some(files) => Ok(files.iter().cloned().collect()),
            None => Err(format!("cannot find `{}`", path.join("::"))),
        }
    }
}

struct Violation {
    file: String,
    line: usize,
    path: String,
    target: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} ({:?}) names `{}` in {} ({:?})",
            self.file,
            self.line,
            floor_of(&self.file),
            self.path,
            self.target,
            floor_of(&self.target)
        )
    }
}

/// The node of `file` in the module graph: its top-level module, except that the kernels
/// (`matmul`, `simd`, `x86`: the vector tiles of `x86` are `matmul`'s, dispatched from it) are one,
/// and so are the int8 layers and their kernels (`quantised`, `x86_int8`, `arm_int8`), for the
/// same reason.
fn unit(file: &str) -> String {
    if floor_of(file) == Floor::Kernels {
        return "kernels".to_owned();
    }
    if file.starts_with("src/quantised") || file == "src/x86_int8.rs" || file == "src/arm_int8.rs" {
        return "quantised".to_owned();
    }
    Crate::modules_of(file).swap_remove(0)
}

/// Every upward import, and the edges between top-level modules.
fn check(krate: &Crate) -> (Vec<Violation>, Vec<String>, BTreeMap<String, BTreeSet<String>>) {
    let mut violations = Vec::new();
    let mut unresolved = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in &krate.files {
        if file == "src/lib.rs" {
            continue;
        }
        let here = Crate::modules_of(file);
        let mut named = Vec::new();
        for (line, path) in paths_after(text, "crate::") {
            named.push((line, path));
        }
        for (line, tail) in paths_after(text, "super::") {
            let mut ups = 1;
            let mut tail = tail;
            while tail.first().is_some_and(|s| s == "super") {
                ups += 1;
                tail.remove(0);
            }
            // `super` of a file's module is its parent; `mod.rs` is not used in this crate.
            let mut path: Vec<String> = here[..here.len().saturating_sub(ups)].to_vec();
            path.extend(tail);
            if !path.is_empty() {
                named.push((line, path));
            }
        }
        for (line, path) in named {
            let targets = match krate.resolve(&path) {
                Ok(targets) => targets,
                Err(e) => {
                    unresolved.push(format!("{file}:{line}: {e}"));
                    continue;
                }
            };
            for target in targets {
                if target == *file || target == "src/lib.rs" {
                    continue;
                }
                if floor_of(&target) > floor_of(file) {
                    violations.push(Violation {
                        file: file.clone(),
                        line,
                        path: path.join("::"),
                        target: target.clone(),
                    });
                }
                let (from, to) = (unit(file), unit(&target));
                if from != to {
                    edges.entry(from).or_default().insert(to);
                }
            }
        }
    }
    (violations, unresolved, edges)
}

/// A cycle among the top-level modules, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
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
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn imports_point_down_the_floors_without_cycles() {
    let krate = Crate::read(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(
        krate.files.len() > 50,
        "read only {} files under {}",
        krate.files.len(),
        krate.root.display()
    );
    let (violations, unresolved, edges) = check(&krate);
    assert!(
        unresolved.is_empty(),
        "paths the check cannot place:\n{}",
        unresolved.join("\n")
    );
    let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(
        listed.is_empty(),
        "imports that point up a floor:\n{}",
        listed.join("\n")
    );
    if let Some(cycle) = find_cycle(&edges) {
        panic!("the top-level modules form a cycle: {}", cycle.join(" -> "));
    }
}

/// The check itself: an upward import and a cycle written into a copy of a file are found.
#[test]
fn the_check_finds_an_upward_import_and_a_cycle() {
    let mut krate = Crate::read(Path::new(env!("CARGO_MANIFEST_DIR")));
    let rng = krate.files.get_mut("src/rng.rs").unwrap();
    rng.push_str("\nuse crate::format::Error;\n");
    let (violations, _, edges) = check(&krate);
    assert!(
        violations
            .iter()
            .any(|v| v.file == "src/rng.rs" && v.path == "format::Error"),
        "the upward import was not found"
    );
    let cycle = {
        let mut edges = edges;
        edges.entry("rng".into()).or_default().insert("format".into());
        find_cycle(&edges)
    };
    assert!(cycle.is_some(), "format -> rng -> format is a cycle");
}
