#!/bin/sh
# restore_drill.sh: restore the newest ready snapshot of a policy into a scratch
# namespace, check that the volume mounts and lists, time it, clean up.
#
# Run by each restore drill's CronJob. Needs only sh (dash / busybox ash),
# date, sleep, awk, sort, tail and kubectl.
#
# Environment:
#   DRILL            required  drill name, a DNS label
#   POLICY           required  snapshot policy whose newest ready snapshot is restored
#   NAMESPACE        required  scratch namespace the copy is restored into
#   CRONJOB          required  this drill's CronJob in NAMESPACE: the result is
#                              recorded on it (annotation LAST_DRILL)
#   CHECK_IMAGE      required  image of the pod that mounts and lists the volume
#   TIMEOUT_SECONDS  required  from the first object created to the check's success
#   POLL_SECONDS     optional  how often the check pod is read (default 10)
#   POLICY_LABEL     optional  label key of the policy's snapshots
#                              (default snapshots.eks-config-storage.io/policy)
#
# The snapshot may live in any namespace; a PVC can only be restored from a
# VolumeSnapshot in its own namespace, so the drill makes a pre-bound copy: a
# VolumeSnapshotContent naming the same physical snapshot (snapshotHandle)
# with deletionPolicy Retain, and a VolumeSnapshot in NAMESPACE bound to it
# ("Pre-provisioned volume snapshot", https://kubernetes.io/docs/concepts/
# storage/volume-snapshots/; design/restore.py: prebound_copy). Retain is what
# keeps the original safe: deleting a content whose policy is Delete deletes
# its physical snapshot (kubernetes-csi/external-snapshotter@v8.3.0:
# pkg/sidecar-controller/snapshot_controller.go, syncContent), and that
# snapshot is the original's. Then a PVC of the source PVC's class from the
# copy, and a read-only pod that lists it.
#
# Cleanup, whatever happened, in this order: the pod; the restored PV set to
# Delete while still claimed by the drill's PVC (the class may Retain, and a
# drill must not leave a volume behind every week), then the PVC; the copy and
# its content only once the content is confirmed Retain. The original
# snapshot, its content and its physical snapshot are never written to.
#
# Exit status: 0 restored, checked, cleaned up and recorded; 1 any step
# failed (the message says which; cleanup was attempted); 2 invalid
# configuration.
set -eu

LC_ALL=C
export LC_ALL

DRILL_LABEL=restore.eks-config-storage.io/drill
RESTORED_FROM=restore.eks-config-storage.io/from
LAST_DRILL=restore.eks-config-storage.io/last-drill
MOUNT=/restore
CHECK_USER=65532
TAB=$(printf '\t')

# from lib.sh: log err is_dns_label is_dns_subdomain is_label_key

# Digits only, no leading zero, at most $2 digits.
is_count() {
    case $1 in
        '' | *[!0-9]* | 0*) return 1 ;;
    esac
    [ "${#1}" -le "$2" ]
}

# A Kubernetes quantity as restoreSize and capacity are written (20Gi, 1500M).
is_quantity() {
    case $1 in
        [0-9]*) ;;
        *) return 1 ;;
    esac
    case $1 in
        *[!0-9.KMGTPEki]* | *.*.*) return 1 ;;
    esac
    [ "${#1}" -le 32 ]
}

# from lib.sh: config_error

DRILL=${DRILL:-}
POLICY=${POLICY:-}
NAMESPACE=${NAMESPACE:-}
CRONJOB=${CRONJOB:-}
CHECK_IMAGE=${CHECK_IMAGE:-}
TIMEOUT_SECONDS=${TIMEOUT_SECONDS:-}
POLL_SECONDS=${POLL_SECONDS:-10}
POLICY_LABEL=${POLICY_LABEL:-snapshots.eks-config-storage.io/policy}

# Each name below is used in object names, so it is kept short.
if ! is_dns_label "$DRILL" || [ "${#DRILL}" -gt 30 ]; then
    config_error "DRILL '$DRILL' must be a DNS label of at most 30 characters"
fi
if ! is_dns_label "$POLICY"; then
    config_error "POLICY '$POLICY' must be a DNS label"
fi
if ! is_dns_label "$NAMESPACE"; then
    config_error "NAMESPACE '$NAMESPACE' must be a namespace name"
