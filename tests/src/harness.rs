//! What every end-to-end test stands on: the emulator started in-process on a free loopback port,
//! moto started from the project's venv, a throwaway HOME with `.aws/`, and commands for the built
//! binaries with a clean, sandbox-pointed environment (no variable of the developer's leaks in).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::emulator::Emulator;
use crate::emulator::faults::Faults;
use crate::emulator::scenario::Scenario;
use crate::emulator::state::LogEntry;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// A program of the project's Python venv (`make venv` creates it).
pub fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("SANDBOX_VENV").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".venv"));
    let path = venv.join("bin").join(name);
    assert!(path.exists(), "{} is missing: run `make venv` first (or set SANDBOX_VENV)", path.display());
    path
}

/// The emulator, serving on 127.0.0.1 from a thread of its own.
pub struct Sandbox {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    /// Direct access to its state.
    pub emulator: Emulator,
}

impl Sandbox {
    /// Starts the emulator with `scenario` on a free port.
    pub fn start(scenario: Scenario) -> Self {
        let emulator = Emulator::new(scenario);
        let (tx, rx) = std::sync::mpsc::channel();
        let emu = emulator.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
                tx.send(listener.local_addr().expect("bound")).expect("harness waits");
                emu.serve(listener).await.expect("serve");
            });
        });
        let addr = rx.recv().expect("the emulator thread reports its address");
        Self { url: format!("http://{addr}"), emulator }
    }

    /// Starts the emulator from a JSON scenario.
    pub fn start_json(scenario: serde_json::Value) -> Self {
        Self::start(serde_json::from_value(scenario).expect("a valid scenario"))
    }

    /// The request log.
    pub fn requests(&self) -> Vec<LogEntry> {
        self.emulator.lock().log.clone()
    }

    /// How many requests of `operation` were made.
    pub fn count(&self, operation: &str) -> usize {
        self.emulator.lock().log.iter().filter(|e| e.operation == operation).count()
    }

    /// Clears the request log.
    pub fn clear_requests(&self) {
        self.emulator.lock().log.clear();
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        self.emulator.lock().faults = crate::emulator::faults::FaultState::new(faults);
    }

    /// The code of MFA device `serial`, `offset` steps from now.
    pub fn totp(&self, serial: &str, offset: i64) -> String {
        let st = self.emulator.lock();
        let seed = st
            .scenario
            .users
            .iter()
            .flat_map(|u| &u.mfa_devices)
            .find(|d| d.serial == serial)
            .map(|d| d.seed.clone())
            .unwrap_or_else(|| panic!("no MFA device {serial} in the scenario"));
        let at = st.now() + offset * crate::totp::STEP_SECONDS as i64;
        crate::totp::code_at(&seed, at as u64).expect("base32 seed")
    }

    /// Approves every pending device code and authorization.
    pub fn approve_all(&self) -> usize {
        let mut st = self.emulator.lock();
        crate::emulator::oidc::decide_devices(&mut st, None, true)
            + crate::emulator::oidc::decide_authorizations(&mut st, None, true)
    }
}

/// moto (IAM, STS) from the venv, with the `/_sandbox/backdate` control route. Killed on drop.
pub struct Moto {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    child: Child,
}

