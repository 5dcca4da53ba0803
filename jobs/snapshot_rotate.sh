#!/bin/sh
# snapshot_rotate.sh: snapshot every PVC a policy covers, then prune old generations.
#
# Run by the per-policy snapshot CronJob. Needs only sh (dash / busybox ash),
# coreutils or busybox (date, sort, awk, sed, head, cut) and kubectl.
#
# Environment:
#   POLICY          required  policy name, a DNS label (e.g. daily)
#   SELECTOR        required  kubectl label selector for the PVCs this policy covers
#   CLASSES         optional  StorageClass names, comma-separated: their PVCs are
#                             covered too, whatever their labels
#   KNOWN_POLICIES  required  every configured policy name, comma-separated,
#                             this one included
#   KEEP            required  generations to keep per PVC, integer >= 1
#   MAX_AGE_SECONDS optional  also prune generations older than this, except
#                             each PVC's newest ready one
#   ORPHAN_MAX_AGE_SECONDS
#                   required  prune this policy's generations of PVCs it no
#                             longer covers once they are older than this
#   SNAPSHOT_CLASS  required  VolumeSnapshotClass name
#   READY_TIMEOUT   optional  kubectl duration to wait for readyToUse (default 600s)
#   POLICY_LABEL    optional  label key marking this job's snapshots
#                             (default snapshots.eks-config-storage.io/policy)
#
# For each PVC matching SELECTOR or of a class in CLASSES (all namespaces, each
# PVC once): create a VolumeSnapshot
# labelled POLICY_LABEL=POLICY, wait until it is readyToUse, then prune this
# policy's snapshots of that PVC beyond the newest KEEP, ordered by
# (creationTimestamp, name), and with MAX_AGE_SECONDS those created before the
# run's start minus MAX_AGE_SECONDS; the newest ready one is never pruned. A
# PVC whose new snapshot was not created or did not become ready is not
# pruned. Snapshots without both POLICY_LABEL=POLICY and MADE_BY_LABEL=rotator
# are never touched: Velero's own VolumeSnapshots copy the PVC's labels, the
# policy label included (velero-io/velero@v1.18.1:
# pkg/backup/actions/csi/pvc_action.go:243-247), but never MADE_BY_LABEL.
#
# Every generation also carries velero.io/exclude-from-backup=true. Velero's
# backup runs its VolumeSnapshot action on every VolumeSnapshot of a backed-up
# namespace (velero-io/velero@v1.18.1:
# pkg/backup/actions/csi/volumesnapshot_action.go:60) and, when the backup
# finalizes, patches each one's content to Retain and deletes both objects
# (:87-93, pkg/util/csi/volume_snapshot.go:552-588, DeleteReadyVolumeSnapshot):
# the generation would leave the cluster and its physical snapshot would live
# as long as that backup. An item with the label is skipped before any action
# runs (pkg/backup/item_backupper.go:116-120), so rotation alone governs it.
#
# Pruning a generation releases its physical snapshot whatever the class's
# deletionPolicy: the bound VolumeSnapshotContent is switched to Delete and
# annotated PRUNING_ANNOTATION, then the VolumeSnapshot is deleted (see
# prune_generation); each run first finishes the releases of earlier runs that
# the snapshot controller missed (see finish_releases). A Retain class still
# protects against deleting a VolumeSnapshot or a namespace by hand; rotation
# is a deliberate deletion.
#
# Then, whatever happened above, PVCs and snapshots labelled POLICY_LABEL with
# a value not in KNOWN_POLICIES (a renamed or removed policy) are reported.
#
# Last, orphans: this policy's generations (both labels, as above) of a PVC
# the run did not cover, because the PVC was deleted or left the policy (its
# label removed, its class's protection narrowed). No rotation reaches them
# any more, so without this they and their physical snapshots would stay for
# good. Each is pruned, the same way as above, once it is older than
# ORPHAN_MAX_AGE_SECONDS: the life it would have had under rotation (the
# policy's maxAge, else keep times the schedule's longest gap between runs;
# design/snapshots.py), so a deleted PVC stays restorable for that window.
# Orphans are pruned only after this run listed every PVC it covers.
#
# Exit status: 0 every PVC snapshotted and pruned; 1 at least one PVC failed
# (the Job fails so alerting sees it); 2 invalid configuration; 3 this
# policy's PVCs are done, but some PVC is labelled with a policy that is not
# configured, so nothing backs it up.
set -eu

# Byte-wise sorting and bracket ranges, whatever the image's locale.
LC_ALL=C
export LC_ALL

