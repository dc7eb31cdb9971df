//! Render a value into INI, then parse it back: for any profile name, key and value (split from
//! the input at NUL bytes) over any base document, `Document::set` either refuses and changes
//! nothing, or writes text that the parser (and the botocore-exact model) reads back exactly,
//! touching no other section.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::config::AwsFiles;
use shared::config::doc::Document;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(4, '\0');
    let (Some(name), Some(key), Some(value)) = (parts.next(), parts.next(), parts.next()) else { return };
    let base = parts.next().unwrap_or("");
    let mut doc = Document::parse(base);
    let before = doc.render();
    let section = format!("profile {name}");
    let others: Vec<_> = doc.sections().into_iter().filter(|s| s.name != section).map(|s| (s.name.clone(), doc.properties(s.body))).collect();
    match doc.set(&section, key, value) {
        Err(_) => assert_eq!(doc.render(), before, "a refused value changes nothing"),
        Ok(()) => {
            let after = doc.render();
            let back = Document::parse(&after);
            assert_eq!(back.get(&section, key).as_deref(), Some(value), "reads back");
            let others_after: Vec<_> = back
                .sections()
                .into_iter()
                .filter(|s| s.name != section)
                .map(|s| (s.name.clone(), back.properties(s.body)))
                .collect();
            assert_eq!(others.len(), others_after.len(), "no section appears or vanishes");
            for ((n1, p1), (n2, p2)) in others.iter().zip(&others_after) {
                assert_eq!(n1, n2);
                let strip = |p: &Vec<(String, String, usize)>| p.iter().map(|(k, v, _)| (k.clone(), v.clone())).collect::<Vec<_>>();
                assert_eq!(strip(p1), strip(p2), "[{n1}] is untouched");
            }
            // The model check needs one section that can name this profile (a `[profile "x"]`
            // or `[default]` beside `[profile x]` is the user's own ambiguity).
            let candidates = back.sections().iter().filter(|s| s.name.contains(name) || s.name == "default").count();
            if name != "default" && candidates == 1 {
                let files = AwsFiles::from_text(&after, "");
                if let Ok(p) = files.profile(name) {
                    assert_eq!(p.settings.get(key).map(|s| s.value.as_str()), Some(value), "the model reads it too");
                }
            }
        }
    }
});
