//! The credential_process output parser never panics, and never puts a secret in its errors.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = shared::credentials::process::parse_output("fuzz", data) {
        let text = e.to_string();
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data)
            && let Some(secret) = v.get("SecretAccessKey").and_then(|s| s.as_str()).filter(|s| s.len() >= 8)
        {
            assert!(!text.contains(secret), "a secret in an error: {text}");
        }
    }
});