PVC_ANNOTATION=snapshots.eks-config-storage.io/pvc
# Set only on the generations this script makes; the prune listing and the
# restore drill select on it.
MADE_BY_LABEL=snapshots.eks-config-storage.io/made-by
MADE_BY=rotator
# velero-io/velero@v1.18.1:pkg/apis/velero/v1/labels_annotations.go:103
VELERO_EXCLUDE_LABEL=velero.io/exclude-from-backup
# storage_policy_reconcile.sh leaves contents with this annotation alone.
PRUNING_ANNOTATION=snapshots.eks-config-storage.io/pruning
MAX_NAME=253
TAB=$(printf '\t')

# from lib.sh: log err

# ---------------------------------------------------------------- validation

# from lib.sh: is_dns_label

is_dns_subdomain() {
    case $1 in
        '' | *[!a-z0-9.-]* | [.-]* | *[.-] | *..* | *.-* | *-.*) return 1 ;;
    esac
    [ "${#1}" -le "$MAX_NAME" ]
}

# Label key: optional DNS-subdomain prefix and '/', then a name of at most 63
# characters from [A-Za-z0-9._-] that starts and ends alphanumeric.
# from lib.sh: is_label_key

# from lib.sh: config_error

POLICY=${POLICY:-}
SELECTOR=${SELECTOR:-}
CLASSES=${CLASSES:-}
KNOWN_POLICIES=${KNOWN_POLICIES:-}
KEEP=${KEEP:-}
MAX_AGE_SECONDS=${MAX_AGE_SECONDS:-}
ORPHAN_MAX_AGE_SECONDS=${ORPHAN_MAX_AGE_SECONDS:-}
SNAPSHOT_CLASS=${SNAPSHOT_CLASS:-}
READY_TIMEOUT=${READY_TIMEOUT:-600s}
POLICY_LABEL=${POLICY_LABEL:-snapshots.eks-config-storage.io/policy}

if [ -z "$POLICY" ]; then
    config_error "POLICY is required (a DNS label, e.g. daily)"
elif ! is_dns_label "$POLICY"; then
    config_error "POLICY '$POLICY' is not a DNS label ([a-z0-9-], at most 63, alphanumeric ends)"
fi

if [ -z "$SELECTOR" ]; then
    config_error "SELECTOR is required (a kubectl label selector for the PVCs of this policy)"
fi

if [ -n "$CLASSES" ]; then
    cl_rest=$CLASSES,
    while [ -n "$cl_rest" ]; do
        cl=${cl_rest%%,*}
        cl_rest=${cl_rest#*,}
        if ! is_dns_subdomain "$cl"; then
            config_error "CLASSES entry '$cl' is not a StorageClass name"
        fi
    done
fi

if [ -z "$KNOWN_POLICIES" ]; then
    config_error "KNOWN_POLICIES is required (every configured policy name, comma-separated)"
else
    kp_rest=$KNOWN_POLICIES,
    kp_self=0
    while [ -n "$kp_rest" ]; do
        kp=${kp_rest%%,*}
        kp_rest=${kp_rest#*,}
        if ! is_dns_label "$kp"; then
            config_error "KNOWN_POLICIES entry '$kp' is not a DNS label"
        elif [ "$kp" = "$POLICY" ]; then
            kp_self=1
        fi
    done
    if [ "$kp_self" -ne 1 ]; then
        config_error "KNOWN_POLICIES '$KNOWN_POLICIES' does not name POLICY '$POLICY'"
    fi
fi

# Digits only, no leading zero (so 0 is rejected and nothing reads as octal),
# at most 9 digits (so shell arithmetic cannot overflow).
case $KEEP in
    '')
        config_error "KEEP is required (generations to keep per PVC, an integer >= 1)"
        ;;
    *[!0-9]* | 0*)
        config_error "KEEP '$KEEP' must be an integer >= 1 without leading zeros"
        ;;
    *)
        if [ "${#KEEP}" -gt 9 ]; then
            config_error "KEEP '$KEEP' is too large"
        fi
        ;;
esac

# Same form as KEEP; at most 10 digits (over 300 years), far from overflow.
case $MAX_AGE_SECONDS in
    '') ;;
    *[!0-9]* | 0*)
        config_error "MAX_AGE_SECONDS '$MAX_AGE_SECONDS' must be an integer >= 1 without leading zeros"
        ;;
    *)
        if [ "${#MAX_AGE_SECONDS}" -gt 10 ]; then
            config_error "MAX_AGE_SECONDS '$MAX_AGE_SECONDS' is too large"
        fi
        ;;