fi
if ! is_dns_subdomain "$CRONJOB"; then
    config_error "CRONJOB '$CRONJOB' must be a CronJob name"
fi
case $CHECK_IMAGE in
    '' | *[!A-Za-z0-9./:@_-]*) config_error "CHECK_IMAGE '$CHECK_IMAGE' must be an image reference" ;;
esac
if ! is_count "$TIMEOUT_SECONDS" 5; then
    config_error "TIMEOUT_SECONDS '$TIMEOUT_SECONDS' must be a whole number of seconds, at most 99999"
fi
if ! is_count "$POLL_SECONDS" 3; then
    config_error "POLL_SECONDS '$POLL_SECONDS' must be a whole number of seconds, at most 999"
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

# now: seconds since the epoch, into $now.
now() {
    if ! now=$(date -u +%s); then
        err "date failed"
        return 1
    fi
    case $now in
        '' | *[!0-9]*)
            err "unexpected epoch time '$now'"
            return 1
            ;;
    esac
}

# fields TEXT: TEXT's tab-separated fields with each empty one as "-", so
# `read` (which merges adjacent tabs) keeps every field in place. No value
# read this way can be "-" itself: names, quantities and handles start with
# an alphanumeric.
fields() {
    printf '%s\n' "$1" | awk -F "$TAB" -v OFS="$TAB" '{ for (i = 1; i <= NF; i++) if ($i == "") $i = "-"; print }'
}

# ---------------------------------------------------------------- the source

# Every snapshot the rotator made for the policy, in every namespace; the
# newest ready one is restored. Velero's VolumeSnapshots copy the PVC's labels,
# the policy label too (velero-io/velero@v1.18.1:
# pkg/backup/actions/csi/pvc_action.go:243-247), and one it restored has no
# PVC source; only the rotator sets MADE_BY_LABEL. Ordered by
# (creationTimestamp, namespace, name): RFC 3339 UTC timestamps with whole
# seconds compare as strings.
MADE_BY_LABEL=snapshots.eks-config-storage.io/made-by
if ! listing=$(kubectl get volumesnapshots --all-namespaces -l "$POLICY_LABEL=$POLICY,$MADE_BY_LABEL=rotator" \
    -o jsonpath='{range .items[*]}{.metadata.creationTimestamp}{"\t"}{.metadata.namespace}{"\t"}{.metadata.name}{"\t"}{.status.readyToUse}{"\t"}{.status.boundVolumeSnapshotContentName}{"\t"}{.spec.source.persistentVolumeClaimName}{"\t"}{.status.restoreSize}{"\t"}{.spec.volumeSnapshotClassName}{"\n"}{end}' \
    </dev/null); then
    err "drill $DRILL: cannot list the snapshots of policy $POLICY"
    exit 1
fi
total=$(printf '%s\n' "$listing" | awk -F "$TAB" 'NF == 8 { n++ } END { print n + 0 }')
newest=$(printf '%s\n' "$listing" |
    awk -F "$TAB" -v scratch="$NAMESPACE" 'NF == 8 && $4 == "true" && ($2 "") != (scratch "")' |
    sort -t "$TAB" -k1,1 -k2,2 -k3,3 | tail -n 1)
if [ "$total" -eq 0 ]; then
    err "drill $DRILL: no snapshot of policy $POLICY ($POLICY_LABEL=$POLICY) in any namespace: nothing to restore"
    exit 1
fi
if [ -z "$newest" ]; then
    err "drill $DRILL: none of the $total snapshots of policy $POLICY is ready to use"
    exit 1
fi
IFS=$TAB read -r src_ts src_ns src_name src_ready src_content src_pvc src_size src_class <<EOF
$(fields "$newest")
EOF
if ! is_dns_label "$src_ns" || ! is_dns_subdomain "$src_name" || [ "$src_ready" != true ]; then
    err "drill $DRILL: unexpected snapshot listing '$newest'"
    exit 1
fi
src=$src_ns/$src_name
if ! is_dns_subdomain "$src_content"; then
    err "drill $DRILL: snapshot $src is ready but bound to no VolumeSnapshotContent"
    exit 1
