#!/usr/bin/env bash
# First step of every job that loads a stack with credentials: says everything that is missing at
# once, in plain words, before any tool or cloud call fails on it.
#
#   STACK=dev ROLE_VARIABLE=AWS_PREVIEW_ROLE_ARN_DEV ROLE_ARN=... AWS_REGION=... \
#   PULUMI_BACKEND_URL=s3://... .github/scripts/preflight.sh
#
# PREFLIGHT_SKIP_NETWORK=1 leaves out the reachability checks (the tests use it).
set -uo pipefail

problems=0
problem() { echo "::error::$*"; problems=$((problems + 1)); }

# Repository variables (Settings > Secrets and variables > Actions > Variables).
for name in ROLE_ARN AWS_REGION PULUMI_BACKEND_URL; do
    if [[ -z ${!name:-} ]]; then
        label=$name
        [[ $name == ROLE_ARN ]] && label=${ROLE_VARIABLE:-ROLE_ARN}
        problem "repository variable $label is not set (docs/pipeline-setup.md: 'Repository variables')"
    fi
done
if [[ -n ${PULUMI_BACKEND_URL:-} && $PULUMI_BACKEND_URL != s3://* ]]; then
    problem "PULUMI_BACKEND_URL must be the s3:// URL of the state bucket, not '$PULUMI_BACKEND_URL'"
fi

# The stack's secrets manager. `pulumi stack init --secrets-provider=awskms://...` writes these two
# lines into the stack file; without them the DIY backend falls back to the passphrase manager,
# which fails in a non-interactive run (pulumi/pulumi@v3.259.0: pkg/cmd/pulumi/stack/secrets.go:237-288,
# pkg/backend/diy/backend.go:1713-1716, pkg/secrets/passphrase/manager.go:394-396).
file="stacks/Pulumi.${STACK:?STACK is required}.yaml"
if [[ ! -f $file ]]; then
    problem "no stack file $file"
else
    grep -q '^secretsprovider: awskms://' "$file" \
        || problem "$file has no 'secretsprovider: awskms://...' line. Run once, with the backend and a role that may use the secrets key: pulumi stack init $STACK --secrets-provider='awskms://alias/pulumi-secrets-$STACK?region=<region>' and commit the secretsprovider: and encryptedkey: lines it writes (docs/pipeline-setup.md: 'Create each stack once')."
    grep -q '^encryptedkey: ' "$file" \
        || problem "$file has no 'encryptedkey:' line: commit the one 'pulumi stack init' wrote next to secretsprovider: (docs/pipeline-setup.md: 'Create each stack once')."
fi

# Tools the job runs besides what the actions install: git (checkout), curl and tar (the Pulumi
# CLI and uv downloads), make (the locked virtualenvs), and the AWS CLI v2 (the Kubernetes
# provider authenticates with `aws eks get-token`; the lock check lists the state bucket).
for tool in git curl tar gzip make aws; do
    command -v "$tool" >/dev/null 2>&1 || problem "the runner has no '$tool' (docs/pipeline-setup.md: 'Runner groups')"
done
if command -v aws >/dev/null 2>&1 && [[ $(aws --version 2>&1) != aws-cli/2.* ]]; then
    problem "the AWS CLI must be version 2, found: $(aws --version 2>&1)"
fi

# Hosts the job reaches. Any HTTP answer proves the route; only a failed connection is a problem.
if [[ ${PREFLIGHT_SKIP_NETWORK:-} != 1 && -n ${AWS_REGION:-} ]]; then
    hosts=(
        github.com api.github.com objects.githubusercontent.com releases.astral.sh
        raw.githubusercontent.com get.pulumi.com pypi.org files.pythonhosted.org
        charts.external-secrets.io bitnami.github.io vmware-tanzu.github.io
        "sts.$AWS_REGION.amazonaws.com" "s3.$AWS_REGION.amazonaws.com" "kms.$AWS_REGION.amazonaws.com"
        "eks.$AWS_REGION.amazonaws.com" "ec2.$AWS_REGION.amazonaws.com" iam.amazonaws.com
        "logs.$AWS_REGION.amazonaws.com" "elasticfilesystem.$AWS_REGION.amazonaws.com"
    )
    for host in "${hosts[@]}"; do
        curl -sS -o /dev/null --max-time 10 "https://$host/" 2>/dev/null \
            || problem "cannot reach https://$host from this runner (docs/pipeline-setup.md: 'Runner groups')"
    done
fi

if ((problems)); then
    echo "$problems problem(s) above; nothing was run against the cloud."
    exit 1
fi
echo "Preflight of stack $STACK passed."
