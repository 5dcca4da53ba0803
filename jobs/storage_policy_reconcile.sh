#!/bin/sh
# storage_policy_reconcile.sh: make existing volumes and snapshots follow the
# stack's policy, not the one in force when they were made.
#
# Kubernetes copies a class's reclaimPolicy into each PV when it provisions it
# ("PersistentVolumes that are dynamically created by a StorageClass will have
# the reclaim policy specified in the reclaimPolicy field of the class",
# https://kubernetes.io/docs/concepts/storage/storage-classes/#reclaim-policy),
# and the snapshot controller copies a VolumeSnapshotClass's deletionPolicy into
# each content it creates (kubernetes-csi/external-snapshotter@v8.3.0:
# client/config/crd/snapshot.storage.k8s.io_volumesnapshotcontents.yaml,
# spec.deletionPolicy). So changing a class, or promoting a stack to
# production, reaches only what is made afterwards; this job, run hourly,
# brings the rest in line.
#
# Run by the reconciler CronJob. Needs only sh (dash / busybox ash), awk and
# kubectl.
#
# Environment:
#   CLASS_POLICIES            required  class=Retain|Delete, comma-separated: every
#                                       class of the catalog, retired ones included
#   SNAPSHOT_CLASSES          required  VolumeSnapshotClass names, comma-separated,
#                                       whose contents follow SNAPSHOT_DELETION_POLICY
#   SNAPSHOT_DELETION_POLICY  required  Retain or Delete
#   EXEMPT_NAMESPACES         optional  namespaces, comma-separated, whose claims'
#                                       PVs are left alone (a restore drill's
#                                       scratch namespace deletes its volumes on
#                                       purpose)
#
# PersistentVolumes: each PV of a class in CLASS_POLICIES gets that class's
# policy. A PV is moved to Delete only while Bound: the PV controller reclaims a
# Released PV as soon as its policy is Delete, so moving one would delete its
# volume at once; such PVs are logged and kept. The move is a JSON patch whose
# first operation tests that the phase is still Bound, so a claim deleted
# between the listing and the patch makes the patch fail instead. PVs of other
# classes or of no class are never touched.
#
# VolumeSnapshotContents of SNAPSHOT_CLASSES get SNAPSHOT_DELETION_POLICY,
# except contents
#   - made from an existing snapshot (spec.source.snapshotHandle, no
#     volumeHandle): a pre-provisioned content's policy is chosen when it is
#     made ("For pre-existing snapshots, users MUST specify this field", same
#     CRD), and a restore drill's copy must stay Retain;
#   - being deleted (metadata.deletionTimestamp);
#   - being pruned by snapshot_rotate.sh (annotation
#     snapshots.eks-config-storage.io/pruning);
#   - of a Velero backup (label velero.io/backup-name, velero-io/velero@v1.18.1:
#     pkg/apis/velero/v1/labels_annotations.go, BackupNameLabel): Velero keeps
#     them Retain for the backup's life and releases them itself when it expires
#     (pkg/backup/actions/csi/volumesnapshot_action.go).
# Each patch tests the resourceVersion the listing saw, so a content the
# rotator marks for pruning after the listing is left alone (the patch fails).
#
# Exit status: 0 everything follows policy (PVs kept from Delete are logged);
# 1 a listing or a patch failed (the Job fails so alerting sees it; the next
# run tries again); 2 invalid configuration.
set -eu

LC_ALL=C
export LC_ALL

TAB=$(printf '\t')

# from lib.sh: log err is_dns_subdomain is_dns_label

is_policy() {
    [ "$1" = Retain ] || [ "$1" = Delete ]
}

# from lib.sh: config_error

CLASS_POLICIES=${CLASS_POLICIES:-}
SNAPSHOT_CLASSES=${SNAPSHOT_CLASSES:-}
SNAPSHOT_DELETION_POLICY=${SNAPSHOT_DELETION_POLICY:-}
EXEMPT_NAMESPACES=${EXEMPT_NAMESPACES:-}

if [ -z "$CLASS_POLICIES" ]; then
    config_error "CLASS_POLICIES is required (class=Retain|Delete, comma-separated)"
