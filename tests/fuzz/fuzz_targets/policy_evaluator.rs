//! The IP-restriction analysis never panics on any policy document, decoded or not.
#![no_main]
use aws_keyaudit::policy::{Options, Principal, Source, analyse, decode_document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(document) = decode_document(text) else { return };
    let principal = Principal { name: "u".into(), arn: "arn:aws:iam::1:user/u".into(), ..Principal::default() };
    let sources = vec![
        Source { path: "user inline".into(), policy: "p".into(), document: document.clone() },
        Source { path: "boundary".into(), policy: "b".into(), document },
    ];
    let _ = analyse(&principal, &sources, &[], &Options::default());
    let _ = analyse(&principal, &sources[..1], &["arn:aws:iam::aws:policy/X".into()], &Options::default());
});
