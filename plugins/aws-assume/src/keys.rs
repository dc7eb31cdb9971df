//! `aws-assume keys add|remove|list|rotate|credential-process`: long-term keys out of
//! `~/.aws/credentials` into the key store (`shared::keystore`), the profile kept working for
//! every tool through a `credential_process` line, and rotation.
//!
//! Order of every change, so that an interruption at any point leaves a working key:
//! - add: verify the keys (GetCallerIdentity), store them, write `credential_process`, check the
//!   profile now answers from the store, and only then take the plaintext lines out of
//!   `~/.aws/credentials` (and delete the editor's backup, which still holds them);
//! - rotate: CreateAccessKey, store the new key, wait until STS accepts it, then DeleteAccessKey of
//!   the old one with the new key. Until the store holds the new key the old one works; after,
//!   the new one does; an old key left active is reported with the command that deletes it.

use std::process::ExitCode;

use serde_json::json;
use shared::app::App;
use shared::cli::GlobalArgs;
use shared::config::write;
use shared::error::{Error, exit};
use shared::keystore::{Backend, Index, KeyRecord, KeyStore, StoredKey};
use shared::output;
use shared::secret::{Credentials, Secret};

/// `aws-assume keys ...`.
#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    cmd: KeysCmd,
    /// The store: `os` (the OS keyring) or `file` (an encrypted file); default
    /// AWS_COMPANIONS_KEY_STORE, else `os`.
    #[arg(long, value_enum, global = true)]
    key_store: Option<Backend>,
}

#[derive(Debug, clap::Subcommand)]
enum KeysCmd {
    /// Move a profile's long-term key into the store; the profile gets a `credential_process`
    /// line so `aws`, the SDKs and our tools keep working.
    Add {
        /// The profile.
        profile: String,
        /// Take the keys from ~/.aws/credentials (only those two lines are removed), instead of
        /// asking for them on the terminal.
        #[arg(long)]
        from_credentials_file: bool,
    },
    /// Take a profile's key out of the store and its `credential_process` line out of the profile.
    Remove {
        /// The profile.
        profile: String,
        /// Write the key back into ~/.aws/credentials.
        #[arg(long)]
        restore: bool,
    },
    /// The stored keys: profile, key id, backend, IAM user, age.
    List,
    /// Replace a profile's key with a new one of the same IAM user (in the store, or in
    /// ~/.aws/credentials where it still is), then delete the old one.
    Rotate {
        /// The profile.
        profile: String,
        /// The MFA code, where IAM requires MFA for these calls (else the profile's mfa_process
        /// or a prompt, when the profile or a role sourced from it names an mfa_serial).
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
    },
    /// Answer a `credential_process` call from the store (what `keys add` writes).
    CredentialProcess {
        /// The profile.
        profile: String,
    },
}

fn io(context: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io { context: context.into(), source: e }
}

/// Runs `aws-assume keys`.
pub async fn run(args: &KeysArgs, global: &GlobalArgs) -> Result<ExitCode, Error> {
    let env = shared::os::Env::from_process();
    if let KeysCmd::CredentialProcess { profile } = &args.cmd {
        // The hot path (every `aws` command of the profile): the index and the store only.
        return credential_process(&env, args.key_store, profile);
    }
    let app = App::without_profile(global, env)?;
    match &args.cmd {
        KeysCmd::Add { profile, from_credentials_file } => {
            add(&app, global, args.key_store, profile, *from_credentials_file).await
        }
        KeysCmd::Remove { profile, restore } => remove(&app, args.key_store, profile, *restore),
        KeysCmd::List => list(&app, global),
        KeysCmd::Rotate { profile, mfa_code } => rotate(&app, global, profile, mfa_code.clone()).await,
        KeysCmd::CredentialProcess { .. } => unreachable!("handled above"),
    }
}

/// The backend a profile's key is in: the index's record, else the one asked for.
fn backend_of(env: &shared::os::Env, flag: Option<Backend>, profile: &str) -> Result<Backend, Error> {
    match Index::load(env)?.get(profile) {
        Some(r) => Ok(r.backend),
        None => Backend::choose(flag, env),
    }
}