impl Moto {
    /// Starts moto on a free port and waits until it listens.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// As [`Moto::start`], with moto settings in the environment (e.g.
    /// `MOTO_IAM_LOAD_MANAGED_POLICIES=true`: AWS managed policies exist, at a start-up cost).
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(venv_bin("python"))
            .envs(env.iter().copied())
            .arg(workspace_root().join("tests/sandbox/moto_server.py"))
            .args(["--host", "127.0.0.1", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("moto prints its port");
        let port = line.trim().strip_prefix("PORT ").unwrap_or_else(|| panic!("moto did not start: {line:?}"));
        Self { url: format!("http://127.0.0.1:{port}"), child }
    }

    /// `POST /_sandbox/backdate` (see tests/sandbox/moto_server.py).
    pub fn backdate(&self, body: serde_json::Value) -> serde_json::Value {
        self.control("backdate", Some(body))
    }

    /// A control route of tests/sandbox/moto_server.py: `POST /_sandbox/<route>` with `body`, or
    /// `GET` without one; panics unless it succeeds.
    pub fn control(&self, route: &str, body: Option<serde_json::Value>) -> serde_json::Value {
        let client = reqwest::blocking::Client::new();
        let url = format!("{}/_sandbox/{route}", self.url);
        let resp = match body {
            Some(b) => client.post(url).json(&b).send(),
            None => client.get(url).send(),
        }
        .expect("moto answers");
        let status = resp.status();
        let value: serde_json::Value = resp.json().expect("JSON");
        assert!(status.is_success(), "{route} failed: {value}");
        value
    }

    /// CPU seconds moto has used so far (user + system, from /proc; 0 where there is none).
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) : utime is the 14th, stime the 15th.
        let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default();
        let f: Vec<f64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
        let ticks = f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0);
        ticks / 100.0
    }

    /// Wipes every moto backend.
    pub fn reset(&self) {
        reqwest::blocking::Client::new().post(format!("{}/moto-api/reset", self.url)).send().expect("moto answers");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A throwaway HOME with `.aws/` (0700), and the environment that points everything at it.
pub struct Home {
    dir: tempfile::TempDir,
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

impl Home {
    /// A new empty HOME.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join(".aws")).expect("mkdir .aws");
        Self { dir }
    }

    /// The HOME directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `~/.aws/<name>`
    pub fn aws(&self, name: &str) -> PathBuf {
        self.dir.path().join(".aws").join(name)
    }

    /// Writes `~/.aws/config`.
    pub fn config(&self, text: &str) -> &Self {
        std::fs::write(self.aws("config"), text).expect("write config");
        self
    }

    /// Writes `~/.aws/credentials`.
    pub fn credentials(&self, text: &str) -> &Self {
        std::fs::write(self.aws("credentials"), text).expect("write credentials");
        self
    }

    /// Caches an SSO access token for `session` (as `aws-sso-sync login` would), valid for an hour
    /// by its own date, so a tool needs no browser. The token may be one the portal never issued.
    pub fn sso_token(&self, session: &str, access_token: &str) -> &Self {
        use sha1::Digest;
        let exp = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
            .format(&time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
            .expect("a formattable time");
        let dir = self.path().join(".aws/sso/cache");
        std::fs::create_dir_all(&dir).expect("mkdir sso cache");
        std::fs::write(
            dir.join(format!("{}.json", hex::encode(sha1::Sha1::digest(session.as_bytes())))),
            serde_json::json!({"startUrl": fixture::START_URL, "region": "us-east-1", "accessToken": access_token, "expiresAt": exp})
                .to_string(),
        )
        .expect("write the token");
        self
    }

    /// A command with a clean environment: HOME here, no AWS_* variable of the caller, IMDS off,
    /// one attempt per call unless a test asks for more.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("NO_COLOR", "1")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null());
        cmd
    }

    /// A command pointed at the sandbox: STS, SSO and SSO-OIDC at the emulator, IAM at moto.
    pub fn command_with(
        &self,
        program: impl AsRef<std::ffi::OsStr>,
        sandbox: &Sandbox,
        moto: Option<&Moto>,
    ) -> Command {
        let mut cmd = self.command(program);
        cmd.env("AWS_ENDPOINT_URL_STS", &sandbox.url)
            .env("AWS_ENDPOINT_URL_SSO", &sandbox.url)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &sandbox.url)
            .env("AWS_ENDPOINT_URL_SIGNIN", &sandbox.url);
        // IAM goes to moto, or to the emulator (which answers only the organisation-audit slice, see
        // emulator::iam), so nothing ever leaves the machine.
        cmd.env("AWS_ENDPOINT_URL_IAM", moto.map(|m| m.url.as_str()).unwrap_or(sandbox.url.as_str()));
        cmd.env("AWS_ENDPOINT_URL_CLOUDTRAIL", moto.map(|m| m.url.as_str()).unwrap_or(sandbox.url.as_str()));
        cmd
    }
}

/// A built binary of the workspace (`cargo build --workspace` puts it beside the test binaries'
/// `deps/` folder). Cargo sets `CARGO_BIN_EXE_*` only for a package's own binaries, and the
/// tools live in other packages, so instead the binary must be newer than every source file it
/// is built from: a stale build fails the test instead of being tested.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|d| if d.ends_with("deps") { d.parent() } else { Some(d) }).expect("target dir");
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing: run `cargo build --workspace` (make test does) first", path.display());
    let plugin = workspace_root().join("plugins").join(name);
    if plugin.is_dir() {
        let built = std::fs::metadata(&path).and_then(|m| m.modified()).expect("binary mtime");
        let (newest, when) = newest_source(&plugin);
        assert!(
            built >= when,
            "{} is older than {}: run `cargo build --workspace --bins` (make test does) first",
            path.display(),
            newest.display()
        );
    }
    path
}