else
    cp_rest=$CLASS_POLICIES,
    cp_seen=,
    while [ -n "$cp_rest" ]; do
        cp_entry=${cp_rest%%,*}
        cp_rest=${cp_rest#*,}
        cp_class=${cp_entry%%=*}
        cp_policy=${cp_entry#*=}
        if [ "$cp_class" = "$cp_entry" ] || ! is_dns_subdomain "$cp_class" ||
            ! is_policy "$cp_policy"; then
            config_error "CLASS_POLICIES entry '$cp_entry' is not class=Retain or class=Delete"
            continue
        fi
        case $cp_seen in
            *",$cp_class,"*) config_error "CLASS_POLICIES names class '$cp_class' twice" ;;
        esac
        cp_seen=$cp_seen$cp_class,
    done
fi

if [ -z "$SNAPSHOT_CLASSES" ]; then
    config_error "SNAPSHOT_CLASSES is required (VolumeSnapshotClass names, comma-separated)"
else
    sc_rest=$SNAPSHOT_CLASSES,
    while [ -n "$sc_rest" ]; do
        sc=${sc_rest%%,*}
        sc_rest=${sc_rest#*,}
        if ! is_dns_subdomain "$sc"; then
            config_error "SNAPSHOT_CLASSES entry '$sc' is not a VolumeSnapshotClass name"
        fi
    done
fi

if ! is_policy "$SNAPSHOT_DELETION_POLICY"; then
    config_error "SNAPSHOT_DELETION_POLICY '$SNAPSHOT_DELETION_POLICY' must be Retain or Delete"
fi

if [ -n "$EXEMPT_NAMESPACES" ]; then
    ex_rest=$EXEMPT_NAMESPACES,
    while [ -n "$ex_rest" ]; do
        ex=${ex_rest%%,*}
        ex_rest=${ex_rest#*,}
        if ! is_dns_label "$ex"; then
            config_error "EXEMPT_NAMESPACES entry '$ex' is not a namespace name"
        fi
    done
fi

if [ "$config_ok" -ne 1 ]; then
    exit 2
fi

if ! command -v kubectl >/dev/null 2>&1; then
    printf 'config error: kubectl not found on PATH\n' >&2
    exit 2
fi

failed=0

# ------------------------------------------------------------ PersistentVolumes

# Tab-separated, because the claim's namespace is empty for an unclaimed PV;
# awk -F with a tab keeps empty fields where read would merge them.
if pv_listing=$(kubectl get persistentvolumes \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.spec.storageClassName}{"\t"}{.spec.persistentVolumeReclaimPolicy}{"\t"}{.status.phase}{"\t"}{.spec.claimRef.namespace}{"\n"}{end}' \
    </dev/null); then
    # "action<TAB>pv<TAB>from<TAB>to<TAB>phase<TAB>claim namespace" for each PV
    # of a listed class that does not follow its class. Concatenating "" keeps
    # every comparison a string comparison.
    pv_plan=$(printf '%s\n' "$pv_listing" | awk -F "$TAB" \
        -v policies="$CLASS_POLICIES" -v exempt="$EXEMPT_NAMESPACES" '
        BEGIN {
            n = split(policies, entries, ",")
            for (i = 1; i <= n; i++) {
                split(entries[i], kv, "=")
                want[kv[1]] = kv[2]
            }
            n = split(exempt, names, ",")
            for (i = 1; i <= n; i++) skip[names[i]] = 1
        }
        NF == 5 && ($2 in want) && ($3 "") != (want[$2] "") {
            if ($5 != "" && ($5 in skip)) action = "exempt"
            else if (want[$2] == "Delete" && $4 != "Bound") action = "hold"
            else action = "patch"
            print action "\t" $1 "\t" ($3 == "" ? "unset" : $3) "\t" want[$2] "\t" ($4 == "" ? "unknown" : $4) "\t" ($5 == "" ? "-" : $5)
        }')
    while IFS=$TAB read -r pv_action pv_name pv_from pv_to pv_phase pv_claim_ns <&3; do
        if [ -z "$pv_action" ]; then
            continue
        fi
        if ! is_dns_subdomain "$pv_name"; then
            err "unexpected PV name '$pv_name'"
            failed=$((failed + 1))
            continue
        fi
        case $pv_action in
            exempt)
                log "left PV $pv_name ($pv_from, claimed in $pv_claim_ns, an exempt namespace)"
                ;;
            hold)
                log "warning: kept PV $pv_name $pv_from (phase $pv_phase): only a Bound PV is moved to $pv_to, a Released one would lose its volume at once; delete it deliberately if it should go"
                ;;
            patch)
                if [ "$pv_to" = Delete ]; then
                    pv_patch='[{"op":"test","path":"/status/phase","value":"Bound"},{"op":"replace","path":"/spec/persistentVolumeReclaimPolicy","value":"Delete"}]'
                    pv_type=json
                else
                    pv_patch='{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'
                    pv_type=merge
                fi
                if kubectl patch persistentvolume "$pv_name" --type="$pv_type" -p "$pv_patch" \
                    >/dev/null </dev/null; then
                    log "PV $pv_name: $pv_from -> $pv_to"
                else
                    err "cannot set PV $pv_name to $pv_to (it was $pv_from, $pv_phase)"
                    failed=$((failed + 1))
                fi
                ;;
        esac
    done 3<<EOF
$pv_plan
EOF
else
    err "cannot list PersistentVolumes"
    failed=$((failed + 1))
fi

# --------------------------------------------------- VolumeSnapshotContents

# kubectl's jsonpath ends a field name at an unescaped "." (kubernetes/client-go
# @57e697707f0b: util/jsonpath/parser.go, parseField).
if content_listing=$(kubectl get volumesnapshotcontents \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.spec.volumeSnapshotClassName}{"\t"}{.spec.deletionPolicy}{"\t"}{.metadata.resourceVersion}{"\t"}{.spec.source.volumeHandle}{"\t"}{.metadata.deletionTimestamp}{"\t"}{.metadata.annotations.snapshots\.eks-config-storage\.io/pruning}{"\t"}{.metadata.labels.velero\.io/backup-name}{"\n"}{end}' \
    </dev/null); then
    content_plan=$(printf '%s\n' "$content_listing" | awk -F "$TAB" \
        -v classes="$SNAPSHOT_CLASSES" -v want="$SNAPSHOT_DELETION_POLICY" '
        BEGIN { n = split(classes, c, ","); for (i = 1; i <= n; i++) ours[c[i]] = 1 }
        NF == 8 && ($2 in ours) && ($3 "") != (want "") {
            if ($5 == "") why = "made from an existing snapshot"
            else if ($6 != "") why = "being deleted"
            else if ($7 != "") why = "being pruned (" $7 ")"
            else if ($8 != "") why = "of Velero backup " $8
            else why = ""
            print (why == "" ? "patch" : "skip") "\t" $1 "\t" ($3 == "" ? "unset" : $3) "\t" ($4 == "" ? "-" : $4) "\t" (why == "" ? "-" : why)
        }')
    while IFS=$TAB read -r ct_action ct_name ct_from ct_version ct_why <&4; do
        if [ -z "$ct_action" ]; then
            continue
        fi
        if ! is_dns_subdomain "$ct_name"; then
            err "unexpected content name '$ct_name'"
            failed=$((failed + 1))
            continue
        fi
        if [ "$ct_action" = skip ]; then
            log "left content $ct_name $ct_from: $ct_why"
            continue
        fi
        case $ct_version in
            '' | *[!0-9]*)
                err "content $ct_name has an unexpected resourceVersion '$ct_version'"
                failed=$((failed + 1))
                continue
                ;;
        esac
        ct_patch="[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"$ct_version\"},{\"op\":\"replace\",\"path\":\"/spec/deletionPolicy\",\"value\":\"$SNAPSHOT_DELETION_POLICY\"}]"
        if kubectl patch volumesnapshotcontent "$ct_name" --type=json -p "$ct_patch" \
            >/dev/null </dev/null; then
            log "content $ct_name: $ct_from -> $SNAPSHOT_DELETION_POLICY"
        else
            err "cannot set content $ct_name to $SNAPSHOT_DELETION_POLICY (it was $ct_from; changed since the listing, or refused)"
            failed=$((failed + 1))
        fi
    done 4<<EOF
$content_plan
EOF
else
    err "cannot list VolumeSnapshotContents"
    failed=$((failed + 1))
fi

if [ "$failed" -gt 0 ]; then
    err "$failed volumes or contents do not follow policy yet"
    exit 1
fi
log "volumes and snapshot contents follow policy"