esac

# Same form and bound as MAX_AGE_SECONDS.
case $ORPHAN_MAX_AGE_SECONDS in
    '')
        config_error "ORPHAN_MAX_AGE_SECONDS is required (seconds a generation of a PVC the policy no longer covers is kept)"
        ;;
    *[!0-9]* | 0*)
        config_error "ORPHAN_MAX_AGE_SECONDS '$ORPHAN_MAX_AGE_SECONDS' must be an integer >= 1 without leading zeros"
        ;;
    *)
        if [ "${#ORPHAN_MAX_AGE_SECONDS}" -gt 10 ]; then
            config_error "ORPHAN_MAX_AGE_SECONDS '$ORPHAN_MAX_AGE_SECONDS' is too large"
        fi
        ;;
esac

if [ -z "$SNAPSHOT_CLASS" ]; then
    config_error "SNAPSHOT_CLASS is required (a VolumeSnapshotClass name)"
elif ! is_dns_subdomain "$SNAPSHOT_CLASS"; then
    config_error "SNAPSHOT_CLASS '$SNAPSHOT_CLASS' is not a valid object name"
fi

# A kubectl (Go) duration such as 600s, 10m, 1h30m or 1.5h.
case $READY_TIMEOUT in
    *[!0-9.nusmh]*) timeout_ok=0 ;;
    [0-9]*[smh]) timeout_ok=1 ;;
    *) timeout_ok=0 ;;
esac
if [ "$timeout_ok" -ne 1 ]; then
    config_error "READY_TIMEOUT '$READY_TIMEOUT' is not a duration such as 600s or 10m"
fi

if ! is_label_key "$POLICY_LABEL"; then
    config_error "POLICY_LABEL '$POLICY_LABEL' is not a valid label key"
fi

if [ "$config_ok" -ne 1 ]; then
    exit 2
fi

if ! command -v kubectl >/dev/null 2>&1; then
    printf 'config error: kubectl not found on PATH\n' >&2
    exit 2
fi

# ------------------------------------------------------------------- actions
#
# The functions below run as `if` conditions, where `set -e` does not apply:
# every step checks its own status and returns 1 on failure so one PVC cannot
# abort the others. Variables are prefixed per function (POSIX sh has no local).