fn credential_process(env: &shared::os::Env, flag: Option<Backend>, profile: &str) -> Result<ExitCode, Error> {
    let store = backend_of(env, flag, profile)?.open(env)?;
    let key = store.get(profile)?.ok_or_else(|| not_stored(profile, &store.describe()))?;
    output::print_json(&json!({
        "Version": 1,
        "AccessKeyId": key.access_key_id,
        "SecretAccessKey": key.secret_access_key.expose(),
    }))
    .map_err(io("writing the output"))?;
    Ok(ExitCode::SUCCESS)
}

fn not_stored(profile: &str, backend: &str) -> Error {
    Error::usage(
        format!("no key is stored for the profile `{}` in the {backend}", shared::text::clip(profile)),
        Some(format!("run `aws-assume keys add {profile}` (or `keys list` to see what is stored)")),
    )
}

/// The config section of a profile (`default` or `profile NAME`) and the credentials one.
fn sections(profile: &str) -> (String, String) {
    let config = if profile == "default" { "default".to_string() } else { format!("profile {profile}") };
    (config, profile.to_string())
}

/// The `credential_process` command that answers for `profile`: this binary, by absolute path
/// (quoted when it has spaces), so it works whatever PATH the caller has.
fn process_line(profile: &str) -> Result<String, Error> {
    let exe = std::env::current_exe().map_err(io("finding this program's path"))?;
    let exe = exe.to_string_lossy();
    let exe = if exe.contains(' ') { format!("\"{exe}\"") } else { exe.into_owned() };
    Ok(format!("{exe} keys credential-process {profile}"))
}

fn is_ours(line: &str) -> bool {
    line.contains("keys credential-process")
}

/// A key found in plaintext: (key id, secret, which file).
type Plain = (String, Secret, &'static str);

/// The static keys a profile has in the files.
fn plaintext_keys(app: &App, profile: &str) -> Option<Plain> {
    let (config_section, creds_section) = sections(profile);
    for (doc, section, place) in
        [(&app.files.credentials, &creds_section, "credentials"), (&app.files.config, &config_section, "config")]
    {
        let Some(doc) = doc else { continue };
        if let (Some(id), Some(secret)) =
            (doc.get(section, "aws_access_key_id"), doc.get(section, "aws_secret_access_key"))
        {
            return Some((id, Secret::new(secret), place));
        }
    }
    None
}

/// Reads a key pair on the terminal: the id echoed, the secret not.
fn ask_keys(profile: &str) -> Result<StoredKey, Error> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() && !std::io::stderr().is_terminal() {
        return Err(Error::usage(
            "the keys are asked for on a terminal, and there is none",
            Some(format!(
                "run it on a terminal, or move keys that are in ~/.aws/credentials: `aws-assume keys add {profile} --from-credentials-file`"
            )),
        ));
    }
    eprint!("AWS access key id for `{profile}`: ");
    let mut id = String::new();
    std::io::stdin().read_line(&mut id).map_err(io("reading the key id"))?;
    let secret = rpassword::prompt_password("AWS secret access key (not shown): ").map_err(io("reading the secret"))?;
    let id = id.trim().to_string();
    if !(16..=128).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) || secret.trim().is_empty() {
        return Err(Error::usage(
            "that is not an access key id and secret",
            Some("copy them from the IAM console or `aws iam create-access-key`".into()),
        ));
    }
    Ok(StoredKey { access_key_id: id, secret_access_key: Secret::new(secret.trim().to_string()) })
}

/// Who the keys belong to (GetCallerIdentity; also proves they work), and when IAM created the
/// key (ListAccessKeys for the user, when allowed).
async fn identify(
    app: &App,
    global: &GlobalArgs,
    profile: &str,
    key: &StoredKey,
) -> Result<(Option<String>, String, Option<String>), Error> {
    let settings = App::settings_for(&app.env, &app.files, profile, global)?;
    let creds = Credentials::new(&key.access_key_id, key.secret_access_key.expose(), None);
    let who = settings.sts(Some(&creds)).get_caller_identity().send().await.map_err(|e| {
        shared::credentials::sdk_error(
            "sts:GetCallerIdentity",
            None,
            Some("check the access key id and secret (nothing was changed)".into()),
            e,
        )
    })?;
    let arn = who.arn().unwrap_or_default();
    let user = arn.split_once(":user/").map(|(_, u)| u.rsplit('/').next().unwrap_or(u).to_string());
    let account = who.account().unwrap_or_default().to_string();
    let mut created = None;
    if let Some(u) = &user
        && let Ok(out) = settings.iam(&creds).list_access_keys().user_name(u).send().await
    {
        created = out
            .access_key_metadata()
            .iter()
            .find(|m| m.access_key_id() == Some(key.access_key_id.as_str()))
            .and_then(|m| m.create_date())
            .and_then(|d| time::OffsetDateTime::from_unix_timestamp(d.secs()).ok())
            .map(shared::cache::format_z);
    }
    Ok((user, account, created))
}

