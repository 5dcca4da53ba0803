#!/usr/bin/env bash
# First step of every job that loads a stack with credentials: says everything that is missing at
# once, in plain words, before any tool or cloud call fails on it.
#
#   STACK=dev ROLE_VARIABLE=AWS_PREVIEW_ROLE_ARN_DEV ROLE_ARN=... AWS_REGION=... \
#   PULUMI_BACKEND_URL=s3://... .github/scripts/preflight.sh
#
# PREFLIGHT_SKIP_NETWORK=1 leaves out the reachability checks (the tests use it). Given a GH_TOKEN,
# it also checks the ruleset on main and .github/CODEOWNERS.
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
# gh and jq read main's rules (below) where the job passes a GH_TOKEN.
tools=(git curl tar gzip make aws)
[[ -z ${GH_TOKEN:-} ]] || tools+=(gh jq)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || problem "the runner has no '$tool' (docs/pipeline-setup.md: 'Runner groups')"
done
if command -v aws >/dev/null 2>&1 && [[ $(aws --version 2>&1) != aws-cli/2.* ]]; then
    problem "the AWS CLI must be version 2, found: $(aws --version 2>&1)"
fi

# Hosts the job reaches, from .github/egress-hosts.txt (its header describes the three checks).
# A chart repository must serve its index with the pinned chart in it, and the chart archive must
# download: an old repository that answers 404 is a moved repository, not a reachable one.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ ${PREFLIGHT_SKIP_NETWORK:-} != 1 && -n ${AWS_REGION:-} ]]; then
    pulumi_version=$(<"$root/.pulumi-version")
    uv_version=$(sed -n 's/^uv==\([0-9.]*\).*/\1/p' "$root/requirements-uv.txt")
    index=$(mktemp)
    trap 'rm -f "$index"' EXIT
    # The HTTP status of a GET after redirects, 000 when nothing answered. A one-byte range keeps
    # a release archive's probe small; servers that ignore ranges answer 200.
    status() { curl -sS -L -o "${2:-/dev/null}" -w '%{http_code}' --max-time 30 ${3:+-r "$3"} "$1" 2>/dev/null </dev/null; }
    while read -r check stacks url rest; do
        [[ -z $check || $check == \#* ]] && continue
        [[ $stacks == '*' || ",$stacks," == *",$STACK,"* ]] || continue
        url=${url//\{region\}/$AWS_REGION}
        url=${url//\{pulumi\}/$pulumi_version}
        url=${url//\{uv\}/$uv_version}
        case $check in
        chart)
            read -r chart version reason <<<"$rest"
            code=$(status "$url/index.yaml" "$index")
            if [[ $code != 200 ]]; then
                problem "chart repository $url answered HTTP $code for index.yaml ($chart $version, $reason): moved, or not reachable from this runner (.github/egress-hosts.txt)"
                continue
            fi
            archive=$(grep -oE "[^\"' ]*/$chart-${version//./\\.}\.tgz" "$index" | head -n 1)
            if [[ -z $archive ]]; then
                problem "chart repository $url does not list $chart $version in its index.yaml"
                continue
            fi
            [[ $archive == http* ]] || archive="$url/$archive"
            code=$(status "$archive" "" 0-0)
            [[ $code == 200 || $code == 206 ]] \
                || problem "cannot download $chart $version from $archive (HTTP $code): GitHub release assets redirect to release-assets.githubusercontent.com (.github/egress-hosts.txt)"
            ;;
        get)
            code=$(status "$url" "" 0-0)
            [[ $code == 200 || $code == 206 ]] \
                || problem "$url answered HTTP $code, not 200 ($rest; .github/egress-hosts.txt)"
            ;;
        route)
            code=$(status "$url")
            [[ $code != 000 ]] || problem "cannot reach $url from this runner ($rest; .github/egress-hosts.txt)"
            ;;
        *) problem ".github/egress-hosts.txt: unknown check '$check'" ;;
        esac
    done <"$root/.github/egress-hosts.txt"
fi

# The ruleset on main (docs/pipeline-setup.md, "Protect main"): merging to main is what runs
# main's code with the deploy roles, so a change must be reviewed by its code owners and main's
# history cannot be rewritten or deleted. Checked only where the job passes a GH_TOKEN, through
# "Get rules for a branch" (GET /repos/{owner}/{repo}/rules/branches/{branch}, docs.github.com
# REST "Rules"; metadata:read is enough), which lists every active rule that applies to main.
if [[ -n ${GH_TOKEN:-} ]]; then
    repository=${GITHUB_REPOSITORY:-'{owner}/{repo}'}
    if ! missing=$(gh api "repos/$repository/rules/branches/main?per_page=100" --jq '
        [ (if any(.[]; .type == "pull_request"
                  and (.parameters.required_approving_review_count // 0) >= 1
                  and (.parameters.require_code_owner_review // false))
           then empty else "a pull_request rule with at least 1 approval and code-owner review" end),
          (if any(.[]; .type == "non_fast_forward") then empty
           else "a non_fast_forward rule (blocks force pushes)" end),
          (if any(.[]; .type == "deletion") then empty else "a deletion rule" end)
        ] | .[]' 2>&1); then
        problem "cannot read the rules of main in $repository: $missing"
    else
        while IFS= read -r rule; do
            [[ -n $rule ]] && problem "the rules on main lack $rule (docs/pipeline-setup.md: 'Protect main')"
        done <<<"$missing"
    fi
    if ! grep -qE '^[^#[:space:]]+[[:space:]]+@' .github/CODEOWNERS 2>/dev/null; then
        problem ".github/CODEOWNERS names no owners, so code-owner review approves nothing"
    elif grep -q '@<org>/' .github/CODEOWNERS; then
        problem ".github/CODEOWNERS still names the placeholder @<org>/...: put the team that owns the platform there (docs/pipeline-setup.md: 'Protect main')"
    fi
fi

if ((problems)); then
    echo "$problems problem(s) above; nothing was run against the cloud."
    exit 1
fi
echo "Preflight of stack $STACK passed."
