"""EC2 instance types as a managed node group's AMI sees them, read from the type's name.

A type is ``<family>.<size>``; a family is a series (``m``, ``c``, ``inf``, ...), a generation and
attribute letters, where ``g`` marks an AWS Graviton (Arm) processor: ``m7g``, ``c6gn``, ``t4g``,
``r8g``, ``x2gd``, ``im4gn`` (https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html).
What the EKS AMIs run (awsdocs/amazon-eks-user-guide: latest/ug/nodes/choosing-instance-type.adoc):
no EKS AMI supports ``g5g`` or ``mac``; Arm and non-accelerated AMIs do not support the GPU
(``g``, ``p``) and Inferentia (``inf``) families; AL2023 on Arm needs Graviton2 or later, so no
``a1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FAMILY = re.compile(r"^(?P<series>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z]*)(?:-flex)?$")
# GPU (NVIDIA, AMD) and AWS Neuron (Inferentia, Trainium) series: a STANDARD AMI has no driver
# for their accelerators, which are what the type is chosen (and paid) for.
ACCELERATED_SERIES = frozenset({"g", "gr", "p", "inf", "trn", "dl"})
UNSUPPORTED_FAMILIES = {
    "g5g": "no EKS AMI supports g5g",
    "a1": "AL2023 on Arm needs Graviton2 or later; a1 is Graviton1",
}
ARM = "arm64"
X86 = "x86_64"


@dataclass(frozen=True)
class InstanceType:
    name: str
    family: str
    architecture: str | None  # None: a name this module cannot read; EKS will judge it
    accelerated: bool
    unsupported: str | None


def instance_type(name: str) -> InstanceType:
    family = name.split(".", 1)[0]
    if family.startswith("mac"):
        return InstanceType(name, family, None, False, "no EKS AMI supports mac instances")
    if family.startswith("u-") or re.fullmatch(r"u7[a-z]*-\d+tb", family):
        return InstanceType(name, family, X86, False, None)  # High Memory: Intel Xeon
    match = FAMILY.fullmatch(family)
    if match is None:
        return InstanceType(name, family, None, False, None)
    arm = "g" in match["attributes"] or family == "a1"
    return InstanceType(
        name,
        family,
        ARM if arm else X86,
        match["series"] in ACCELERATED_SERIES,
        UNSUPPORTED_FAMILIES.get(family),
    )


def ami_architecture(ami_type: str) -> str:
    """``AL2023_ARM_64_STANDARD`` -> ``arm64``; the x86 AMI types -> ``x86_64``."""
    return ARM if "_ARM_64_" in ami_type else X86