/// The key to store: checked against the index (no duplicate) and the files (a known profile),
/// taken from the files or asked for. Also the plaintext copy, when there is one.
fn key_to_add(app: &App, profile: &str, from_file: bool) -> Result<(StoredKey, Option<Plain>), Error> {
    shared::config::doc::check_section_name("the profile name", profile)?;
    if let Some(r) = Index::load(&app.env)?.get(profile) {
        return Err(Error::usage(
            format!(
                "the profile `{profile}` already has a key in the store ({}, {})",
                r.backend.as_str(),
                r.access_key_id
            ),
            Some(format!(
                "rotate it with `aws-assume keys rotate {profile}`, or `aws-assume keys remove {profile}` first"
            )),
        ));
    }
    let plain = plaintext_keys(app, profile);
    if !app.files.has_profile(profile) && plain.is_none() {
        return Err(Error::usage(
            format!("there is no profile `{}` in ~/.aws/config or ~/.aws/credentials", shared::text::clip(profile)),
            Some(format!("create it first (`aws configure --profile {profile}`), or pick one of `aws-assume --list`")),
        ));
    }
    let key = if from_file {
        let (id, secret, _) = plain.clone().ok_or_else(|| {
            Error::usage(
                format!("the profile `{profile}` has no aws_access_key_id / aws_secret_access_key to move"),
                Some(format!("run `aws-assume keys add {profile}` to type them in instead")),
            )
        })?;
        StoredKey { access_key_id: id, secret_access_key: secret }
    } else {
        ask_keys(profile)?
    };
    Ok((key, plain))
}

/// Takes the two plaintext lines out of both files (every other byte stays) and deletes the
/// editor's backup, which still holds them. The files it changed.
fn remove_plaintext(app: &App, profile: &str) -> Result<Vec<String>, Error> {
    let (config_section, creds_section) = sections(profile);
    let mut changed = Vec::new();
    for (path, section) in [(&app.files.credentials_path, &creds_section), (&app.files.config_path, &config_section)] {
        let edited = write::edit(path, &app.env, "aws-assume keys add", |doc| {
            doc.remove_key(section, "aws_access_key_id");
            doc.remove_key(section, "aws_secret_access_key");
            Ok(())
        })?;
        if let shared::fsutil::Edited::Written { target, backup } = edited {
            if let Some(b) = backup {
                let _ = std::fs::remove_file(b);
            }
            changed.push(target.display().to_string());
        }
    }
    Ok(changed)
}

