//! The loopback redirect of OAuth sign-ins (RFC 8252): `http://127.0.0.1:<port>/oauth/callback`,
//! where the browser lands with `code` and `state` after an IAM Identity Center or `aws login`
//! sign-in.

use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A PKCE pair as the AWS CLI makes it: a 64-character verifier over the unreserved characters
/// and its S256 challenge (url-safe base64 of the SHA-256, without padding).
pub fn pkce_pair() -> (String, String) {
    use rand_core::RngCore;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut rng = rand_core::OsRng;
    // 2^32 mod 66 leaves a bias under one in 65 million per character.
    let verifier: String = (0..64).map(|_| CHARS[rng.next_u32() as usize % CHARS.len()] as char).collect();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Serves the loopback redirect until `/oauth/callback` arrives with our state. A minimal HTTP
/// reader by hand: one GET with a query string is all it must understand, and a web framework
/// here would be most of the binary.
pub async fn wait_for_callback(listener: &tokio::net::TcpListener, state: &str) -> Result<String, String> {
    loop {
        let (mut sock, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        while len < buf.len() {
            let n = sock.read(&mut buf[len..]).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            len += n;
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let head = String::from_utf8_lossy(&buf[..len]).to_string();
        let target = head.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("").to_string();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        if path != "/oauth/callback" {
            let _ = sock.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
            continue;
        }
        let params: Vec<(String, String)> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (crate::os::url_decode(k).unwrap_or_default(), crate::os::url_decode(v).unwrap_or_default()))
            .collect();
        let get = |k: &str| params.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
        let (status, page, result) = if get("state").as_deref() != Some(state) {
            (
                "400 Bad Request",
                "The sign-in answer did not match this login. Run the login again.",
                Err("the redirect's state did not match (a stale or foreign sign-in)".to_string()),
            )
        } else if let Some(e) = get("error") {
            (
                "200 OK",
                "Sign-in was not completed. You can close this window.",
                Err(format!("the sign-in was refused: {e}")),
            )
        } else if let Some(code) = get("code") {
            ("200 OK", "Signed in. You can close this window and return to your terminal.", Ok(code))
        } else {
            ("400 Bad Request", "The redirect had no code.", Err("the redirect had no code".to_string()))
        };
        let body = format!("<!doctype html><html><body><p>{page}</p></body></html>");
        let _ = sock
            .write_all(format!("HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).as_bytes())
            .await;
        return result;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pkce_pairs_are_fresh_and_match() {
        use base64::Engine;
        use sha2::Digest;
        let (v, c) = super::pkce_pair();
        assert_eq!(v.len(), 64);
        assert!(v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        assert_eq!(c, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes())));
        assert_ne!(super::pkce_pair().0, v);
    }
}
