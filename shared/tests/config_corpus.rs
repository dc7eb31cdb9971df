//! The config corpus (`tests/data/config/*.ini`: the AWS CLI guide's examples and the shapes
//! that break other tools) round-trips byte for byte, and so does anything a property test
//! throws at the document.

use proptest::prelude::*;
use shared::config::doc::Document;

fn corpus() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 20, "the corpus is in {}", dir.display());
    files
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

#[test]
fn corpus_round_trips_byte_for_byte() {
    for (name, text) in corpus() {
        assert_eq!(Document::parse(&text).render(), text, "{name}");
    }
}

#[test]
fn corpus_edits_touch_only_their_lines() {
    for (name, text) in corpus() {
        let mut doc = Document::parse(&text);
        doc.set("profile zz-added", "region", "us-east-1").unwrap();
        let out = doc.render();
        assert!(
            out.starts_with(&text) || out.starts_with(text.trim_end_matches(['\r', '\n'])),
            "{name}: the original bytes come first"
        );
        assert_eq!(Document::parse(&out).get("profile zz-added", "region").as_deref(), Some("us-east-1"), "{name}");
    }
}

fn ini_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ \t]{0,2}\\[[a-z \"-]{0,12}\\][^\r\n]{0,8}",
        "[ \t]{0,3}[a-zA-Z_]{0,10}[ ]{0,2}[=:][ ]{0,2}[^\r\n]{0,20}",
        "[ \t]{0,4}[#;][^\r\n]{0,20}",
        "[ \t]{0,3}",
        "[^\r\n]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_round_trips(lines in proptest::collection::vec((ini_line(), prop_oneof!["\n", "\r\n", ""]), 0..30)) {
        let text: String = lines.iter().map(|(l, e)| format!("{l}{e}")).collect();
        prop_assert_eq!(Document::parse(&text).render(), text);
    }

    #[test]
    fn arbitrary_unicode_round_trips(text in "\\PC{0,200}") {
        prop_assert_eq!(Document::parse(&text).render(), text);
    }
}
