"""Restore as code: render, as YAML to review and then apply, what brings data back.

    # a PVC from the newest ready snapshot a policy made of a PVC (same or another namespace)
    kubectl get volumesnapshots -A -o json > snapshots.json
    kubectl get volumesnapshotcontents -o json > contents.json
    python -m tools.restore pvc --snapshots snapshots.json --contents contents.json \\
        --policy daily --pvc orders/data --storage-class gp3-ssd-prod-rwo [--to-namespace x]
    # ... or from a named snapshot
    python -m tools.restore pvc --snapshots snapshots.json --snapshot orders/data-daily-... ...

    # a namespace from the newest completed backup of a Velero schedule
    kubectl get backups.velero.io -n velero -o json > backups.json
    python -m tools.restore namespace --backups backups.json --schedule nightly \\
        --namespace orders [--into orders-restored]

The output goes to stdout (or --out FILE); nothing is applied: `kubectl apply -f` it after
review. docs/backups.md has the runbooks.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import yaml

from design import restore as design


def _read(path: Path) -> dict:
    return json.loads(sys.stdin.read() if str(path) == "-" else path.read_text())


def _stamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")


def pvc_manifests(args: argparse.Namespace) -> list[dict]:
    found = design.snapshots(_read(args.snapshots))
    if args.snapshot:
        namespace, _, name = args.snapshot.partition("/")
        snapshot = design.named(found, namespace, name)
    else:
        namespace, _, pvc = args.pvc.partition("/")
        snapshot = design.newest_ready(found, namespace=namespace, pvc=pvc, policy=args.policy)
    target = args.to_namespace or snapshot.namespace
    claim = args.name or f"{snapshot.pvc}-restored-{_stamp()}"
    if target == snapshot.namespace:
        return [
            design.pvc_from_snapshot(
                snapshot,
                name=claim,
                namespace=target,
                storage_class=args.storage_class,
                size=args.size,
            )
        ]
    if args.contents is None:
        raise design.RestoreError("a restore into another namespace needs --contents")
    content, copy = design.prebound_copy(snapshot, _read(args.contents), target)
    pvc = design.pvc_from_snapshot(
        snapshot,
        name=claim,
        namespace=target,
        storage_class=args.storage_class,
        size=args.size,
        source_name=copy["metadata"]["name"],
    )
    return [content, copy, pvc]


def namespace_manifests(args: argparse.Namespace) -> list[dict]:
    backup = design.newest_backup(_read(args.backups), args.schedule) if args.backups else None
    return [
        design.velero_restore(
            name=f"{args.namespace}-from-{backup or args.schedule}-{_stamp()}",
            velero_namespace=args.velero_namespace,
            namespace=args.namespace,
            backup=backup,
            schedule=args.schedule,
            into=args.into,
        )
    ]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m tools.restore", description=__doc__.split("\n")[0]
    )
    top.add_argument("--out", type=Path, help="write the YAML here instead of stdout")
    sub = top.add_subparsers(dest="what", required=True)

    pvc = sub.add_parser("pvc", help="a PVC from a snapshot")
    pvc.add_argument(
        "--snapshots", type=Path, required=True, help="kubectl get volumesnapshots -A -o json"
    )
    pvc.add_argument("--contents", type=Path, help="kubectl get volumesnapshotcontents -o json")
    which = pvc.add_mutually_exclusive_group(required=True)
    which.add_argument("--snapshot", metavar="NS/NAME", help="a named snapshot")
    which.add_argument("--pvc", metavar="NS/PVC", help="the newest ready snapshot of this PVC")
    pvc.add_argument("--policy", help="with --pvc: the snapshot policy that made it")
    pvc.add_argument("--storage-class", required=True, help="class of the new claim")
    pvc.add_argument("--to-namespace", help="restore into another namespace")
    pvc.add_argument("--name", help="name of the new claim")
    pvc.add_argument("--size", help="requested size (default: the snapshot's restoreSize)")
    pvc.set_defaults(render=pvc_manifests)

    ns = sub.add_parser("namespace", help="a Velero Restore of a namespace")
    ns.add_argument("--schedule", required=True, help="the Velero schedule whose backup to use")
    ns.add_argument("--namespace", required=True, help="the namespace to restore")
    ns.add_argument("--backups", type=Path, help="kubectl get backups.velero.io -n velero -o json")
    ns.add_argument("--into", help="restore into this namespace instead")
    ns.add_argument("--velero-namespace", default="velero")
    ns.set_defaults(render=namespace_manifests)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.what == "pvc" and args.pvc and not args.policy:
        print("error: --pvc needs --policy", file=sys.stderr)
        return 2
    try:
        manifests = args.render(args)
    except (design.RestoreError, OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = yaml.safe_dump_all(manifests, sort_keys=False)
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