/// The most recently changed source file a tool is built from: its plugin and `shared` (Cargo
/// relinks a tool only when one of these changes).
fn newest_source(plugin: &Path) -> (PathBuf, std::time::SystemTime) {
    fn walk(dir: &Path, best: &mut (PathBuf, std::time::SystemTime)) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, best);
            } else if p.extension().is_some_and(|x| x == "rs" || x == "toml")
                && let Ok(t) = e.metadata().and_then(|m| m.modified())
                && t > best.1
            {
                *best = (p, t);
            }
        }
    }
    let mut best = (plugin.to_path_buf(), std::time::UNIX_EPOCH);
    walk(&workspace_root().join("shared/src"), &mut best);
    walk(plugin, &mut best);
    best
}

/// Long-term secrets of the scenario: no tool may ever print them, except when asked to export
/// credentials (`--format`, `--`).
pub const FIXTURE_SECRETS: [&str; 3] =
    [fixture::ALICE_SECRET, fixture::BOB_SECRET, "example/root/secret/0000000000000000000000"];

/// Runs a command, returning (exit code, stdout, stderr). For our own binaries it also checks
/// that no fixture secret appears in their output, unless they were asked to export credentials.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("the command starts");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    let ours = Path::new(cmd.get_program()).file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("aws-"));
    let exporting = cmd.get_args().any(|a| a == "--format" || a == "--" || a == "-f" || a == "credential-process");
    if ours && !exporting {
        for secret in FIXTURE_SECRETS {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "{:?} printed a secret:\n{stdout}\n{stderr}",
                cmd.get_program()
            );
        }
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// An organisation in the Rust sandbox (every scenario account is a member: `emulator::iam`):
/// the management account 111111111111 (alice's, the caller) and `members` accounts from
/// 200000000000 up, each with OrganizationAccountAccessRole trusting the management account;
/// every call answered after `latency_ms`.
pub fn org_scenario(members: usize, latency_ms: u64) -> crate::emulator::scenario::Scenario {
    use crate::emulator::scenario::{Account, Role, Trust};
    let mut scenario = standard_scenario();
    let role = Role {
        name: "OrganizationAccountAccessRole".into(),
        path: "/".into(),
        max_session_duration: 3600,
        trust: Trust { principals: vec!["111111111111".into()], ..Default::default() },
    };
    scenario.accounts =
        std::iter::once(Account { id: "111111111111".into(), name: "management".into(), ..Default::default() })
            .chain((0..members).map(|i| Account {
                id: format!("{}", 200_000_000_000u64 + i as u64),
                name: format!("member-{i:04}"),
                roles: vec![role.clone()],
                ..Default::default()
            }))
            .collect();
    scenario.faults.latency_ms = latency_ms;
    scenario
}

/// The scenario in `tests/sandbox/scenario.json`: the accounts, users and roles every test and
/// the demo share.
pub fn standard_scenario() -> Scenario {
    Scenario::from_file(&workspace_root().join("tests/sandbox/scenario.json"))
        .expect("tests/sandbox/scenario.json is valid")
}

/// Fake credentials and names of `tests/sandbox/scenario.json`.
pub mod fixture {
    /// alice's access key id (account 111111111111).
    pub const ALICE_KEY: &str = "AKIAEXAMPLEALICE0001";
    /// alice's secret.
    pub const ALICE_SECRET: &str = "example/alice/secret/000000000000000000000";
    /// alice's virtual MFA device.
    pub const ALICE_MFA: &str = "arn:aws:iam::111111111111:mfa/alice";
    /// bob's access key id.
    pub const BOB_KEY: &str = "AKIAEXAMPLEBOB000001";
    /// bob's secret.
    pub const BOB_SECRET: &str = "example/bob/secret/00000000000000000000000";
    /// bob's virtual MFA device.
    pub const BOB_MFA: &str = "arn:aws:iam::111111111111:mfa/bob";
    /// The Identity Center start URL.
    pub const START_URL: &str = "https://d-0000000000.awsapps.com/start";
}

impl Sandbox {
    /// An SSO access token the portal accepts for `ttl_seconds`.
    pub fn issue_token(&self, ttl_seconds: i64) -> String {
        let mut st = self.emulator.lock();
        let token = format!("aoa{}", crate::emulator::state::random_token(40));
        let expires = st.now() + ttl_seconds;
        st.access_tokens.insert(token.clone(), crate::emulator::state::Token { client_id: "harness".into(), expires });
        token
    }

    /// A registered OIDC client with a refresh token: (client id, client secret, refresh token).
    pub fn refreshable_client(&self) -> (String, String, String) {
        let mut st = self.emulator.lock();
        let id = crate::emulator::state::random_token(22);
        let secret = crate::emulator::state::random_token(60);
        let refresh = format!("aor{}", crate::emulator::state::random_token(40));
        let expires = st.now() + 86_400;
        st.clients.insert(
            id.clone(),
            crate::emulator::state::Client {
                secret: secret.clone(),
                scopes: vec!["sso:account:access".into()],
                grant_types: vec![],
                redirect_uris: vec![],
                expires,
            },
        );
        st.refresh_tokens.insert(refresh.clone(), id.clone());
        (id, secret, refresh)
    }
}

