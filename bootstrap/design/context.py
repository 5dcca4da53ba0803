"""What every bootstrap document is rendered for: the account, and one main-program stack."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    partition: str
    region: str
    account_id: str
    state_bucket: str
    main_project: str
    boundary_name: str
    # Every pipeline role of the account: no deploy role may touch one.
    pipeline_roles: tuple[str, ...] = ()
    # Several environments share the account: writes are conditioned on the environment tag.
    shared: bool = False

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def iam(self, resource: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:{resource}"

    @property
    def boundary_arn(self) -> str:
        return self.iam(f"policy/{self.boundary_name}")

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.state_bucket}"

    @property
    def public_parameters(self) -> str:
        """EKS's public parameters (recommended AMI releases): owned by AWS, no account."""
        return f"arn:{self.partition}:ssm:{self.region}::parameter/aws/service/eks/*"


@dataclass(frozen=True)
class Stack:
    """A main-program stack as its roles see it."""

    name: str
    environment: str
    cluster: str
    secrets_key_arn: str
    # The state bucket's key: every object of the state is encrypted with it.
    state_key_arn: str

    def state_objects(self, account: Account) -> list[str]:
        """The stack's objects in the DIY backend's layout (project-scoped, meta.yaml v1:
        pulumi/pulumi@v3.259.0:pkg/backend/diy/store.go:122-136, lock.go:170-178)."""
        base, project = f"{account.bucket_arn}/.pulumi", account.main_project
        return [
            f"{base}/stacks/{project}/{self.name}.json*",
            f"{base}/history/{project}/{self.name}/*",
            f"{base}/backups/{project}/{self.name}/*",
            f"{base}/locks/organization/{project}/{self.name}/*",
        ]

    def readable_objects(self, account: Account) -> list[str]:
        """What a preview or plan reads: the backend's meta.yaml, the checkpoint, the locks."""
        base, project = f"{account.bucket_arn}/.pulumi", account.main_project
        return [
            f"{base}/meta.yaml",
            f"{base}/stacks/{project}/{self.name}.json*",
            f"{base}/locks/organization/{project}/{self.name}/*",
        ]
