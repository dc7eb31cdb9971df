//! Listing every account and role of an Identity Center session: ListAccounts (paginated), then
//! each account's ListAccountRoles concurrently under the shared pacer, each request retried
//! with jittered backoff on 429, 5xx, time-outs and cut-short answers.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_sso::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use futures_util::{StreamExt, TryStreamExt};
use shared::credentials::sdk_error;
use shared::error::{CredentialError, Error, ServiceError};

use crate::pace::{Pacer, backoff};
use crate::profiles::Assignment;

/// A portal session: client, token, pacer, counters.
pub struct Portal {
    client: aws_sdk_sso::Client,
    token: shared::secret::Secret,
    pacer: Arc<Pacer>,
    attempts: u32,
    login_command: String,
    /// Requests sent (retries included).
    pub calls: AtomicU64,
}

impl Portal {
    /// A portal client (its SDK retries off: the pacer and our retries own that).
    pub fn new(
        client: aws_sdk_sso::Client,
        token: shared::secret::Secret,
        attempts: u32,
        login_command: String,
    ) -> Self {
        Self { client, token, pacer: Arc::new(Pacer::new()), attempts, login_command, calls: AtomicU64::new(0) }
    }

    /// Throttles seen.
    pub fn throttled(&self) -> u64 {
        self.pacer.throttle_count()
    }

    async fn call<T, E, R, F, Fut>(&self, op: &str, f: F) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + HasStatus,
    {
        let mut last = String::new();
        for attempt in 0..self.attempts {
            self.pacer.acquire().await;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let err = match f().await {
                Ok(v) => {
                    self.pacer.success();
                    return Ok(v);
                }
                Err(e) => e,
            };
            let status = err.raw_response().map(HasStatus::status).unwrap_or(0);
            let code = err.as_service_error().and_then(|s| s.code()).unwrap_or("").to_string();
            if code == "TooManyRequestsException" || status == 429 {
                self.pacer.throttled();
            } else if code == "UnauthorizedException" || status == 401 {
                return Err(CredentialError::SsoTokenExpired {
                    what: "the sso-session".into(),
                    expired: "now (the portal refused the token)".into(),
                    reason: None,
                    command: self.login_command.clone(),
                }
                .into());
            } else if !(status >= 500
                || matches!(err, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)))
            {
                return Err(sdk_error(op, None, None, err));
            }
            last = shared::credentials::error_chain(&err);
            tokio::time::sleep(backoff(attempt)).await;
        }
        Err(ServiceError {
            operation: op.into(),
            code: None,
            message: format!("gave up after {} attempts; last error: {last}", self.attempts),
        }
        .into())
    }

    /// Every account, following nextToken.
    pub async fn accounts(&self) -> Result<Vec<aws_sdk_sso::types::AccountInfo>, Error> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .call("sso:ListAccounts", || {
                    self.client
                        .list_accounts()
                        .access_token(self.token.expose())
                        .max_results(100)
                        .set_next_token(next.clone())
                        .send()
                })
                .await?;
            out.extend(page.account_list().iter().cloned());
            next = page.next_token().map(str::to_string).filter(|t| !t.is_empty());
            if next.is_none() {
                return Ok(out);
            }
        }
    }

    /// One account's roles, following nextToken.
    pub async fn roles(&self, account_id: &str) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .call("sso:ListAccountRoles", || {
                    self.client
                        .list_account_roles()
                        .access_token(self.token.expose())
                        .account_id(account_id)
                        .max_results(100)
                        .set_next_token(next.clone())
                        .send()
                })
                .await?;
            out.extend(page.role_list().iter().filter_map(|r| r.role_name().map(str::to_string)));
            next = page.next_token().map(str::to_string).filter(|t| !t.is_empty());
            if next.is_none() {
                return Ok(out);
            }
        }
    }

    /// Every (account, role), with `progress` ticked per account.
    pub async fn assignments(
        &self,
        concurrency: usize,
        progress: &indicatif::ProgressBar,
    ) -> Result<(usize, Vec<Assignment>), Error> {
        let accounts = self.accounts().await?;
        progress.set_length(accounts.len() as u64);
        let per_account: Vec<Vec<Assignment>> = futures_util::stream::iter(accounts.iter().map(|a| async move {
            let id = a.account_id().unwrap_or_default().to_string();
            let roles = self.roles(&id).await?;
            progress.inc(1);
            Ok::<_, Error>(
                roles
                    .into_iter()
                    .map(|r| Assignment {
                        account_id: id.clone(),
                        account_name: a.account_name().unwrap_or(&id).to_string(),
                        email: a.email_address().unwrap_or_default().to_string(),
                        role_name: r,
                    })
                    .collect(),
            )
        }))
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
        Ok((accounts.len(), per_account.into_iter().flatten().collect()))
    }
}

/// The HTTP status of a raw response.
pub trait HasStatus {
    /// The status code.
    fn status(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}
