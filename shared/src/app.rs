//! What every plugin sets up the same way: the environment, both AWS files, the profile
//! selection, client settings and the credential-chain context.

use crate::cli::GlobalArgs;
use crate::client::ClientSettings;
use crate::config::AwsFiles;
use crate::credentials::{Context, MfaProvider, Selection};
use crate::error::Error;
use crate::os::{Clock, Env, SystemClock};

/// One run's view of the world.
#[derive(Debug)]
pub struct App {
    /// The environment.
    pub env: Env,
    /// The AWS files.
    pub files: AwsFiles,
    /// The profile selection.
    pub selection: Selection,
    /// Client settings for the selected profile.
    pub settings: ClientSettings,
    /// The clock: the system's, or a fixed one in tests ([`App::with_clock`]).
    pub clock: std::sync::Arc<dyn Clock>,
}

impl App {
    /// Reads the environment and files for these flags.
    pub fn new(global: &GlobalArgs) -> Result<Self, Error> {
        Self::with_env(global, Env::from_process())
    }

    /// As [`App::new`] with a given environment (tests).
    pub fn with_env(global: &GlobalArgs, env: Env) -> Result<Self, Error> {
        let files = AwsFiles::load(&env)?;
        files.check_hiding_lines()?;
        let selection = Selection::new(global.profile.as_deref(), &env);
        let settings = Self::settings_for(&env, &files, &selection.name, global)?;
        Ok(Self { env, files, selection, settings, clock: std::sync::Arc::new(SystemClock) })
    }

    /// As [`App::with_env`], but client settings from the environment alone: for tools that work
    /// on the files rather than as a profile (aws-sso-sync), so a broken `[default]` cannot stop them.
    pub fn without_profile(global: &GlobalArgs, env: Env) -> Result<Self, Error> {
        let files = AwsFiles::load(&env)?;
        let selection = Selection::new(global.profile.as_deref(), &env);
        let mut settings = ClientSettings::new(&env, &files, None, global.verbose)?;
        apply_flags(&mut settings, global);
        Ok(Self { env, files, selection, settings, clock: std::sync::Arc::new(SystemClock) })
    }

    /// The same world seen through another clock (tests: expiry, refresh windows, key ages).
    pub fn with_clock(mut self, clock: std::sync::Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Client settings for a profile (its region, endpoints, retries), with `--region` on top.
    pub fn settings_for(
        env: &Env,
        files: &AwsFiles,
        profile: &str,
        global: &GlobalArgs,
    ) -> Result<ClientSettings, Error> {
        let p = if files.has_profile(profile) { Some(files.profile(profile)?) } else { None };
        let mut s = ClientSettings::new(env, files, p.as_ref(), global.verbose)?;
        apply_flags(&mut s, global);
        Ok(s)
    }

    /// The credential-chain context for these settings.
    pub fn context<'a>(&'a self, settings: &'a ClientSettings, mfa: Option<&'a dyn MfaProvider>) -> Context<'a> {
        Context {
            env: &self.env,
            files: &self.files,
            clock: &*self.clock,
            settings,
            mfa,
            mfa_session_seconds: None,
            refresh: false,
            quiet: false,
        }
    }
}

/// `--region`, `--cli-read-timeout`, `--cli-connect-timeout` over what the environment and profile say.
fn apply_flags(s: &mut ClientSettings, global: &GlobalArgs) {
    if let Some(r) = &global.region {
        s.region = Some(r.clone());
    }
    if let Some(t) = global.cli_read_timeout.filter(|t| *t > 0.0) {
        s.read_timeout = std::time::Duration::from_secs_f64(t);
    }
    if let Some(t) = global.cli_connect_timeout.filter(|t| *t > 0.0) {
        s.connect_timeout = std::time::Duration::from_secs_f64(t);
    }
}
