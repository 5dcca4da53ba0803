"""What a real `pulumi up` does with a changed resource, per type: which input changes replace it,
whether the old one goes first, and what a deletion or replacement means for data and service.

Sources (the engine, the providers' bridges and the providers themselves):
- Pulumi replaces create-first by default and deletes removed resources after every create and
  update, dependents first; a protected resource that must be replaced stops the update, a
  removed protected one is refused only at its own delete (pulumi/pulumi:
  pkg/resource/deploy/step_generator.go, step.go). ``retainOnDelete`` applies to deletes and
  replacements (pulumi.com/docs/iac/concepts/options/retainondelete).
- pulumi-aws replaces delete-first when an input it auto-names was set explicitly
  (pulumi/pulumi-terraform-bridge: pkg/tfbridge/provider.go ``nameRequiresDeleteBeforeReplace``;
  pulumi/pulumi-aws: provider/resource_overrides.go); EFS mount targets always go first.
- Replacing fields are Terraform's ``ForceNew`` attributes (hashicorp/terraform-provider-aws:
  internal/service/<service>/<resource>.go): ``force_new.json`` holds the provider's own schema
  where it is stored, and a cited row per field elsewhere (tools.transitions.force_new).
- pulumi-kubernetes replaces an object whose ``metadata.name`` or ``metadata.namespace`` changes,
  delete-first only when both stay the same; ConfigMap ``data`` replaces; a Helm release replaces
  on name and namespace, create-first (pulumi/pulumi-kubernetes@v4.32.0:
  provider/pkg/provider/provider.go, diff.go, helm_release.go).
"""

from __future__ import annotations

from design.labels import POLICY_LABEL
from design.resource_types import TYPES, kind

# Views of the one per-type table (design.resource_types), in the shapes the guard reads.
# Inputs whose change replaces the resource: top-level names, or ``parent.child`` paths.
FORCE_NEW: dict[str, frozenset[str]] = {t: f.force_new for t, f in TYPES.items() if f.force_new}
# The input pulumi-aws auto-names: set explicitly, a replacement must delete the old one first.
AUTONAMED: dict[str, str] = {t: f.autonamed for t, f in TYPES.items() if f.autonamed}
ALWAYS_DELETE_FIRST = frozenset(t for t, f in TYPES.items() if f.delete_first)
# Inputs updated in place by the provider that the service itself refuses to change.
REFUSED_UPDATES: dict[str, dict[str, str]] = {
    t: dict(f.refused) for t, f in TYPES.items() if f.refused
}
# What an in-place update of these inputs sets in motion.
UPDATE_NOTES: dict[str, dict[str, str]] = {
    t: dict(f.update_notes) for t, f in TYPES.items() if f.update_notes
}
# What a replacement on these inputs does not do, though it looks as if it would.
REPLACE_NOTES: dict[str, dict[str, str]] = {
    t: dict(f.replace_notes) for t, f in TYPES.items() if f.replace_notes
}


def deleted(kind: str, inputs: dict) -> str:
    """What deleting a resource of ``kind`` (the type's last segment) takes with it."""
    labels = (inputs.get("metadata") or {}).get("labels") or {}
    if kind == "Namespace":
        return "deletes every workload, Secret and PVC in it"
    if kind == "StorageClass":
        return "PVCs that name it can no longer expand, and lost claims cannot be re-created"
    if kind == "CronJob" and POLICY_LABEL in labels:
        return f"PVCs labelled {POLICY_LABEL}={labels[POLICY_LABEL]} stop being snapshotted"
    if kind == "ExternalSecret":
        return "its Secret is garbage-collected with it (creationPolicy Owner)"
    return DELETED.get(kind, "deleted")


DELETED = {
    "Key": "schedules the key's deletion: everything encrypted with it becomes unreadable",
    "Cluster": "deletes the cluster and every object in it",
    "FileSystem": "deletes the file system and every file on it",
    "MountTarget": "EFS volumes become unreachable from that zone",
    "BackupPolicy": "AWS Backup stops for the file system (deleting it sets DISABLED)",
    "LogGroup": "deletes the control-plane and audit logs",
    "NodeGroup": "drains and terminates its nodes",
    "AccessEntry": "the principal loses its access to the cluster",
    "Release": "uninstalls the chart and what it owns",
    "Addon": "removes the add-on from the cluster",
    # A bucket's configuration resources: deleting one strips that guardrail from a bucket that
    # stays (hashicorp/terraform-provider-aws: internal/service/s3/bucket_*.go, Delete).
    "BucketPublicAccessBlock": "the bucket loses its public-access block",
    "BucketPolicy": "the bucket loses its policy (TLS and key enforcement)",
    "BucketServerSideEncryptionConfiguration": "new objects fall back to SSE-S3",
    "BucketLifecycleConfiguration": "old versions and uploads are no longer expired",
    "BucketVersioning": "versioning is suspended",
}

# Kinds whose deletion or replacement loses data, backups or service for good.
STATEFUL_KINDS = frozenset(kind(t) for t, f in TYPES.items() if f.loses_data)
