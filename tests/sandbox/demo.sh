#!/usr/bin/env bash
# `make demo`: the whole story on the local sandbox, in a throwaway HOME. The real ~/.aws is
# never read or written; everything started here is stopped and removed on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CARGO_TARGET_DIR:-$root/target}/debug
demo_home=$(mktemp -d)
out=$(mktemp)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$demo_home" "$out"; }
trap cleanup EXIT

bold=$'\033[1m'; off=$'\033[0m'
[ -n "${NO_COLOR:-}" ] || [ ! -t 1 ] && bold="" && off=""
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
show() { printf '%s$ %s%s\n' "$bold" "$*" "$off"; "$@"; }

step "Start the sandbox: our IAM Identity Center / SSO-OIDC / STS-with-MFA emulator, and moto for IAM"
"$bin/aws-sandbox" --scenario "$root/tests/sandbox/scenario.json" --with-moto --auto-approve >"$out" &
pid=$!
for _ in $(seq 100); do grep -q 'aws-sandbox ready' "$out" 2>/dev/null && break; sleep 0.1; done
grep '^export' "$out"
# shellcheck disable=SC1090
source <(grep '^export' "$out")
iam=$AWS_ENDPOINT_URL_IAM
export HOME=$demo_home PATH="$bin:$PATH" AWS_EC2_METADATA_DISABLED=true BROWSER="curl -sfL -o /dev/null"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE

step "aws-sso-sync: add an sso-session, log in (the sandbox approves at once), write every account and role"
show aws-sso-sync session add corp --start-url https://d-0000000000.awsapps.com/start --sso-region us-east-1
show aws-sso-sync login --sso-session corp
show aws-sso-sync
show sed -n '1,14p' "$HOME/.aws/config"

step "A gateway IAM user with MFA, and a role chain: alice → admin (MFA) → deployer"
mkdir -p "$HOME/.aws"
cat >"$HOME/.aws/credentials" <<'INI'
[alice]
aws_access_key_id = AKIAEXAMPLEALICE0001
aws_secret_access_key = example/alice/secret/000000000000000000000
INI
# The demo's virtual MFA device: a one-line mfa_process that reads the sandbox's current code.
cat >"$HOME/mfa-device.sh" <<SH
#!/bin/sh
curl -sf "$AWS_ENDPOINT_URL_STS/_sandbox/totp?serial=\$AWS_MFA_SERIAL" | sed 's/.*"code":"\([0-9]*\)".*/\1/'
SH
chmod +x "$HOME/mfa-device.sh"
cat >>"$HOME/.aws/config" <<INI

[profile admin]
role_arn = arn:aws:iam::222222222222:role/admin
source_profile = alice
mfa_serial = arn:aws:iam::111111111111:mfa/alice
mfa_process = $HOME/mfa-device.sh
region = us-east-1

[profile deployer]
role_arn = arn:aws:iam::222222222222:role/deployer
source_profile = admin
INI
show aws-assume --list

step "aws-whoami --all-profiles: every profile at once, never prompting (MFA roles need aws-assume first)"
show aws-whoami --all-profiles --no-alias --output table || true

step "aws-assume: one MFA code opens a session; the chain is assumed and cached in the AWS CLI's cache"
show aws-assume deployer --format env | sed 's/=.*/=…/'
show aws-assume deployer -- aws-whoami --no-alias --output text

step "The same command again: served from the cache, no prompt, no STS call"
show aws-whoami --profile deployer --no-alias --output text

step "aws-keyaudit: audit IAM access keys in moto (some 200 days old, some without an IP restriction)"
AWS_ENDPOINT_URL_IAM=$iam "$root/.venv/bin/python" "$root/tests/sandbox/keyaudit_fixture.py" scenario >/dev/null
audit() { AWS_ENDPOINT_URL_STS=$iam AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws-keyaudit "$@"; }
show audit --output table --fail-on high || echo "(exit $?: findings at or above --fail-on high)"

step "A suppression with a reason and an expiry date mutes what the team has accepted"
cat >"$HOME/keyaudit-ignore.toml" <<'TOML'
[[suppress]]
check = "KA-NO-IP-RESTRICTION"
reason = "office egress ranges move next quarter"
expires = "2099-12-31"
TOML
show audit --output table --fail-on high --ignore-file "$HOME/keyaudit-ignore.toml" | tail -4 || true

step "Done: the sandbox stops, the throwaway HOME is removed; your ~/.aws was never touched"