fi
if ! is_dns_subdomain "$src_pvc"; then
    err "drill $DRILL: snapshot $src was not taken of a PVC: no class to restore into"
    exit 1
fi
# The copy names the original's snapshot class, as design/restore.py's copy
# does; a blank line where it has none is nothing to YAML.
class_spec=
if [ "$src_class" != - ]; then
    if ! is_dns_subdomain "$src_class"; then
        err "drill $DRILL: snapshot $src names an unexpected class '$src_class'"
        exit 1
    fi
    class_spec="volumeSnapshotClassName: \"$src_class\""
fi
log "drill $DRILL: newest ready snapshot of policy $POLICY is $src, taken $src_ts (of $total)"

# The physical snapshot the original's content stands for; the content must
# point back at the snapshot (a binding is valid only both ways,
# kubernetes-csi/external-snapshotter@v8.3.0:
# client/config/crd/snapshot.storage.k8s.io_volumesnapshots.yaml).
if ! content_facts=$(kubectl get volumesnapshotcontent "$src_content" \
    -o jsonpath='{.status.snapshotHandle}{"\t"}{.spec.driver}{"\t"}{.spec.volumeSnapshotRef.namespace}{"\t"}{.spec.volumeSnapshotRef.name}' \
    </dev/null); then
    err "drill $DRILL: cannot read content $src_content of $src (missing?)"
    exit 1
fi
IFS=$TAB read -r handle driver ref_ns ref_name <<EOF
$(fields "$content_facts")
EOF
if [ "$ref_ns/$ref_name" != "$src" ]; then
    err "drill $DRILL: content $src_content does not point back at $src"
    exit 1
fi
case $handle in
    - | *[!A-Za-z0-9._:/-]*)
        err "drill $DRILL: content $src_content of $src has no usable snapshotHandle ('$handle')"
        exit 1
        ;;
esac
if ! is_dns_subdomain "$driver"; then
    err "drill $DRILL: content $src_content of $src names an unexpected driver '$driver'"
    exit 1
fi

# The class to restore into is the source PVC's; the size, the snapshot's
# restoreSize, else the PVC's capacity.
if ! pvc_facts=$(kubectl get persistentvolumeclaim --namespace "$src_ns" "$src_pvc" \
    -o jsonpath='{.spec.storageClassName}{"\t"}{.status.capacity.storage}' </dev/null); then
    err "drill $DRILL: cannot read the source PVC $src_ns/$src_pvc of $src: its class is unknown"
    exit 1
fi
IFS=$TAB read -r class capacity <<EOF
$(fields "$pvc_facts")
EOF
if ! is_dns_subdomain "$class"; then
    err "drill $DRILL: the source PVC $src_ns/$src_pvc names no StorageClass"
    exit 1
fi
size=$src_size
if [ "$size" = - ]; then
    size=$capacity
fi
if ! is_quantity "$size"; then
    err "drill $DRILL: neither $src nor $src_ns/$src_pvc says how large the volume is"
    exit 1
fi

# ------------------------------------------------------------- the restore

now
start=$now
deadline=$((start + TIMEOUT_SECONDS))
if ! stamp=$(date -u -d "@$start" +%Y%m%d%H%M%S); then
    err "date -d failed"
    exit 1
fi
run=$DRILL-$stamp
content=restore-$NAMESPACE-$run

created_content=0
created_copy=0
created_pvc=0
created_pod=0
restored=0
seconds=
failure=

fail() {
    failure=$*
    err "drill $DRILL: $*"
}

# remaining: seconds left before the deadline, into $remaining; 1 when none.
remaining() {
    now || return 1
    remaining=$((deadline - now))
    [ "$remaining" -gt 0 ]
}

