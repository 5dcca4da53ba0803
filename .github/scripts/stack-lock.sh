#!/usr/bin/env bash
# Finds the DIY backend's lock objects of one stack and says whose they are.
#
#   STACK=prod PULUMI_BACKEND_URL=s3://bucket?region=... .github/scripts/stack-lock.sh [--fail]
#
# `pulumi up` writes .pulumi/locks/<org>/<project>/<stack>/<id>.json into the state bucket and
# deletes it when it ends (pulumi/pulumi@v3.259.0: pkg/backend/diy/lock.go:130-177). A run that was
# cancelled or timed out is killed before it can delete it (docs.github.com, "Workflow cancellation
# reference": SIGINT, SIGTERM after 7.5 s, then the process tree is killed), and every later update
# fails on it. Deploy jobs run one at a time per stack, so a lock they find was left by a killed
# run or is held by someone working by hand: --fail stops the job with the runbook; without it
# (previews, which take no lock) it is only a warning.
set -euo pipefail

url=${PULUMI_BACKEND_URL:?}
url=${url#s3://}
bucket=${url%%[/?]*}
prefix=""
rest=${url#"$bucket"}
if [[ $rest == /* ]]; then
    prefix=${rest%%\?*}
    prefix=${prefix#/}
    [[ -z $prefix || $prefix == */ ]] || prefix="$prefix/"
fi
project=$(sed -n 's/^name: *//p' Pulumi.yaml)
# FullyQualifiedName: organization/<project>/<stack> for project-scoped stacks, <stack> in the
# older flat layout (pulumi/pulumi@v3.259.0: pkg/backend/diy/backend.go:190-195).
dirs=("${prefix}.pulumi/locks/organization/$project/${STACK:?}/" "${prefix}.pulumi/locks/${STACK}/")

found=0
for dir in "${dirs[@]}"; do
    keys=$(aws s3api list-objects-v2 --bucket "$bucket" --prefix "$dir" \
        --query 'Contents[].Key' --output text)
    for key in $keys; do
        [[ $key == None ]] && continue
        found=$((found + 1))
        echo "lock s3://$bucket/$key: $(aws s3 cp "s3://$bucket/$key" - 2>/dev/null || echo '(unreadable)')"
    done
done

if ((found == 0)); then
    echo "Stack $STACK is not locked."
    exit 0
fi
message="stack $STACK has $found lock(s) in the state bucket: an update is running elsewhere, or a cancelled run left it. docs/pipeline.md: 'Recovering a cancelled or timed-out deploy'."
if [[ ${1:-} == --fail ]]; then
    echo "::error::$message"
    exit 1
fi
echo "::warning::$message"
