//! The AWS CLI cache readers (role credentials, SSO tokens) never panic: anything corrupt is a miss.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shared::cache::cli::parse(data);
    if let Some(t) = shared::cache::sso::parse_token(data) {
        let _ = t.expires();
        let _ = t.refreshable(time::OffsetDateTime::UNIX_EPOCH);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = shared::cache::parse_timestamp(s);
    }
});
