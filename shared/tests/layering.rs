//! The module order of `shared/src/lib.rs` is a rule, not a hope: every module may import only
//! the modules declared before it, so any one could become its own crate.

use std::path::Path;

fn sources(path: &Path, out: &mut String) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap().flatten() {
            sources(&e.path(), out);
        }
    } else if path.extension().is_some_and(|x| x == "rs") {
        let text = std::fs::read_to_string(path).unwrap();
        // Unit tests may reach anywhere.
        out.push_str(text.split("#[cfg(test)]").next().unwrap_or_default());
    }
}

#[test]
fn modules_import_only_modules_declared_before_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let order: Vec<&str> =
        lib.lines().filter_map(|l| l.strip_prefix("pub mod ").and_then(|r| r.strip_suffix(';'))).collect();
    assert!(order.len() >= 10, "{order:?}");
    for (i, m) in order.iter().enumerate() {
        let mut text = String::new();
        let file = src.join(format!("{m}.rs"));
        let path = if file.exists() { file } else { src.join(m) };
        sources(&path, &mut text);
        for later in &order[i + 1..] {
            assert!(
                !text.contains(&format!("crate::{later}::"))
                    && !text.contains(&format!("crate::{later};"))
                    && !text.contains(&format!("crate::{{{later}")),
                "`{m}` imports `{later}`, which lib.rs declares after it"
            );
        }
    }
}