# prune_generation NS NAME REASON: delete snapshot NS/NAME and its physical
# snapshot.
#
# Upstream (kubernetes-csi/external-snapshotter@v8.3.0):
# - client/config/crd/snapshot.storage.k8s.io_volumesnapshots.yaml:
#   status.boundVolumeSnapshotContentName names the VolumeSnapshotContent the
#   snapshot is bound to, and consumers "must verify binding ... (by validating
#   that both VolumeSnapshot and VolumeSnapshotContent point at each other)".
# - client/config/crd/snapshot.storage.k8s.io_volumesnapshotcontents.yaml: the
#   content is cluster-scoped; spec.deletionPolicy decides whether the content
#   "and its physical snapshot on the underlying storage system" are deleted
#   "when its bound VolumeSnapshot is deleted" ("Retain" keeps both). Unlike
#   spec.source.* (x-kubernetes-validations "self == oldSelf"), deletionPolicy
#   carries no immutability rule, so it may be patched after creation; the
#   project's README says nothing either way, and CHANGELOG/CHANGELOG-3.0.md
#   (#292, #294) fixed deletion after a content's DeletionPolicy "has been
#   updated", a case the controller handles on purpose.
# - pkg/common-controller/snapshot_controller.go
#   (processSnapshotWithDeletionTimestamp): the deletion policy is read from
#   the content when the VolumeSnapshot is deleted, and only a content whose
#   volumeSnapshotRef points back at that VolumeSnapshot is deleted.
# velero-io/velero@v1.18.1:pkg/util/csi/volume_snapshot.go
# (CleanupVolumeSnapshot) releases expired backups the same way: merge-patch
# the bound content to Delete, then delete the VolumeSnapshot. Unlike Velero,
# a failed step here keeps the VolumeSnapshot: deleting it while its content is
# still Retain would orphan the content and the EBS snapshot for good.
# The controller reads the content from its informer cache; if that cache has
# not seen the patch when the deletion is processed, the content (now Delete)
# stays behind, bound to nothing, and syncContent never deletes such a content.
prune_generation() {
    pg_ns=$1
    pg_name=$2
    pg_reason=$3
    if ! pg_content=$(kubectl get volumesnapshot --namespace "$pg_ns" "$pg_name" \
        -o jsonpath='{.status.boundVolumeSnapshotContentName}' </dev/null); then
        err "cannot read snapshot $pg_ns/$pg_name; not deleting it"
        return 1
    fi
    # An unbound snapshot may still have a content the controller has not
    # recorded yet; deleting it now could orphan that content.
    if [ -z "$pg_content" ]; then
        err "snapshot $pg_ns/$pg_name is not bound to a VolumeSnapshotContent; not deleting it"
        return 1
    fi
    if ! is_dns_subdomain "$pg_content"; then
        err "snapshot $pg_ns/$pg_name is bound to an unexpected content name '$pg_content'"
        return 1
    fi
    if ! pg_facts=$(kubectl get volumesnapshotcontent "$pg_content" \
        -o jsonpath='{.spec.volumeSnapshotRef.namespace}{" "}{.spec.volumeSnapshotRef.name}{" "}{.spec.deletionPolicy}' \
        </dev/null); then
        err "cannot read content $pg_content of $pg_ns/$pg_name; not deleting it"
        return 1
    fi
    read -r pg_ref_ns pg_ref_name pg_policy pg_extra <<EOF
$pg_facts
EOF
    if [ "$pg_ref_ns" != "$pg_ns" ] || [ "$pg_ref_name" != "$pg_name" ] || [ -n "$pg_extra" ]; then
        err "content $pg_content does not point back at $pg_ns/$pg_name; not deleting it"
        return 1
    fi
    # Patched even when already Delete: the annotation tells
    # storage_policy_reconcile.sh that this content is going, so it never sets
    # it back to Retain between here and the controller's deletion, which would
    # orphan the content and its physical snapshot. Names are validated, so the
    # JSON needs no escaping.
    if ! kubectl patch volumesnapshotcontent "$pg_content" --type=merge \
        -p "{\"metadata\":{\"annotations\":{\"$PRUNING_ANNOTATION\":\"$pg_ns/$pg_name\"}},\"spec\":{\"deletionPolicy\":\"Delete\"}}" \
        >/dev/null </dev/null; then
        err "cannot set deletionPolicy Delete on $pg_content; not deleting $pg_ns/$pg_name"
        return 1
    fi
    if ! kubectl delete volumesnapshot --namespace "$pg_ns" "$pg_name" --wait=false \
        >/dev/null </dev/null; then
        err "cannot delete snapshot $pg_ns/$pg_name"
        return 1
    fi
    log "pruned $pg_ns/$pg_name ($pg_reason; content $pg_content was $pg_policy)"
}

# finish_releases: delete the contents an earlier prune released (Delete,
# marked PRUNING_ANNOTATION=<namespace>/<snapshot>) that outlived their
# snapshot. The controller reads the content's deletionPolicy from its informer
# cache when the snapshot is deleted; a cache that had not seen the release yet
# keeps the content, and the controller never deletes a content whose snapshot
# is gone (kubernetes-csi/external-snapshotter@v8.3.0:
# pkg/common-controller/snapshot_controller.go, syncContent: "Do not trigger
# content deletion if snapshot is nil"). Deleting it lets the CSI sidecar
# delete the physical snapshot, as the prune meant. A content whose snapshot
# still exists and is bound to it is left alone: that snapshot is still a
# generation (or being deleted), pruned again by its policy. Every policy's run
# does this for all marked contents; a second delete finds nothing.
finish_releases() {
    if ! fr_listing=$(kubectl get volumesnapshotcontents \
        -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.spec.volumeSnapshotClassName}{"\t"}{.spec.deletionPolicy}{"\t"}{.metadata.resourceVersion}{"\t"}{.spec.source.volumeHandle}{"\t"}{.metadata.deletionTimestamp}{"\t"}{.metadata.annotations.snapshots\.eks-config-storage\.io/pruning}{"\t"}{.metadata.labels.velero\.io/backup-name}{"\n"}{end}' \
        </dev/null); then
        err "cannot list VolumeSnapshotContents to finish earlier releases"
        return 1
    fi
    # Tab is whitespace to read: empty fields would shift, so awk splits.
    fr_released=$(printf '%s\n' "$fr_listing" |
        awk -F "$TAB" '$3 == "Delete" && $6 == "" && $7 != "" { print $1 " " $7 }')
    fr_failed=0
    while read -r fr_content fr_mark fr_extra <&6; do
        if [ -z "$fr_content$fr_mark$fr_extra" ]; then
            continue
        fi
        fr_ns=${fr_mark%%/*}
        fr_snap=${fr_mark#*/}
        if [ -n "$fr_extra" ] || ! is_dns_subdomain "$fr_content" || ! is_dns_label "$fr_ns" ||
            ! is_dns_subdomain "$fr_snap"; then
            err "unexpected released content '$fr_content' marked '$fr_mark'; left alone"
            fr_failed=$((fr_failed + 1))
            continue
        fi
        if ! fr_found=$(kubectl get volumesnapshot --namespace "$fr_ns" "$fr_snap" \
            --ignore-not-found -o jsonpath='{.metadata.name}{" "}{.status.boundVolumeSnapshotContentName}' \
            </dev/null); then
            err "cannot check whether $fr_mark, released with $fr_content, still exists"
            fr_failed=$((fr_failed + 1))
            continue
        fi
        if [ "$fr_found" = "$fr_snap $fr_content" ]; then
            continue
        fi
        if ! kubectl delete volumesnapshotcontent "$fr_content" --wait=false --ignore-not-found \
            >/dev/null </dev/null; then
            err "cannot delete $fr_content, released when $fr_mark was pruned"
            fr_failed=$((fr_failed + 1))
            continue
        fi
        log "deleted $fr_content: released when $fr_mark was pruned, it outlived that snapshot"
    done 6<<EOF
$fr_released
EOF
    [ "$fr_failed" -eq 0 ]
}

