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

# Inputs whose change replaces the resource: top-level names, or ``parent.child`` paths.
FORCE_NEW: dict[str, frozenset[str]] = {
    k: frozenset(v)
    for k, v in {
        "aws:kms/key:Key": {"customerMasterKeySpec", "keyUsage", "multiRegion"},
        "aws:kms/alias:Alias": {"name", "namePrefix"},
        "aws:kms/keyPolicy:KeyPolicy": {"keyId"},
        "aws:iam/role:Role": {"name", "namePrefix", "path"},
        "aws:iam/rolePolicy:RolePolicy": {"name", "namePrefix", "role"},
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {"role", "policyArn"},
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {"url"},
        "aws:cloudwatch/logGroup:LogGroup": {"name", "namePrefix"},
        "aws:eks/cluster:Cluster": {
            "name",
            "roleArn",
            "kubernetesNetworkConfig",
            "bootstrapSelfManagedAddons",
            # Set only by CreateCluster: UpdateClusterConfig's accessConfig carries only
            # authenticationMode (docs.aws.amazon.com/eks/latest/APIReference/
            # API_UpdateAccessConfigRequest.html), so the provider replaces the cluster.
            "accessConfig.bootstrapClusterCreatorAdminPermissions",
        },
        "aws:eks/nodeGroup:NodeGroup": {
            "amiType",
            "capacityType",
            "clusterName",
            "diskSize",
            "instanceTypes",
            "nodeGroupName",
            "nodeGroupNamePrefix",
            "nodeRoleArn",
            "remoteAccess",
            "subnetIds",
        },
        "aws:eks/addon:Addon": {"addonName", "clusterName"},
        # UpdatePodIdentityAssociation changes only the role (and its target role, policy and
        # session tags): docs.aws.amazon.com/eks/latest/APIReference/
        # API_UpdatePodIdentityAssociation.html.
        "aws:eks/podIdentityAssociation:PodIdentityAssociation": {
            "clusterName",
            "namespace",
            "serviceAccount",
        },
        "aws:eks/accessEntry:AccessEntry": {"clusterName", "principalArn", "type"},
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": {
            "accessScope",
            "clusterName",
            "policyArn",
            "principalArn",
        },
        "aws:ec2/launchTemplate:LaunchTemplate": {"name", "namePrefix"},
        "aws:ec2/vpc:Vpc": {"cidrBlock", "instanceTenancy"},
        "aws:ec2/subnet:Subnet": {"availabilityZone", "cidrBlock", "vpcId"},
        "aws:ec2/securityGroup:SecurityGroup": {"description", "name", "namePrefix", "vpcId"},
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"securityGroupId"},
        "aws:ec2/natGateway:NatGateway": {"allocationId", "connectivityType", "subnetId"},
        "aws:ec2/routeTable:RouteTable": {"vpcId"},
        "aws:ec2/routeTableAssociation:RouteTableAssociation": {"gatewayId", "subnetId"},
        "aws:efs/fileSystem:FileSystem": {
            "availabilityZoneName",
            "creationToken",
            "encrypted",
            "kmsKeyId",
            "performanceMode",
        },
        "aws:efs/mountTarget:MountTarget": {"fileSystemId", "ipAddress", "subnetId"},
        "aws:efs/fileSystemPolicy:FileSystemPolicy": {"fileSystemId"},
        "aws:efs/backupPolicy:BackupPolicy": {"fileSystemId"},
        "kubernetes:core/v1:ConfigMap": {"data", "binaryData"},
        # "After you create a binding, you cannot change the Role or ClusterRole that it refers
        # to" (kubernetes.io/docs/reference/access-authn-authz/rbac/, RoleBinding and
        # ClusterRoleBinding).
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": {"roleRef"},
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": {"roleRef"},
        "kubernetes:helm.sh/v3:Release": {"name", "namespace"},
    }.items()
}

# The input pulumi-aws auto-names: set explicitly, a replacement must delete the old one first.
AUTONAMED: dict[str, str] = {
    "aws:kms/alias:Alias": "name",
    "aws:iam/role:Role": "name",
    "aws:iam/rolePolicy:RolePolicy": "name",
    "aws:cloudwatch/logGroup:LogGroup": "name",
    "aws:eks/cluster:Cluster": "name",
    "aws:eks/nodeGroup:NodeGroup": "nodeGroupName",
    "aws:ec2/launchTemplate:LaunchTemplate": "name",
    "aws:ec2/securityGroup:SecurityGroup": "name",
    "aws:efs/fileSystem:FileSystem": "creationToken",
}
ALWAYS_DELETE_FIRST = frozenset({"aws:efs/mountTarget:MountTarget"})

# Inputs updated in place by the provider that the service itself refuses to change.
REFUSED_UPDATES: dict[str, dict[str, str]] = {
    "aws:eks/cluster:Cluster": {
        # Subnets are refused only outside the cluster's zones: tools.transitions.runtime.
        "encryptionConfig": "EKS cannot change a cluster's Secrets encryption once set",
    },
}

# What an in-place update of these inputs sets in motion.
UPDATE_NOTES: dict[str, dict[str, str]] = {
    "aws:eks/cluster:Cluster": {"version": "control-plane upgrade (nodes and add-ons follow)"},
    "aws:eks/nodeGroup:NodeGroup": {
        "version": "rolling node upgrade, one node at a time",
        "releaseVersion": "rolling AMI update, one node at a time",
        "launchTemplate": "rolling node replacement from the new template version",
    },
    "aws:eks/addon:Addon": {
        "addonVersion": "add-on upgrade",
        "configurationValues": "add-on reconfigured",
    },
    "aws:ec2/launchTemplate:LaunchTemplate": {
        "blockDeviceMappings": "new template version; nodes roll when the group takes it"
    },
    "kubernetes:helm.sh/v3:Release": {"version": "helm upgrade (atomic: rolled back on failure)"},
}

# What a replacement on these inputs does not do, though it looks as if it would.
REPLACE_NOTES: dict[str, dict[str, str]] = {
    "kubernetes:storage.k8s.io/v1:StorageClass": {
        # "parameters describe volumes belonging to the storage class", read by the provisioner
        # when it creates a volume (kubernetes.io/docs/concepts/storage/storage-classes/); a
        # live EBS volume changes through a VolumeAttributesClass or ModifyVolume
        # (kubernetes-sigs/aws-ebs-csi-driver: docs/modify-volume.md).
        "parameters": "existing volumes keep the parameters they were provisioned with (IOPS, "
        "throughput, type): only new claims get the new ones; change a live volume with a "
        "VolumeAttributesClass or `aws ec2 modify-volume`",
    },
}

APP_LABEL = "eks-config-storage.io/app"
POLICY_LABEL = "snapshots.eks-config-storage.io/policy"


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
STATEFUL_KINDS = frozenset(
    {
        "Key",
        "Cluster",
        "FileSystem",
        "MountTarget",
        "BackupPolicy",
        "LogGroup",
        "StorageClass",
    }
)
