//! The loopback redirect of OAuth sign-ins (RFC 8252): `http://127.0.0.1:<port>/oauth/callback`,
//! where the browser lands with `code` and `state` after an IAM Identity Center or `aws login`
//! sign-in.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
