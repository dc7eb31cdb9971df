//! The INI document round-trips any text byte for byte, an edit lands where asked, and the
//! model and planner never panic on what they parse.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::config::doc::Document;
use shared::config::{AwsFiles, FileKind, resolve};
use shared::os::Env;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let doc = Document::parse(text);
    assert_eq!(doc.render(), text);
    let mut edited = doc.clone();
    edited.set("profile fuzz", "region", "us-east-1").expect("a plain value is always written and reads back");
    assert_eq!(Document::parse(&edited.render()).get("profile fuzz", "region").as_deref(), Some("us-east-1"));
    let files = AwsFiles::from_text(text, text);
    let _ = files.botocore_view(FileKind::Config);
    let env = Env::from_pairs([("HOME", "/home/fuzz")]);
    for name in files.profile_names().into_iter().take(20) {
        let _ = resolve::plan(&files, &env, &name);
    }
});
