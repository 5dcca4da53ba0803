"""Per resource type, what the engine, the providers and the services do with it: the one table
the transition guard (``tools.transitions.semantics``), the policies' protection rule and the
completeness test read. Rows of types only a storage backend registers live in that backend's
module (``design.storage.<backend>.BACKEND.resource_types``) and join here.

Every custom type the program can register has a row, so a type added without one fails
tests/test_resource_types.py instead of silently meaning "nothing replaces". An empty
``TypeFacts()`` records that the guard knows no replacing input of the type: for Kubernetes
objects it reads name and namespace for every kind; for the AWS types so marked no provider
source is cited yet in tools/transitions/force_new.json. Sources: ``tools.transitions.semantics``.
"""

from __future__ import annotations

from collections.abc import Mapping

from design.storage.registry import REGISTRY
from design.type_facts import TypeFacts

BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)

CORE: dict[str, TypeFacts] = {
    "aws:cloudwatch/logGroup:LogGroup": TypeFacts(
        force_new=frozenset({"name", "namePrefix"}),
        autonamed="name",
        protected=True,
        loses_data=True,
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": TypeFacts(),
    "aws:ec2/eip:Eip": TypeFacts(),
    "aws:ec2/internetGateway:InternetGateway": TypeFacts(),
    "aws:ec2/launchTemplate:LaunchTemplate": TypeFacts(
        force_new=frozenset({"name", "namePrefix"}),
        autonamed="name",
        update_notes={
            "blockDeviceMappings": "new template version; nodes roll when the group takes it",
        },
    ),
    "aws:ec2/natGateway:NatGateway": TypeFacts(
        force_new=frozenset({"allocationId", "connectivityType", "subnetId"}),
    ),
    "aws:ec2/routeTable:RouteTable": TypeFacts(
        force_new=frozenset({"vpcId"}),
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": TypeFacts(
        force_new=frozenset({"gatewayId", "subnetId"}),
    ),
    "aws:ec2/securityGroup:SecurityGroup": TypeFacts(
        force_new=frozenset({"description", "name", "namePrefix", "vpcId"}),
        autonamed="name",
    ),
    "aws:ec2/subnet:Subnet": TypeFacts(
        force_new=frozenset({"availabilityZone", "cidrBlock", "vpcId"}),
    ),
    "aws:ec2/vpc:Vpc": TypeFacts(
        force_new=frozenset({"cidrBlock", "instanceTenancy"}),
    ),
    "aws:eks/accessEntry:AccessEntry": TypeFacts(
        force_new=frozenset({"clusterName", "principalArn", "type"}),
    ),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": TypeFacts(
        force_new=frozenset({"accessScope", "clusterName", "policyArn", "principalArn"}),
    ),
    "aws:eks/addon:Addon": TypeFacts(
        force_new=frozenset({"addonName", "clusterName"}),
        update_notes={
            "addonVersion": "add-on upgrade",
            "configurationValues": "add-on reconfigured",
        },
    ),
    "aws:eks/cluster:Cluster": TypeFacts(
        force_new=frozenset(
            {
                # Set only by CreateCluster: UpdateClusterConfig's accessConfig carries only
                # authenticationMode (docs.aws.amazon.com/eks/latest/APIReference/
                # API_UpdateAccessConfigRequest.html), so the provider replaces the cluster.
                "accessConfig.bootstrapClusterCreatorAdminPermissions",
                "bootstrapSelfManagedAddons",
                "kubernetesNetworkConfig",
                "name",
                "roleArn",
            }
        ),
        autonamed="name",
        refused={
            # Subnets are refused only outside the cluster's zones: tools.transitions.runtime.
            "encryptionConfig": "EKS cannot change a cluster's Secrets encryption once set",
        },
        update_notes={
            "version": "control-plane upgrade (nodes and add-ons follow)",
        },
        protected=True,
        loses_data=True,
    ),
    "aws:eks/nodeGroup:NodeGroup": TypeFacts(
        force_new=frozenset(
            {
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
            }
        ),
        autonamed="nodeGroupName",
        update_notes={
            "version": "rolling node upgrade, one node at a time",
            "releaseVersion": "rolling AMI update, one node at a time",
            "launchTemplate": "rolling node replacement from the new template version",
        },
    ),
    # UpdatePodIdentityAssociation changes only the role (and its target role, policy and
    # session tags): docs.aws.amazon.com/eks/latest/APIReference/
    # API_UpdatePodIdentityAssociation.html.
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": TypeFacts(
        force_new=frozenset({"clusterName", "namespace", "serviceAccount"}),
    ),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": TypeFacts(
        force_new=frozenset({"url"}),
    ),
    "aws:iam/role:Role": TypeFacts(
        force_new=frozenset({"name", "namePrefix", "path"}),
        autonamed="name",
        document=("assumeRolePolicy", "trust"),
    ),
    "aws:iam/rolePolicy:RolePolicy": TypeFacts(
        force_new=frozenset({"name", "namePrefix", "role"}),
        autonamed="name",
        document=("policy", "policy"),
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": TypeFacts(
        force_new=frozenset({"policyArn", "role"}),
    ),
    "aws:kms/alias:Alias": TypeFacts(
        force_new=frozenset({"name", "namePrefix"}),
        autonamed="name",
    ),
    "aws:kms/key:Key": TypeFacts(
        force_new=frozenset({"customerMasterKeySpec", "keyUsage", "multiRegion"}),
        protected=True,
        loses_data=True,
    ),
    "aws:kms/keyPolicy:KeyPolicy": TypeFacts(
        force_new=frozenset({"keyId"}),
        document=("policy", "key-policy"),
    ),
    "aws:s3/bucket:Bucket": TypeFacts(
        protected=True,
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": TypeFacts(),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": TypeFacts(),
    "aws:s3/bucketPolicy:BucketPolicy": TypeFacts(),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": TypeFacts(),
    BUCKET_SSE: TypeFacts(),
    "aws:s3/bucketVersioning:BucketVersioning": TypeFacts(
        protected=True,
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": TypeFacts(
        force_new=frozenset({"securityGroupId"}),
    ),
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy": TypeFacts(),
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": TypeFacts(),
    "kubernetes:batch/v1:CronJob": TypeFacts(),
    "kubernetes:core/v1:ConfigMap": TypeFacts(
        force_new=frozenset({"binaryData", "data"}),
    ),
    "kubernetes:core/v1:Namespace": TypeFacts(),
    "kubernetes:core/v1:ResourceQuota": TypeFacts(),
    "kubernetes:core/v1:ServiceAccount": TypeFacts(),
    "kubernetes:core/v1:ServiceAccountPatch": TypeFacts(),
    "kubernetes:external-secrets.io/v1:ClusterSecretStore": TypeFacts(),
    "kubernetes:external-secrets.io/v1:ExternalSecret": TypeFacts(),
    "kubernetes:external-secrets.io/v1alpha1:PushSecret": TypeFacts(),
    "kubernetes:helm.sh/v3:Release": TypeFacts(
        force_new=frozenset({"name", "namespace"}),
        update_notes={
            "version": "helm upgrade (atomic: rolled back on failure)",
        },
    ),
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule": TypeFacts(),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": TypeFacts(),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": TypeFacts(
        force_new=frozenset({"roleRef"}),
    ),
    "kubernetes:rbac.authorization.k8s.io/v1:Role": TypeFacts(),
    # "After you create a binding, you cannot change the Role or ClusterRole that it refers
    # to" (kubernetes.io/docs/reference/access-authn-authz/rbac/, RoleBinding and
    # ClusterRoleBinding).
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": TypeFacts(
        force_new=frozenset({"roleRef"}),
    ),
    "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass": TypeFacts(),
    "kubernetes:storage.k8s.io/v1:StorageClass": TypeFacts(
        # "parameters describe volumes belonging to the storage class", read by the provisioner
        # when it creates a volume (kubernetes.io/docs/concepts/storage/storage-classes/); a
        # live EBS volume changes through a VolumeAttributesClass or ModifyVolume
        # (kubernetes-sigs/aws-ebs-csi-driver: docs/modify-volume.md).
        replace_notes={
            "parameters": "existing volumes keep the parameters they were provisioned with (IOPS, "
            "throughput, type): only new claims get the new ones; change a live volume with a "
            "VolumeAttributesClass or `aws ec2 modify-volume`",
        },
        loses_data=True,
    ),
    "kubernetes:storage.k8s.io/v1:StorageClassPatch": TypeFacts(),
    "kubernetes:velero.io/v1:Schedule": TypeFacts(),
}

TYPES: Mapping[str, TypeFacts] = {
    **CORE,
    **{t: facts for backend in REGISTRY for t, facts in backend.resource_types.items()},
}
"""Every type's facts, backends' included."""


def missing(types: set[str] | frozenset[str]) -> list[str]:
    """The custom resource types without a row (provider resources are the engine's own)."""
    return sorted(t for t in types if t not in TYPES and not t.startswith("pulumi:providers:"))


def kind(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]
