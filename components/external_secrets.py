"""External Secrets Operator (R3, runtime layer): secrets stay in Secrets Manager and Parameter
Store and are fetched into the cluster at runtime, with the operator's own role (IRSA or EKS Pod
Identity) only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.controller_roles import ESO_SERVICE_ACCOUNT
from components.helm import pinned_release
from components.namespaces import no_default_token
from components.platform import Platform
from config.schema import ExternalSecrets
from design.identity import names_role_on_service_account
from design.labels import APP_LABEL, MANAGED_BY, restricted_namespace_labels

SECRETS_MANAGER_STORE = "aws-secrets-manager"
PARAMETER_STORE = "aws-parameter-store"
ESO_API = "external-secrets.io/v1"


def store_spec(service: str, region: str, namespace: str, identity: str = "irsa") -> dict:
    """A cluster-wide store for app namespaces only, authenticating as the operator's service
    account (its role): no static AWS keys anywhere.

    With IRSA the store names that account (``auth.jwt``: the operator requests its token and
    calls AssumeRoleWithWebIdentity). With Pod Identity it has no ``auth``: the provider then
    uses the AWS SDK's default chain of the controller's own pod, where the association's
    credentials are; a ``serviceAccountRef`` "cannot be used together with EKS Pod Identity"
    (external-secrets/external-secrets@helm-chart-0.20.4:docs/snippets/provider-aws-access.md,
    "EKS Pod Identity Setup"; pkg/provider/aws/auth/auth.go: New). In ``both`` pods started
    under IRSA still find their web identity first in that chain, so the move keeps syncing."""
    aws = {"service": service, "region": region}
    if names_role_on_service_account(identity):
        aws["auth"] = {
            "jwt": {"serviceAccountRef": {"name": ESO_SERVICE_ACCOUNT, "namespace": namespace}}
        }
    return {
        "provider": {"aws": aws},
        "conditions": [{"namespaceSelector": {"matchLabels": {APP_LABEL: "true"}}}],
    }


@dataclass(frozen=True)
class ExternalSecretsOperatorArgs:
    platform: Platform
    chart: ExternalSecrets
    role_arn: pulumi.Input[str]
    nodes: Sequence[pulumi.Resource]


class ExternalSecretsOperator(pulumi.ComponentResource):
    stores: dict[str, k8s.apiextensions.CustomResource]

    def __init__(
        self,
        name: str,
        args: ExternalSecretsOperatorArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("eks-config-storage:secrets:ExternalSecretsOperator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.platform.provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": args.chart.namespace,
                "labels": {**MANAGED_BY, **restricted_namespace_labels()},
            },
            opts=child,
        )
        no_default_token(f"{name}-default-sa", namespace.metadata.name, child)
        self.release = release = pinned_release(
            f"{name}-release",
            chart="external-secrets",
            pin=args.chart,
            namespace=namespace.metadata.name,
            values={
                "installCRDs": True,
                # Helm leaves the CRDs (and so every ExternalSecret and the Secrets they own)
                # when the release is uninstalled or moved ("helm.sh/resource-policy: keep";
                # the chart adds crds.annotations to each CRD:
                # external-secrets/external-secrets@helm-chart-0.20.4:hack/helm.generate.sh).
                "crds": {"annotations": {"helm.sh/resource-policy": "keep"}},
                "serviceAccount": {
                    "create": True,
                    "name": ESO_SERVICE_ACCOUNT,
                    "annotations": {"eks.amazonaws.com/role-arn": args.role_arn}
                    if names_role_on_service_account(args.platform.identity)
                    else {},
                },
                "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}},
            },
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=list(args.nodes))
            ),
        )
        self.stores = {
            store: k8s.apiextensions.CustomResource(
                f"{name}-{store}",
                api_version=ESO_API,
                kind="ClusterSecretStore",
                metadata={"name": store, "labels": MANAGED_BY},
                spec=store_spec(
                    service, args.platform.aws.region, args.chart.namespace, args.platform.identity
                ),
                # The CRDs come with the chart.
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=[release])
                ),
            )
            for store, service in (
                (SECRETS_MANAGER_STORE, "SecretsManager"),
                (PARAMETER_STORE, "ParameterStore"),
            )
        }
        self.register_outputs({"stores": sorted(self.stores)})
