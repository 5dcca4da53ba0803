"""One application's slice of the platform (R1-R3): its namespace, settings as a ConfigMap,
secrets through External Secrets, its own IAM role (IRSA or EKS Pod Identity) and a Role that
reads only its own Secrets and ConfigMap, and a storage budget per StorageClass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.access import bound_role
from components.irsa import IrsaRole, IrsaRoleArgs
from components.namespaces import no_default_token
from components.platform import Platform
from config.schema import App
from design import apps as design
from design import naming
from design.identity import names_role_on_service_account
from design.labels import APP_LABEL, POD_SECURITY_REASON

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True)
class AppArgs:
    platform: Platform
    app: App
    storage_classes: Sequence[str]
    retired_classes: Sequence[str]
    secrets_manager_store: str
    parameter_store: str
    # What ExternalSecrets need first: the stores (and the CRDs their chart installed).
    secret_stores: Sequence[pulumi.Resource]
    # design.identity: the app's mode (its own `identity`, or the stack's); the cluster's ARN
    # (session tag) and name (the association).
    identity: str = "irsa"


def component_name(app: App) -> str:
    """Apps are keyed by their namespace, where their data lives: renaming an app that keeps its
    namespace keeps every resource in it, the Namespace above all."""
    return f"app-{app.namespace_name}"


class AppNamespace(pulumi.ComponentResource):
    """``name`` is ``component_name(app)``. Stacks created when apps were keyed by app name (the
    same unless ``namespace`` differs) keep their resources through aliases."""

    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AppArgs, opts: pulumi.ResourceOptions | None = None):
        app = args.app
        former = f"app-{app.name}"

        def formerly(resource_name: str) -> list[pulumi.Alias]:
            if former == name:
                return []
            return [pulumi.Alias(name=former + resource_name.removeprefix(name))]

        super().__init__(
            "eks-config-storage:apps:AppNamespace",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=formerly(name))),
        )

        def child(resource_name: str, **extra) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self,
                provider=args.platform.provider,
                aliases=formerly(resource_name),
                **extra,
            )

        labels = design.app_labels(app.name)

        level = app.pod_security.level
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": app.namespace_name,
                "labels": {
                    **labels,
                    APP_LABEL: "true",
                    "pod-security.kubernetes.io/enforce": level,
                    # Still report what would break under restricted, even when relaxed.
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
                "annotations": {POD_SECURITY_REASON: app.pod_security.reason}
                if app.pod_security.reason
                else None,
            },
            # App teams fill it with workloads and PVCs: removing or moving the app stops its
            # service objects but never deletes their data in a protected stack.
            opts=child(f"{name}-namespace", retain_on_delete=args.platform.protect),
        )
        ns = namespace.metadata.name

        no_default_token(f"{name}-default-sa", ns, child(f"{name}-default-sa"))

        # The manifest whose size config validation measured; the namespace as an output, so the
        # ConfigMap waits for it.
        manifest = design.config_map_manifest(app.name, app.namespace_name, app.config)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={**manifest["metadata"], "namespace": ns},
            data=manifest["data"],
            opts=child(f"{name}-config"),
        )

        needs_aws = bool(app.aws.s3 or app.aws.secrets_manager or app.aws.parameters)
        policy = pulumi.Output.from_input(args.platform.key_arn).apply(
            lambda key_arn: design.app_policy(
                aws=args.platform.aws,
                environment=args.platform.environment,
                key_arn=key_arn,
                s3=[(s.bucket, s.prefix, s.access) for s in app.aws.s3],
                secrets_manager=app.aws.secrets_manager,
                parameters=app.aws.parameters,
            )
        )
        role = IrsaRole(
            f"{name}-irsa",
            IrsaRoleArgs(
                role_name=naming.role_name(args.platform.cluster_name, f"app-{app.name}"),
                oidc=args.platform.oidc,
                permissions_boundary=args.platform.aws.permissions_boundary,
                service_accounts=[(app.namespace_name, app.name)],
                inline_policies={"app": policy} if needs_aws else {},
                former_name=formerly(f"{name}-irsa")[0].name if former != name else None,
                mode=args.identity,
                cluster_arn=args.platform.cluster_arn,
                cluster_name=args.platform.cluster,
            ),
            opts=pulumi.ResourceOptions(parent=self, aliases=formerly(f"{name}-irsa")),
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={
                "name": app.name,
                "namespace": ns,
                "labels": labels,
                # With Pod Identity the association names the role; an annotation left in
                # place would win over it in the SDKs' chain (design.identity).
                "annotations": {IRSA_ANNOTATION: role.arn}
                if names_role_on_service_account(args.identity)
                else None,
            },
            opts=child(f"{name}-sa"),
        )

        readable_secrets = list(app.sealed_secrets)
        if app.secrets:
            readable_secrets.append(design.secret_name(app.name))
            k8s.apiextensions.CustomResource(
                f"{name}-external-secret",
                api_version="external-secrets.io/v1",
                kind="ExternalSecret",
                metadata={"name": design.secret_name(app.name), "namespace": ns, "labels": labels},
                spec=design.external_secret_spec(
                    app=app.name,
                    refresh_interval=app.secret_refresh_interval,
                    secrets_manager_store=args.secrets_manager_store,
                    parameter_store=args.parameter_store,
                    items=[
                        (
                            item.key,
                            "secretsManager" if item.secrets_manager else "parameter",
                            item.secrets_manager or item.parameter or "",
                            item.property,
                        )
                        for item in app.secrets
                    ],
                    environment=args.platform.environment,
                ),
                opts=child(f"{name}-external-secret", depends_on=list(args.secret_stores)),
            )

        bound_role(
            f"{name}-reader",
            f"{name}-reader",
            name=f"{app.name}-reader",
            namespace=ns,
            rules=design.app_rbac_rules(
                config_map=design.config_map_name(app.name), secret_names=readable_secrets
            ),
            account=(account.metadata.name, ns),
            labels=labels,
            opts=child(f"{name}-reader"),
        )

        k8s.core.v1.ResourceQuota(
            f"{name}-storage",
            metadata={"name": f"{app.name}-storage", "namespace": ns, "labels": labels},
            spec={
                "hard": design.quota_hard(
                    {b.storage_class: (b.requests, b.claims) for b in app.storage},
                    args.storage_classes,
                    retired=args.retired_classes,
                )
            },
            opts=child(f"{name}-storage"),
        )
        self.role_arn = role.arn
        self.register_outputs({"namespace": ns, "roleArn": role.arn, "configMap": config_map.id})