# Every value is double-quoted YAML: names such as "true" would not be
# strings otherwise. Validation above keeps quotes and backslashes out.
restore() {
    log "drill $DRILL: restoring $src (content $src_content, snapshot $handle) into $NAMESPACE/$run, class $class, $size"
    if ! kubectl create -f - >/dev/null <<EOF; then
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotContent
metadata:
  name: "$content"
  labels:
    "$DRILL_LABEL": "$DRILL"
  annotations:
    "$RESTORED_FROM": "volumesnapshotcontent/$src_content"
spec:
  deletionPolicy: Retain
  driver: "$driver"
  source:
    snapshotHandle: "$handle"
  $class_spec
  volumeSnapshotRef:
    name: "$run"
    namespace: "$NAMESPACE"
EOF
        fail "cannot create the copy's content $content"
        return 1
    fi
    created_content=1

    if ! kubectl create -f - >/dev/null <<EOF; then
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: "$run"
  namespace: "$NAMESPACE"
  labels:
    "$DRILL_LABEL": "$DRILL"
  annotations:
    "$RESTORED_FROM": "volumesnapshot/$src"
spec:
  $class_spec
  source:
    volumeSnapshotContentName: "$content"
EOF
        fail "cannot create the copy $NAMESPACE/$run of $src"
        return 1
    fi
    created_copy=1

    if ! remaining; then
        fail "no time left for the copy to become ready (${TIMEOUT_SECONDS}s)"
        return 1
    fi
    if ! kubectl wait --namespace "$NAMESPACE" --for=jsonpath='{.status.readyToUse}'=true \
        --timeout="${remaining}s" "volumesnapshot/$run" >/dev/null </dev/null; then
        fail "the copy $NAMESPACE/$run of $src did not become ready within ${TIMEOUT_SECONDS}s"
        return 1
    fi

    if ! kubectl create -f - >/dev/null <<EOF; then
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: "$run"
  namespace: "$NAMESPACE"
  labels:
    "$DRILL_LABEL": "$DRILL"
  annotations:
    "$RESTORED_FROM": "volumesnapshot/$src"
spec:
  storageClassName: "$class"
  accessModes: ["ReadWriteOnce"]
  resources:
    requests:
      storage: "$size"
  dataSource:
    apiGroup: snapshot.storage.k8s.io
    kind: VolumeSnapshot
    name: "$run"
EOF
        fail "cannot create the PVC $NAMESPACE/$run"
        return 1
    fi
    created_pvc=1

    if ! kubectl create -f - >/dev/null <<EOF; then
apiVersion: v1
kind: Pod
metadata:
  name: "$run"
  namespace: "$NAMESPACE"
  labels:
    "$DRILL_LABEL": "$DRILL"
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: $CHECK_USER
    runAsGroup: $CHECK_USER
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: check
      image: "$CHECK_IMAGE"
      command: ["ls", "-la", "$MOUNT"]
      resources:
        requests:
          cpu: 10m
          memory: 16Mi
        limits:
          cpu: 100m
          memory: 64Mi
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        runAsNonRoot: true
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - name: restored
          mountPath: "$MOUNT"
          readOnly: true
  volumes:
    - name: restored
      persistentVolumeClaim:
        claimName: "$run"
        readOnly: true
EOF
        fail "cannot create the check pod $NAMESPACE/$run"
        return 1
    fi
    created_pod=1

    # Pending covers provisioning, attaching and mounting: a volume that never
    # mounts keeps the pod Pending until the deadline.
    phase=
    while :; do
        if ! phase=$(kubectl get pod --namespace "$NAMESPACE" "$run" \
            -o jsonpath='{.status.phase}' </dev/null); then
            fail "cannot read the check pod $NAMESPACE/$run"
            return 1
        fi
        case $phase in
            Succeeded)
                now || return 1
                seconds=$((now - start))
                restored=1
                log "drill $DRILL: restored $src in ${seconds}s; the check pod listed the volume"
                return 0
                ;;
            Failed)
                fail "the check pod $NAMESPACE/$run failed: the restored volume did not mount or could not be listed (kubectl describe pod, kubectl logs)"
                return 1
                ;;
        esac
        if ! remaining; then
            fail "the check pod $NAMESPACE/$run did not succeed within ${TIMEOUT_SECONDS}s (phase ${phase:-unknown}): the volume was not provisioned or not mounted"
            return 1
        fi
        if [ "$remaining" -lt "$POLL_SECONDS" ]; then
            sleep "$remaining"
        else
            sleep "$POLL_SECONDS"
        fi
    done
}

# ------------------------------------------------------------- the cleanup

cleanup_failed=0
cleanup_error() {
    cleanup_failed=1
    err "drill $DRILL: cleanup: $*"
}