/// Every file under `dir` with its mode (unix permission bits).
#[cfg(unix)]
pub fn files_with_modes(dir: &Path) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            let mode = std::fs::symlink_metadata(&p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
            if p.is_dir() {
                out.extend(files_with_modes(&p));
            } else {
                out.push((p, mode));
            }
        }
    }
    out
}

/// A child's terminal output, read as it comes, so a test can wait for a prompt before typing
/// instead of guessing with sleeps.
pub struct Screen {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl Screen {
    /// Starts reading `out` on a thread of its own.
    pub fn new(mut out: impl std::io::Read + Send + 'static) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Self { rx, seen: Vec::new() }
    }

    /// Waits (at most 20 s) until `needle` has appeared `times` times.
    pub fn wait_for(&mut self, needle: &str, times: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while String::from_utf8_lossy(&self.seen).matches(needle).count() < times {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(chunk) => self.seen.extend(chunk),
                Err(_) => panic!(
                    "`{needle}` did not appear {times} time(s); the screen: {}",
                    String::from_utf8_lossy(&self.seen)
                ),
            }
        }
    }

    /// What has appeared so far.
    pub fn finish_partial(&self) -> String {
        String::from_utf8_lossy(&self.seen).into_owned()
    }

    /// Everything the child printed, once it has exited.
    pub fn finish(mut self) -> String {
        while let Ok(chunk) = self.rx.recv_timeout(std::time::Duration::from_secs(5)) {
            self.seen.extend(chunk);
        }
        String::from_utf8_lossy(&self.seen).into_owned()
    }
}

/// A real Secret Service for the key-store tests: a private D-Bus session bus and
/// gnome-keyring-daemon on it with an unlocked login keyring (CI installs `dbus-daemon`,
/// `gnome-keyring` and `libsecret-tools`). Both are killed on drop.
pub struct Keyring {
    /// `DBUS_SESSION_BUS_ADDRESS` of the private bus.
    pub bus: String,
    dir: tempfile::TempDir,
    bus_pid: u32,
    daemon: Child,
}

impl Keyring {
    /// Starts the bus and the keyring, and waits (bounded) until the keyring answers.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let out = Command::new("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .arg(format!("--address=unix:path={}", dir.path().join("bus").display()))
            .stdin(Stdio::null())
            .output()
            .expect("dbus-daemon runs (apt-get install dbus-daemon)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines = text.lines();
        let bus = lines.next().expect("dbus-daemon prints its address").trim().to_string();
        let bus_pid: u32 = lines.next().and_then(|l| l.trim().parse().ok()).expect("dbus-daemon prints its pid");
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon runs (apt-get install gnome-keyring)");
        {
            let mut stdin = daemon.stdin.take().expect("piped");
            stdin.write_all(b"test-keyring-password").expect("unlock password");
        }
        // The login keyring exists once the password was taken: asking the service before that
        // could start a prompt for a new default keyring (and no prompt can be shown here).
        let login = dir.path().join("data/keyrings/login.keyring");
        let started = std::time::Instant::now();
        while !login.exists() && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let k = Keyring { bus, dir, bus_pid, daemon };
        let started = std::time::Instant::now();
        // Ready when a secret can be stored in the (unlocked) login keyring and read back.
        while started.elapsed() < Duration::from_secs(60) {
            let stored = k
                .secret_tool(&["store", "--label=probe", "service", "aws-companions-probe"])
                .stdin(Stdio::piped())
                .spawn()
                .and_then(|mut c| {
                    c.stdin.take().expect("piped").write_all(b"ready")?;
                    c.wait()
                })
                .is_ok_and(|s| s.success());
            let read = stored
                && k.secret_tool(&["lookup", "service", "aws-companions-probe"])
                    .output()
                    .is_ok_and(|o| o.stdout == b"ready");
            if read {
                return k;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the Secret Service did not come up on {}", k.bus);
    }

    /// The environment a command needs to reach this keyring.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.bus).env("XDG_RUNTIME_DIR", self.dir.path());
    }

    /// `secret-tool ARGS` on this keyring.
    pub fn secret_tool(&self, args: &[&str]) -> Command {
        let mut c = Command::new("secret-tool");
        c.args(args).env("DBUS_SESSION_BUS_ADDRESS", &self.bus).stdin(Stdio::null());
        c
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        let _ = Command::new("kill").arg(self.bus_pid.to_string()).status();
    }
}
