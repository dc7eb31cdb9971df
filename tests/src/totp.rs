//! RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits): what AWS virtual MFA devices use.
//! Written by hand because it is twenty lines over `hmac`/`sha1`, and the emulator needs the
//! step number itself (to reject a code that was already used), which TOTP crates hide.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The length of one TOTP time step, in seconds.
pub const STEP_SECONDS: u64 = 30;

/// Decodes an RFC 4648 base32 seed (as shown by AWS when a virtual MFA device is created),
/// ignoring case, spaces and padding.
pub fn decode_seed(seed_base32: &str) -> Option<Vec<u8>> {
    let cleaned: String =
        seed_base32.chars().filter(|c| !c.is_whitespace() && *c != '=').map(|c| c.to_ascii_uppercase()).collect();
    data_encoding::BASE32_NOPAD.decode(cleaned.as_bytes()).ok()
}

/// The 6-digit code of `seed` for time step `step` (unix time / 30).
pub fn code_at_step(seed: &[u8], step: u64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(seed).expect("HMAC accepts keys of any length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary =
        u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    format!("{:06}", binary % 1_000_000)
}

/// The code of a base32 seed at unix time `unix_seconds`.
pub fn code_at(seed_base32: &str, unix_seconds: u64) -> Option<String> {
    Some(code_at_step(&decode_seed(seed_base32)?, unix_seconds / STEP_SECONDS))
}

/// The step (within `window` steps either side of `unix_seconds`) whose code is `code`.
pub fn matching_step(seed: &[u8], code: &str, unix_seconds: u64, window: u64) -> Option<u64> {
    let now = unix_seconds / STEP_SECONDS;
    (now.saturating_sub(window)..=now + window).find(|step| code_at_step(seed, *step) == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA1 seed "12345678901234567890", truncated to 6 digits.
    #[test]
    fn rfc6238_vectors() {
        let seed = b"12345678901234567890";
        for (t, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_at_step(seed, t / STEP_SECONDS), code, "t={t}");
        }
    }

    #[test]
    fn base32_seed_and_window() {
        let b32 = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
        assert_eq!(code_at(&b32.to_lowercase(), 59).unwrap(), "287082");
        let seed = decode_seed(&b32).unwrap();
        assert_eq!(matching_step(&seed, "287082", 59 + 30, 1), Some(1));
        assert_eq!(matching_step(&seed, "287082", 59 + 90, 1), None);
        assert!(decode_seed("not base32!").is_none());
    }
}