release_volume() {
    if ! volume=$(kubectl get persistentvolumeclaim --namespace "$NAMESPACE" "$run" \
        -o jsonpath='{.spec.volumeName}' </dev/null); then
        cleanup_error "cannot read PVC $NAMESPACE/$run; kept it, or its volume could be retained"
        return 1
    fi
    if [ -z "$volume" ]; then
        return 0
    fi
    if ! is_dns_subdomain "$volume"; then
        cleanup_error "PVC $NAMESPACE/$run is bound to an unexpected volume '$volume'; kept it"
        return 1
    fi
    # Only while the PV is still claimed by this drill's PVC (the test
    # operations), so no other volume can be set to Delete this way.
    if ! kubectl patch persistentvolume "$volume" --type=json \
        -p "[{\"op\":\"test\",\"path\":\"/spec/claimRef/namespace\",\"value\":\"$NAMESPACE\"},{\"op\":\"test\",\"path\":\"/spec/claimRef/name\",\"value\":\"$run\"},{\"op\":\"replace\",\"path\":\"/spec/persistentVolumeReclaimPolicy\",\"value\":\"Delete\"}]" \
        >/dev/null </dev/null; then
        cleanup_error "cannot set PV $volume of $NAMESPACE/$run to Delete; kept the PVC, or the volume would be retained"
        return 1
    fi
}

cleanup() {
    if [ "$created_pod" -eq 1 ] &&
        ! kubectl delete pod --namespace "$NAMESPACE" "$run" --wait=false >/dev/null </dev/null; then
        cleanup_error "cannot delete pod $NAMESPACE/$run"
    fi
    if [ "$created_pvc" -eq 1 ] && release_volume &&
        ! kubectl delete persistentvolumeclaim --namespace "$NAMESPACE" "$run" --wait=false \
            >/dev/null </dev/null; then
        cleanup_error "cannot delete PVC $NAMESPACE/$run"
    fi
    if [ "$created_content" -ne 1 ]; then
        return 0
    fi
    # Deleting the copy, or its content, while the content is Delete would
    # delete the physical snapshot $src still uses.
    if ! copy_policy=$(kubectl get volumesnapshotcontent "$content" \
        -o jsonpath='{.spec.deletionPolicy}' </dev/null); then
        cleanup_error "cannot read content $content; kept it and the copy $NAMESPACE/$run"
        return 0
    fi
    if [ "$copy_policy" != Retain ]; then
        cleanup_error "content $content is $copy_policy, not Retain: kept it and the copy $NAMESPACE/$run, whose deletion would delete snapshot $handle of $src"
        return 0
    fi
    if [ "$created_copy" -eq 1 ] &&
        ! kubectl delete volumesnapshot --namespace "$NAMESPACE" "$run" --wait=false \
            >/dev/null </dev/null; then
        cleanup_error "cannot delete the copy $NAMESPACE/$run; kept its content $content"
        return 0
    fi
    if ! kubectl delete volumesnapshotcontent "$content" --wait=false >/dev/null </dev/null; then
        cleanup_error "cannot delete content $content"
    fi
}

# ------------------------------------------------------------------- main

restore || true
cleanup
if [ "$cleanup_failed" -eq 0 ] && [ "$created_content" -eq 1 ]; then
    log "drill $DRILL: cleaned up $NAMESPACE/$run and content $content"
fi
if [ "$restored" -ne 1 ]; then
    err "drill $DRILL failed: ${failure:-unknown}"
    exit 1
fi
if [ "$cleanup_failed" -ne 0 ]; then
    err "drill $DRILL failed: restored in ${seconds}s, but the cleanup did not finish"
    exit 1
fi

if ! finished=$(date -u -d "@$((start + seconds))" +%Y-%m-%dT%H:%M:%SZ); then
    err "date -d failed"
    exit 1
fi
record="$finished ${seconds}s $src"
if ! kubectl patch cronjob --namespace "$NAMESPACE" "$CRONJOB" --type=merge \
    -p "{\"metadata\":{\"annotations\":{\"$LAST_DRILL\":\"$record\"}}}" >/dev/null </dev/null; then
    err "drill $DRILL: restored in ${seconds}s, but cannot record it on cronjob $NAMESPACE/$CRONJOB"
    exit 1
fi
log "drill $DRILL: recorded $LAST_DRILL=\"$record\" on cronjob $NAMESPACE/$CRONJOB"
