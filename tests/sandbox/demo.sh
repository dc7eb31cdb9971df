#!/usr/bin/env bash
# `make demo`: the tools on the local sandbox, in a throwaway HOME. The real ~/.aws is never read
# or written. For now: start the sandbox, show that it answers as AWS would, stop it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
demo_home=$(mktemp -d)
out=$(mktemp)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$demo_home" "$out"; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Starting the sandbox (our SSO/OIDC/STS emulator + moto for IAM) on 127.0.0.1"
"$target/debug/aws-sandbox" --scenario "$root/tests/sandbox/scenario.json" --with-moto --auto-approve >"$out" &
pid=$!
for _ in $(seq 50); do grep -q 'aws-sandbox ready' "$out" 2>/dev/null && break; sleep 0.1; done
cat "$out"
# shellcheck disable=SC1090
source <(grep '^export' "$out")

export HOME=$demo_home AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
aws=$root/.venv/bin/aws
export AWS_ACCESS_KEY_ID=AKIAEXAMPLEALICE0001 AWS_SECRET_ACCESS_KEY=example/alice/secret/000000000000000000000

step "STS answers as AWS would (awscli v1 from PyPI): who is alice?"
"$aws" sts get-caller-identity --output table

step "A role that requires MFA refuses a wrong code..."
"$aws" sts assume-role --role-arn arn:aws:iam::222222222222:role/admin --role-session-name demo \
  --serial-number arn:aws:iam::111111111111:mfa/alice --token-code 000000 2>&1 | tail -1 || true

step "...and accepts the code of alice's virtual MFA device"
code=$(curl -s "${AWS_ENDPOINT_URL_STS}/_sandbox/totp?serial=arn:aws:iam::111111111111:mfa/alice" | sed 's/.*"code":"\([0-9]*\)".*/\1/')
"$aws" sts assume-role --role-arn arn:aws:iam::222222222222:role/admin --role-session-name demo \
  --serial-number arn:aws:iam::111111111111:mfa/alice --token-code "$code" --query AssumedRoleUser.Arn --output text

step "IAM (moto) answers too"
AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "$aws" iam create-user --user-name demo-user --query User.Arn --output text

step "Done: the sandbox stops and the throwaway HOME is removed"