async fn add(
    app: &App,
    global: &GlobalArgs,
    flag: Option<Backend>,
    profile: &str,
    from_file: bool,
) -> Result<ExitCode, Error> {
    let (key, plain) = key_to_add(app, profile, from_file)?;
    let (user, account, created) = identify(app, global, profile, &key).await?;
    let backend = Backend::choose(flag, &app.env)?;
    let store = backend.open(&app.env)?;
    store.put(profile, &key)?;
    // The profile answers from the store from now on.
    let line = process_line(profile)?;
    let (config_section, _) = sections(profile);
    write::edit(&app.files.config_path, &app.env, "aws-assume keys add", |doc| {
        doc.set(&config_section, "credential_process", &line).map_err(Into::into)
    })?;
    // Check the store answers before the plaintext goes.
    if store.get(profile)?.as_ref().map(|k| k.access_key_id.as_str()) != Some(key.access_key_id.as_str()) {
        return Err(shared::keystore::store_error(
            &store.describe(),
            "did not give the key back after storing it; the plaintext copy was kept",
            "try again, or use the other backend (--key-store file / os)",
        ));
    }
    let moved_from = match &plain {
        Some((id, _, _)) if *id == key.access_key_id => remove_plaintext(app, profile)?,
        _ => Vec::new(),
    };
    let record = KeyRecord {
        profile: profile.to_string(),
        access_key_id: key.access_key_id.clone(),
        backend,
        user: user.clone(),
        account: Some(account.clone()),
        created: created.clone(),
        stored: shared::cache::format_z(app.clock.now()),
    };
    Index::update(&app.env, |i| i.upsert(record))?;
    output::print_json(&json!({
        "Profile": profile, "AccessKeyId": key.access_key_id, "Backend": backend.as_str(), "Store": store.describe(),
        "User": user, "Account": account, "Created": created, "RemovedFrom": moved_from,
    }))
    .map_err(io("writing the output"))?;
    if !global.quiet {
        eprintln!(
            "aws-assume: the key of `{profile}` is in the {}; `aws --profile {profile}` now gets it through credential_process{}",
            store.describe(),
            if moved_from.is_empty() { String::new() } else { format!(" (removed from {})", moved_from.join(", ")) }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn remove(app: &App, flag: Option<Backend>, profile: &str, restore: bool) -> Result<ExitCode, Error> {
    let backend = backend_of(&app.env, flag, profile)?;
    let store = backend.open(&app.env)?;
    let key = store.get(profile)?.ok_or_else(|| not_stored(profile, &store.describe()))?;
    let (config_section, creds_section) = sections(profile);
    if restore {
        write::edit(&app.files.credentials_path, &app.env, "aws-assume keys remove", |doc| {
            doc.set(&creds_section, "aws_access_key_id", &key.access_key_id)?;
            doc.set(&creds_section, "aws_secret_access_key", key.secret_access_key.expose())?;
            Ok(())
        })?;
    }
    write::edit(&app.files.config_path, &app.env, "aws-assume keys remove", |doc| {
        if doc.get(&config_section, "credential_process").is_some_and(|l| is_ours(&l)) {
            doc.remove_key(&config_section, "credential_process");
        }
        Ok(())
    })?;
    store.delete(profile)?;
    Index::update(&app.env, |i| i.remove(profile))?;
    eprintln!(
        "aws-assume: the key of `{profile}` ({}) is out of the {}{}",
        key.access_key_id,
        store.describe(),
        if restore { "; it is back in ~/.aws/credentials" } else { "; the profile has no key now" }
    );
    Ok(ExitCode::SUCCESS)
}

fn list(app: &App, global: &GlobalArgs) -> Result<ExitCode, Error> {
    let index = Index::load(&app.env)?;
    let now = app.clock.now();
    let age =
        |r: &KeyRecord| r.created.as_deref().and_then(shared::cache::parse_timestamp).map(|c| (now - c).whole_days());
    let cells: Vec<Vec<String>> = index
        .keys
        .iter()
        .map(|r| {
            vec![
                r.profile.clone(),
                r.access_key_id.clone(),
                r.backend.as_str().to_string(),
                r.user.clone().unwrap_or_else(|| "-".into()),
                age(r).map(|d| format!("{d} days")).unwrap_or_else(|| "unknown".into()),
            ]
        })
        .collect();
    let json: Vec<serde_json::Value> =
        index.keys.iter().map(|r| json!({"Profile": r.profile, "AccessKeyId": r.access_key_id, "Backend": r.backend, "User": r.user, "Account": r.account, "Created": r.created, "AgeDays": age(r), "Stored": r.stored})).collect();
    let rows = output::Rows::new(&["Profile", "Key", "Backend", "User", "Age"], cells, &json);
    output::render(output::Format::resolve(global.output).into(), &rows).map_err(io("writing the output"))?;
    Ok(ExitCode::SUCCESS)
}

/// Where the key being rotated lives.
enum Home {
    Store(Box<dyn KeyStore>, Backend),
    File,
}

/// The MFA device for calls made with `profile`'s key: its own `mfa_serial`, else that of a role
/// profile sourced from it.
fn mfa_serial_for(app: &App, profile: &str) -> Option<String> {
    let (config_section, _) = sections(profile);
    let doc = app.files.config.as_ref()?;
    if let Some(s) = doc.get(&config_section, "mfa_serial") {
        return Some(s);
    }
    doc.sections().into_iter().find_map(|s| {
        (doc.get(&s.name, "source_profile").as_deref() == Some(profile))
            .then(|| doc.get(&s.name, "mfa_serial"))
            .flatten()
    })
}

/// The IAM credentials for the rotation: the key itself, or (where IAM refuses it without MFA, or
/// an MFA code was given) its MFA session: one prompt, cached like the role chains' sessions.
async fn iam_credentials(
    app: &App,
    settings: &shared::client::ClientSettings,
    profile: &str,
    key: &Credentials,
    mfa_code: Option<String>,
) -> Result<Credentials, Error> {
    let Some(serial) = mfa_serial_for(app, profile) else { return Ok(key.clone()) };
    let user_ok = mfa_code.is_none() && settings.iam(key).list_access_keys().send().await.is_ok();
    if user_ok {
        return Ok(key.clone());
    }
    let provider = crate::mfa::Prompt::new(mfa_code, &app.files, profile);
    let mut ctx = app.context(settings, Some(&provider));
    ctx.mfa_session_seconds = Some(3600);
    Ok(shared::credentials::assume::key_mfa_session(&ctx, profile, &serial, key).await?.unwrap_or_else(|| key.clone()))
}

/// Where the key to rotate is, and the key.
fn locate(app: &App, profile: &str) -> Result<(Home, StoredKey), Error> {
    if let Some(r) = Index::load(&app.env)?.get(profile).cloned() {
        let store = r.backend.open(&app.env)?;
        let key = store.get(profile)?.ok_or_else(|| not_stored(profile, &store.describe()))?;
        return Ok((Home::Store(store, r.backend), key));
    }
    let (id, secret, _) = plaintext_keys(app, profile).ok_or_else(|| {
        Error::usage(
            format!("the profile `{}` has no long-term key, in the store or in the files", shared::text::clip(profile)),
            Some("rotate a profile with aws_access_key_id (or one moved with `aws-assume keys add`)".into()),
        )
    })?;
    Ok((Home::File, StoredKey { access_key_id: id, secret_access_key: secret }))
}

/// IAM allows two keys per user: refuse (naming the other key) when there is no room.
async fn check_room(iam: &aws_sdk_iam::Client, user: &str, old: &str) -> Result<(), Error> {
    let listed = iam.list_access_keys().user_name(user).send().await.map_err(|e| {
        shared::credentials::sdk_error(
            "iam:ListAccessKeys",
            Some(user),
            Some(
                "rotation needs iam:ListAccessKeys, iam:CreateAccessKey and iam:DeleteAccessKey on the user itself"
                    .into(),
            ),
            e,
        )
    })?;
    match listed.access_key_metadata().iter().filter_map(|m| m.access_key_id()).find(|id| *id != old) {
        Some(other) => Err(Error::usage(
            format!(
                "the IAM user `{user}` already has a second key, {other}: IAM allows two, so there is no room for a new one (nothing was changed)"
            ),
            Some(format!(
                "delete the unused one first: `aws iam delete-access-key --user-name {user} --access-key-id {other}`"
            )),
        )),
        None => Ok(()),
    }
}

/// CreateAccessKey: the new key and its creation time.
async fn create(iam: &aws_sdk_iam::Client, user: &str) -> Result<(StoredKey, Option<String>), Error> {
    let created = iam.create_access_key().user_name(user).send().await.map_err(|e| {
        shared::credentials::sdk_error(
            "iam:CreateAccessKey",
            Some(user),
            Some("nothing was changed: the old key still works".into()),
            e,
        )
    })?;
    let new = created.access_key().ok_or_else(|| {
        Error::usage("CreateAccessKey returned no key (nothing was stored; the old key still works)", None)
    })?;
    let at = new
        .create_date()
        .and_then(|d| time::OffsetDateTime::from_unix_timestamp(d.secs()).ok())
        .map(shared::cache::format_z);
    Ok((
        StoredKey {
            access_key_id: new.access_key_id().to_string(),
            secret_access_key: Secret::new(new.secret_access_key().to_string()),
        },
        at,
    ))
}

/// Puts the new key where the old one was (the store, or in place in the file): from here on the
/// profile uses it.
fn store_new(app: &App, home: &Home, profile: &str, new: &StoredKey) -> Result<(), String> {
    let (config_section, creds_section) = sections(profile);
    match home {
        Home::Store(store, _) => store.put(profile, new).map_err(|e| format!("the store refused the new key ({e})")),
        Home::File => {
            let in_credentials =
                app.files.credentials.as_ref().is_some_and(|d| d.get(&creds_section, "aws_access_key_id").is_some());
            let (path, section) = if in_credentials {
                (&app.files.credentials_path, &creds_section)
            } else {
                (&app.files.config_path, &config_section)
            };
            write::edit(path, &app.env, "aws-assume keys rotate", |doc| {
                doc.set(section, "aws_access_key_id", &new.access_key_id)?;
                doc.set(section, "aws_secret_access_key", new.secret_access_key.expose())?;
                Ok(())
            })
            .map(|_| ())
            .map_err(|e| format!("the new key could not be written ({e})"))
        }
    }
}

/// IAM is eventually consistent: waits (bounded, about 20 s) until STS accepts the new key.
async fn accepted(settings: &shared::client::ClientSettings, creds: &Credentials) -> bool {
    for attempt in 0..15u64 {
        if settings.sts(Some(creds)).get_caller_identity().send().await.is_ok() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200 * (attempt + 1).min(10))).await;
    }
    false
}

async fn rotate(app: &App, global: &GlobalArgs, profile: &str, mfa_code: Option<String>) -> Result<ExitCode, Error> {
    let (home, old) = locate(app, profile)?;
    let settings = App::settings_for(&app.env, &app.files, profile, global)?;
    let old_creds = Credentials::new(&old.access_key_id, old.secret_access_key.expose(), None);
    let auth = iam_credentials(app, &settings, profile, &old_creds, mfa_code).await?;
    let iam = settings.iam(&auth);
    let (user, account, _) = identify(app, global, profile, &old).await?;
    let user = user.ok_or_else(|| {
        Error::usage(
            format!("the key of `{profile}` is not an IAM user's (root or federated keys are not rotated here)"),
            Some("rotate root keys in the console; remove them if you can".into()),
        )
    })?;
    check_room(&iam, &user, &old.access_key_id).await?;
    let (new_key, created_at) = create(&iam, &user).await?;
    store_new(app, &home, profile, &new_key).map_err(|what| {
        Error::usage(
            format!("{what}; IAM now has the new key {} besides the old {}, and the old one still works", new_key.access_key_id, old.access_key_id),
            Some(format!("delete the new one (`aws iam delete-access-key --user-name {user} --access-key-id {}`) and run the rotation again", new_key.access_key_id)),
        )
    })?;
    // The index follows the store at once (a kill from here on leaves both on the new key).
    if let Home::Store(_, backend) = &home {
        let record = KeyRecord {
            profile: profile.to_string(),
            access_key_id: new_key.access_key_id.clone(),
            backend: *backend,
            user: Some(user.clone()),
            account: Some(account.clone()),
            created: created_at.clone(),
            stored: shared::cache::format_z(app.clock.now()),
        };
        Index::update(&app.env, |i| i.upsert(record))?;
    }
    let new_creds = Credentials::new(&new_key.access_key_id, new_key.secret_access_key.expose(), None);
    let delete_old = format!("aws iam delete-access-key --user-name {user} --access-key-id {}", old.access_key_id);
    if !accepted(&settings, &new_creds).await {
        return Err(Error::usage(
            format!(
                "the new key {} is stored but STS did not accept it within 20 s; the old key {} was kept active",
                new_key.access_key_id, old.access_key_id
            ),
            Some(format!("try `aws-whoami --profile {profile}` in a minute, then `{delete_old}`")),
        ));
    }
    // With the new key itself, unless IAM wants MFA: then the MFA session (it outlives the old key).
    let deleter = if auth.session_token.is_some() { settings.iam(&auth) } else { settings.iam(&new_creds) };
    let deleted = deleter.delete_access_key().user_name(&user).access_key_id(&old.access_key_id).send().await;
    output::print_json(&json!({
        "Profile": profile, "User": user, "OldAccessKeyId": old.access_key_id, "NewAccessKeyId": new_key.access_key_id,
        "NewCreated": created_at, "NewAgeDays": 0, "OldDeleted": deleted.is_ok(),
        "Where": match &home { Home::Store(s, _) => s.describe(), Home::File => "~/.aws files (plaintext)".into() },
    }))
    .map_err(io("writing the output"))?;
    if let Err(e) = deleted {
        let e = shared::credentials::sdk_error("iam:DeleteAccessKey", Some(&old.access_key_id), None, e);
        eprintln!(
            "aws-assume: warning: the new key works and is stored, but the old key is still active: {}",
            shared::text::clean(&e.to_string())
        );
        eprintln!("hint: run `{delete_old}`");
        return Ok(ExitCode::from(exit::SERVICE));
    }
    if !global.quiet {
        eprintln!(
            "aws-assume: `{profile}` rotated: {} -> {} (0 days old); the old key is deleted",
            old.access_key_id, new_key.access_key_id
        );
    }
    Ok(ExitCode::SUCCESS)
}