# prune_pvc NS PVC NEW_NAME: prune this policy's snapshots of NS/PVC: those
# beyond the newest KEEP and, with MAX_AGE_SECONDS, those created before
# CUTOFF, but never the newest ready one. NEW_NAME (the snapshot just created)
# must be listed, or nothing is pruned.
prune_pvc() {
    pp_ns=$1
    pp_pvc=$2
    pp_new=$3
    # Tab-separated: readyToUse is empty until the controller sets it, and a
    # blank-separated empty field would shift the others. kubectl's jsonpath
    # unquotes "\t" like a Go string literal (kubernetes/client-go@57e697707f0b:
    # util/jsonpath/parser.go, parseQuote).
    if ! pp_listing=$(kubectl get volumesnapshots --namespace "$pp_ns" -l "$POLICY_LABEL=$POLICY,$MADE_BY_LABEL=$MADE_BY" \
        -o jsonpath='{range .items[*]}{.metadata.creationTimestamp}{"\t"}{.metadata.name}{"\t"}{.spec.source.persistentVolumeClaimName}{"\t"}{.status.readyToUse}{"\n"}{end}' \
        </dev/null); then
        err "cannot list snapshots in namespace $pp_ns; not pruning $pp_ns/$pp_pvc"
        return 1
    fi

    # "timestamp<TAB>name<TAB>ready" of this PVC's snapshots, oldest first; ties
    # on the timestamp broken by name. Concatenating "" forces a string
    # comparison (awk would compare PVC names such as 100 and 1e2 as numbers).
    pp_ordered=$(printf '%s\n' "$pp_listing" |
        awk -F "$TAB" -v pvc="$pp_pvc" \
            'NF == 4 && ($3 "") == (pvc "") { print $1 "\t" $2 "\t" $4 }' |
        sort -t "$TAB" -k1,1 -k2,2)

    if ! printf '%s\n' "$pp_ordered" |
        awk -F "$TAB" -v name="$pp_new" '($2 "") == (name "") { found = 1 } END { exit !found }'; then
        err "new snapshot $pp_ns/$pp_new missing from the listing; not pruning $pp_ns/$pp_pvc"
        return 1
    fi

    # "name<TAB>reason" of each generation to prune, oldest first. The API
    # server writes creationTimestamp as RFC 3339 in UTC with whole seconds
    # (2006-01-02T15:04:05Z), so comparing it with CUTOFF as strings compares
    # the times.
    pp_doomed=$(printf '%s\n' "$pp_ordered" | awk -F "$TAB" -v keep="$KEEP" -v cutoff="$CUTOFF" '
        NF { n++; ts[n] = $1; name[n] = $2; if ($3 == "true") newest_ready = n }
        END {
            for (i = 1; i <= n; i++) {
                if (i == newest_ready) continue
                if (i <= n - keep) print name[i] "\tbeyond keep"
                else if (cutoff != "" && (ts[i] "") < (cutoff "")) print name[i] "\tolder than maxAge"
            }
        }')

    pp_total=$(printf '%s\n' "$pp_ordered" | awk 'NF { n++ } END { print n + 0 }')
    pp_deleted=0
    pp_status=0
    while IFS=$TAB read -r pp_old pp_reason <&4; do
        if [ -z "$pp_old" ]; then
            continue
        fi
        if prune_generation "$pp_ns" "$pp_old" "$pp_reason"; then
            pp_deleted=$((pp_deleted + 1))
        else
            pp_status=1
        fi
    done 4<<EOF
$pp_doomed
EOF
    log "kept $((pp_total - pp_deleted)) of $pp_total for $pp_ns/$pp_pvc"
    return "$pp_status"
}

# rotate_pvc NS PVC: snapshot NS/PVC, wait until ready, then prune.
rotate_pvc() {
    rp_ns=$1
    rp_pvc=$2

    if ! rp_ts=$(date -u +%Y%m%d%H%M%S); then
        err "date failed; not snapshotting $rp_ns/$rp_pvc"
        return 1
    fi
    case $rp_ts in
        '' | *[!0-9]*) rp_ts_ok=0 ;;
        *) rp_ts_ok=1 ;;
    esac
    if [ "$rp_ts_ok" -ne 1 ] || [ "${#rp_ts}" -ne 14 ]; then
        err "unexpected timestamp '$rp_ts'; not snapshotting $rp_ns/$rp_pvc"
        return 1
    fi

    # <pvc>-<policy>-<timestamp>, the PVC part cut so the name fits in 253
    # characters and still ends alphanumeric.
    rp_suffix=-$POLICY-$rp_ts
    rp_room=$((MAX_NAME - ${#rp_suffix}))
    rp_base=$rp_pvc
    if [ "${#rp_base}" -gt "$rp_room" ]; then
        rp_base=$(printf '%s\n' "$rp_pvc" | cut -c "1-$rp_room" | sed 's/[.-]*$//')
    fi
    rp_name=$rp_base$rp_suffix

    # Every value is double-quoted: names such as "true" or "0x1f" are valid
    # PVC names but would not be strings as plain YAML scalars. Validation
    # above keeps quotes and backslashes out of all of them.
    if ! kubectl create -f - >/dev/null <<EOF
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: "$rp_name"
  namespace: "$rp_ns"
  labels:
    "$POLICY_LABEL": "$POLICY"
    "$MADE_BY_LABEL": "$MADE_BY"
    "$VELERO_EXCLUDE_LABEL": "true"
  annotations:
    "$PVC_ANNOTATION": "$rp_pvc"
spec:
  volumeSnapshotClassName: "$SNAPSHOT_CLASS"
  source:
    persistentVolumeClaimName: "$rp_pvc"
EOF
    then
        err "cannot create snapshot $rp_ns/$rp_name; not pruning $rp_ns/$rp_pvc"
        return 1
    fi
    log "snapshot created $rp_ns/$rp_name"

    if ! kubectl wait --namespace "$rp_ns" --for=jsonpath='{.status.readyToUse}'=true \
        --timeout="$READY_TIMEOUT" "volumesnapshot/$rp_name" >/dev/null </dev/null; then
        err "snapshot $rp_ns/$rp_name not ready within $READY_TIMEOUT; not pruning $rp_ns/$rp_pvc"
        return 1
    fi
    log "snapshot ready $rp_ns/$rp_name"

    prune_pvc "$rp_ns" "$rp_pvc" "$rp_name"
}

# report_unknown_policies: find what carries POLICY_LABEL with a value that no
# configured policy has. A renamed or removed policy leaves such PVCs without
# any job: they are counted in $unknown, so the run fails and says why. Such
# snapshots are only reported: no job prunes them, and deleting a backup is
# not this job's call.
report_unknown_policies() {
    ru_selector=$POLICY_LABEL
    ru_rest=$KNOWN_POLICIES,
    while [ -n "$ru_rest" ]; do
        ru_selector="$ru_selector,$POLICY_LABEL!=${ru_rest%%,*}"
        ru_rest=${ru_rest#*,}
    done
    # kubectl's jsonpath ends a field name at an unescaped "." and drops the
    # backslash of an escaped one (kubernetes/client-go@57e697707f0b:
    # util/jsonpath/parser.go, parseField and advance).
    ru_key=$(printf '%s\n' "$POLICY_LABEL" | sed 's/\./\\./g')
    ru_template="{range .items[*]}{.metadata.namespace}{\"\t\"}{.metadata.name}{\"\t\"}{.metadata.labels.$ru_key}{\"\n\"}{end}"

    if ! ru_pvcs=$(kubectl get persistentvolumeclaims --all-namespaces -l "$ru_selector" \
        -o "jsonpath=$ru_template" </dev/null); then
        err "cannot list PVCs labelled with a policy that is not configured"
        return 1
    fi
    while IFS=$TAB read -r ru_ns ru_name ru_policy <&5; do
        if [ -z "$ru_ns$ru_name" ]; then
            continue
        fi
        unknown=$((unknown + 1))
        err "PVC $ru_ns/$ru_name is labelled $POLICY_LABEL=$ru_policy, a policy that is not configured: no job snapshots it"
    done 5<<EOF
$ru_pvcs
EOF

    if ! ru_snapshots=$(kubectl get volumesnapshots --all-namespaces -l "$ru_selector" \
        -o "jsonpath=$ru_template" </dev/null); then
        err "cannot list snapshots labelled with a policy that is not configured"
        return 1
    fi
    # One line per namespace and policy: a removed hourly policy leaves
    # hundreds of generations.
    printf '%s\n' "$ru_snapshots" |
        awk -F "$TAB" 'NF == 3 { n[$1 "\t" $3]++ } END { for (k in n) print k "\t" n[k] }' |
        sort |
        while IFS=$TAB read -r ru_ns ru_policy ru_count; do
            log "warning: $ru_count snapshots in namespace $ru_ns are labelled $POLICY_LABEL=$ru_policy, a policy that is not configured: no job prunes them"
        done
}

# prune_orphans: prune this policy's generations of PVCs not in $pvc_list
# (the PVCs this run covers) created before ORPHAN_CUTOFF. Returns 1 if the
# listing or any prune failed; what was left is tried again by the next run.
prune_orphans() {
    if ! po_listing=$(kubectl get volumesnapshots --all-namespaces -l "$POLICY_LABEL=$POLICY,$MADE_BY_LABEL=$MADE_BY" \
        -o jsonpath='{range .items[*]}{.metadata.creationTimestamp}{"\t"}{.metadata.namespace}{"\t"}{.metadata.name}{"\t"}{.spec.source.persistentVolumeClaimName}{"\n"}{end}' \
        </dev/null); then
        err "cannot list this policy's generations of PVCs it no longer covers"
        return 1
    fi
    # "namespace<TAB>name<TAB>pvc" of each orphan created before the cutoff,
    # oldest first. The covered PVCs ("ns pvc", no tab) come first on the same
    # stream; string comparisons as in prune_pvc.
    po_doomed=$(printf '%s\n%s\n' "$pvc_list" "$po_listing" |
        awk -F "$TAB" -v cutoff="$ORPHAN_CUTOFF" '
            NF == 1 { split($0, p, " "); covered[p[1] "/" p[2]] = 1; next }
            NF == 4 && !(($2 "/" $4) in covered) && ($1 "") < (cutoff "") { print }' |
        sort -t "$TAB" -k1,1 -k2,2 -k3,3 | cut -f 2-)
    po_status=0
    while IFS=$TAB read -r po_ns po_name po_pvc <&7; do
        if [ -z "$po_ns$po_name" ]; then
            continue
        fi
        if ! is_dns_label "$po_ns" || ! is_dns_subdomain "$po_name"; then
            err "unexpected generation listing '$po_ns/$po_name'; left alone"
            po_status=1
            continue
        fi
        if ! prune_generation "$po_ns" "$po_name" \
            "PVC $po_ns/$po_pvc not in policy $POLICY, older than ${ORPHAN_MAX_AGE_SECONDS}s"; then
            po_status=1
        fi
    done 7<<EOF
$po_doomed
EOF
    return "$po_status"
}

# ---------------------------------------------------------------------- main

# The maxAge cutoff, once per run, as RFC 3339 UTC like creationTimestamp.
# "date +%s" and "date -d @SECONDS" are not POSIX, but GNU coreutils and
# busybox (the image's date) both provide them.
# The orphans' cutoff likewise, from the same reading of the clock.
if ! now=$(date -u +%s); then
    err "date failed; cannot compute the maxAge cutoff"
    exit 1
fi
case $now in
    '' | *[!0-9]*)
        err "unexpected epoch time '$now'; cannot compute the maxAge cutoff"
        exit 1
        ;;
esac

# cutoff_before SECONDS: the time SECONDS before $now, as RFC 3339 UTC.
cutoff_before() {
    if ! cb_time=$(date -u -d "@$((now - $1))" +%Y-%m-%dT%H:%M:%SZ); then
        err "date -d failed; cannot compute the maxAge cutoff"
        return 1
    fi
    case $cb_time in
        [0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z) ;;
        *)
            err "unexpected cutoff '$cb_time'; cannot apply maxAge"
            return 1
            ;;
    esac
    printf '%s\n' "$cb_time"
}

CUTOFF=
if [ -n "$MAX_AGE_SECONDS" ]; then
    if ! CUTOFF=$(cutoff_before "$MAX_AGE_SECONDS"); then
        exit 1
    fi
    log "policy $POLICY: pruning generations created before $CUTOFF (maxAge ${MAX_AGE_SECONDS}s)"
fi
if ! ORPHAN_CUTOFF=$(cutoff_before "$ORPHAN_MAX_AGE_SECONDS"); then
    exit 1
fi

# Before this run prunes anything: what earlier runs released has long been
# through the controller.
releases_done=1
if ! finish_releases; then
    releases_done=0
fi

if ! pvc_list=$(kubectl get persistentvolumeclaims --all-namespaces -l "$SELECTOR" \
    -o jsonpath='{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{"\n"}{end}' \
    </dev/null); then
    err "cannot list PVCs matching '$SELECTOR'"
    exit 1
fi

# A class whose protection names this policy covers its PVCs by construction.
# One listing of every PVC with its class: a PVC that names no class gets the
# default one written into spec.storageClassName at admission
# (https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#defaultstorageclass),
# so the field is what the volume was provisioned with.
if [ -n "$CLASSES" ]; then
    if ! class_listing=$(kubectl get persistentvolumeclaims --all-namespaces \
        -o jsonpath='{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.spec.storageClassName}{"\n"}{end}' \
        </dev/null); then
        err "cannot list PVCs of classes $CLASSES"
        exit 1
    fi
    by_class=$(printf '%s\n' "$class_listing" | awk -v classes="$CLASSES" '
        BEGIN { n = split(classes, c, ","); for (i = 1; i <= n; i++) want[c[i]] = 1 }
        NF == 3 && ($3 in want) { print $1 " " $2 }')
    # Labelled PVCs first, in the API server's order, then those only their
    # class covers: each PVC once, so it gets one snapshot per run.
    pvc_list=$(printf '%s\n%s\n' "$pvc_list" "$by_class" | awk 'NF && !seen[$0]++')
fi

pvc_count=0
failed=0
if [ -z "$pvc_list" ] && [ -n "$CLASSES" ]; then
    log "no PVCs match '$SELECTOR' or use classes $CLASSES (policy $POLICY)"
elif [ -z "$pvc_list" ]; then
    log "no PVCs match '$SELECTOR' (policy $POLICY)"
fi
while read -r ns pvc extra <&3; do
    if [ -z "$ns$pvc$extra" ]; then
        continue
    fi
    pvc_count=$((pvc_count + 1))
    # Names go into the manifest: accept only what the API server can return.
    if [ -n "$extra" ] || ! is_dns_label "$ns" || ! is_dns_subdomain "$pvc"; then
        err "unexpected PVC listing line '$ns $pvc $extra'"
        failed=$((failed + 1))
        continue
    fi
    if ! rotate_pvc "$ns" "$pvc"; then
        failed=$((failed + 1))
    fi
done 3<<EOF
$pvc_list
EOF

unknown=0
unknown_checked=1
if ! report_unknown_policies; then
    unknown_checked=0
fi

orphans_done=1
if ! prune_orphans; then
    orphans_done=0
fi

if [ "$failed" -gt 0 ]; then
    err "policy $POLICY: $failed of $pvc_count PVCs failed"
fi
if [ "$unknown_checked" -ne 1 ]; then
    err "policy $POLICY: could not check for PVCs labelled with a policy that is not configured"
fi
if [ "$releases_done" -ne 1 ]; then
    err "policy $POLICY: some contents released by earlier runs are still there, and their physical snapshots with them"
fi
if [ "$orphans_done" -ne 1 ]; then
    err "policy $POLICY: some generations of PVCs it no longer covers were not pruned"
fi
if [ "$failed" -gt 0 ] || [ "$unknown_checked" -ne 1 ] || [ "$releases_done" -ne 1 ] ||
    [ "$orphans_done" -ne 1 ]; then
    exit 1
fi
if [ "$unknown" -gt 0 ]; then
    err "policy $POLICY: $pvc_count PVCs snapshotted, but $unknown PVCs are labelled with a policy that is not configured (configured: $KNOWN_POLICIES)"
    exit 3
fi
if [ "$pvc_count" -gt 0 ]; then
    log "policy $POLICY: $pvc_count PVCs snapshotted"
fi
