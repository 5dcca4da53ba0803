#!/usr/bin/env bash
# Preview STACK with refresh, the policy pack and the stack's pack config, save the proposal as an
# update plan, and put it in the run summary where approvers read it.
#
#   STACK=prod .github/scripts/preview-plan.sh PLAN_FILE TITLE
#
# `--save-plan` is a [PREVIEW] flag, visible without PULUMI_EXPERIMENTAL (pulumi/pulumi@v3.259.0:
# pkg/cmd/pulumi/operations/preview.go:704-706); the plan file is what tools/pipeline/plan_file.py
# summarises and compares. Refresh here and in `up` alike, so drift is part of what is shown;
# PREVIEW_REFRESH=false previews against the last state instead, for a role with view access to
# the cluster, which cannot read what a refresh reads (docs/pipeline.md, "Who plans prod").
set -euo pipefail
plan=${1:?plan file}
title=${2:?title}
output="preview-${STACK:?}.txt"
refresh=(--refresh)
[[ ${PREVIEW_REFRESH:-true} == true ]] || refresh=()

events="preview-${STACK}.json"

# The engine's steps as JSON events (PULUMI_ENABLE_STREAMING_JSON_PREVIEW: pulumi/pulumi@v3.259.0
# sdk/go/common/env/env.go), judged by the transition rules with the stack file's
# acknowledgements (tools/transitions/engine.py): the same marks, consequences and keys as the
# offline diff, drift included. A transition that needs acknowledgement fails the preview.
set +e
PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview --stack "$STACK" --non-interactive \
    --color never "${refresh[@]}" --json \
    --policy-pack policies --policy-pack-config "policy-config.$STACK.json" \
    --save-plan "$plan" > "$events" 2> "$output.err"
status=$?
venv/bin/python -m tools.transitions.engine "$STACK" "$events" > "$output" 2>&1
judged=$?
cat "$output.err" >> "$output"
set -e
cat "$output"
if (( status == 0 )); then status=$judged; fi

{
    echo "## $title: $([[ $status == 0 ]] && echo "exit 0" || echo "FAILED (exit $status)")"
    echo
    if [[ $status == 0 ]]; then
        venv/bin/python -m tools.pipeline.plan_file summary "$plan"
        echo
    fi
    echo "<details><summary>pulumi preview ${refresh[*]} --json, judged by the transition rules (policy pack included)</summary>"
    echo
    echo '````text'
    # The step summary holds at most 1 MiB (docs.github.com, "Adding a job summary").
    head -c 900000 "$output"
    echo
    echo '````'
    echo "</details>"
} >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
exit "$status"
