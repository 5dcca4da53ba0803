"""Run ``__main__.py`` under Pulumi's mock engine with a stack's config and record the graph."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import json
import os
import runpy
import sys
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from config import PROJECT, StackConfig, decode, load_stack_config, top_level_keys
from tools.offline import stackfiles
from tools.offline.mocks import SECRET_MARK, AwsMocks, RecordingMonitor
from tools.offline.plan import Plan, Resource
from tools.offline.target import target_of

PROGRAM = stackfiles.ROOT / "__main__.py"
CONFIG_VARIABLES = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")


class ProgramError(Exception):
    """The program stopped (bad config, or a failure while building the graph).

    ``registered`` counts the resources registered before it stopped."""

    def __init__(self, message: str, registered: int):
        super().__init__(message)
        self.registered = registered


class InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs each call at once, in the calling thread (a ThreadPoolExecutor only because asyncio
    insists on one as the default executor; it never starts a thread).

    The SDK sends every RPC to the engine from a worker thread so the event loop never blocks on
    the network. The mock monitor is in-process and answers at once, so the hop to a thread and
    back (a self-pipe write per call, and GIL contention) was the larger part of a plan's time.
    """

    def submit(self, fn, /, *args, **kwargs):
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def run_stack(stack: str, **kwargs: Any) -> Plan:
    """Plan a stack file from ``stacks/``."""
    return run_config(stack, stackfiles.stack_config(stack), **kwargs)


def run_config(
    stack: str,
    values: dict[str, Any],
    *,
    subnet_zones: dict[str, str] | None = None,
    caller_role: str | None = None,
    account: str | None = None,
) -> Plan:
    """Plan ``stack`` with stack-file style config ``values`` (namespaced keys, YAML values).

    Pulumi.yaml defaults are merged in as the CLI would; the program itself refuses keys it does
    not know, as it does under the real CLI. The plan runs in the stack's own account and region
    (``tools.offline.target``) as ``caller_role``; by default as the stack's first admin role,
    the role a deploy pipeline runs as.
    """
    merged = stackfiles.merged_config(values)
    return run_function(
        stack,
        merged,
        _run_main,
        subnet_zones=subnet_zones,
        caller_role=caller_role,
        account=account,
    )


def run_function(
    stack: str,
    values: dict[str, Any],
    program: Callable[[], None],
    *,
    subnet_zones: dict[str, str] | None = None,
    caller_role: str | None = None,
    account: str | None = None,
) -> Plan:
    """Run any ``program`` callable under the mocks with config ``values`` (used for unit
    tests of single components as well as for the whole program)."""
    region = values.get("aws:region")
    if not isinstance(region, str):
        raise ProgramError(f"stack '{stack}' sets no aws:region", 0)
    encoded, secret_keys = stackfiles.encode(values)

    target = target_of(values, PROJECT, account=account, caller_role=caller_role)
    monitor = RecordingMonitor(AwsMocks(target, subnet_zones))
    saved_env = {name: os.environ.get(name) for name in CONFIG_VARIABLES}
    exports: dict[str, Any] = {}
    loop = asyncio.new_event_loop()
    loop.set_default_executor(InlineExecutor())
    asyncio.set_event_loop(loop)
    # The SDK keeps thousands of futures alive until the end of the run; with the cyclic
    # collector on, every full collection walks all of them and the run grows quadratically.
    collecting = gc.isenabled()
    gc.disable()
    capture_stack = getattr(sdk_resource, "_get_stack_trace", None)
    if capture_stack is not None:
        # Every registration walks the whole Python stack (and stats every file on it) to tell
        # the engine where in the program the resource was declared. The mock engine ignores
        # it, and it was over half of the SDK's cost per resource.
        sdk_resource._get_stack_trace = _no_stack_trace
    try:
        settings.reset_options(project=PROJECT, stack=stack)
        _hand_over_config(encoded, secret_keys)
        pulumi.runtime.set_mocks(
            monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor
        )
        _sync_await(run_pulumi_func(lambda: _run_and_collect(program, exports)))
    except pulumi.RunError as exc:
        raise ProgramError(str(exc), len(monitor.registrations)) from None
    except Exception as exc:
        raise ProgramError(f"{type(exc).__name__}: {exc}", len(monitor.registrations)) from exc
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        # A failed run leaves registrations in flight: cancel them rather than close the loop
        # under them (which would warn about destroyed pending tasks).
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)
        if collecting:
            gc.enable()
        if capture_stack is not None:
            sdk_resource._get_stack_trace = capture_stack
    return Plan(stack, [Resource(**r) for r in monitor.registrations], exports)


def _hand_over_config(encoded: dict[str, str], secret_keys: list[str]) -> None:
    """Give the program its config exactly as a real run does: the language host puts the whole
    stack config in ``PULUMI_CONFIG`` (pulumi/pulumi@v3.259.0:
    sdk/python/cmd/pulumi-language-python/main.go) and its exec script loads that with
    ``set_all_config`` (same tag, sdk/python/cmd/pulumi-language-python-exec)."""
    os.environ["PULUMI_CONFIG"] = json.dumps(encoded)
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(secret_keys)
    pulumi.runtime.set_all_config(
        pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env()
    )


def _no_stack_trace() -> source_pb2.StackTrace:
    return source_pb2.StackTrace()


def _run_main() -> None:
    root = str(stackfiles.ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    runpy.run_path(str(PROGRAM), run_name="__main__")


async def _run_and_collect(program: Callable[[], None], exports: dict[str, Any]) -> None:
    program()
    stack_resource = settings.get_root_resource()
    outputs = dict(getattr(stack_resource, "outputs", {}) or {})
    for name, value in outputs.items():
        output = pulumi.Output.from_input(value)
        secret = await output.is_secret()
        exports[name] = SECRET_MARK if secret else await output.future()


def typed_config(stack: str, values: dict[str, Any], *, offline: bool = False) -> StackConfig:
    """The validated config of stack-file style ``values``, without running the program (the
    same encoding and loader the program goes through). Raises ``ConfigError``. ``offline``:
    for a plan, which has no environment to take ``aws:region`` from."""
    merged = stackfiles.merged_config(values)
    encoded, _ = stackfiles.encode(merged)
    prefix = f"{PROJECT}:"
    ours = {k.removeprefix(prefix): v for k, v in encoded.items() if k.startswith(prefix)}
    others = {k: v for k, v in merged.items() if not str(k).startswith(prefix)}
    known = top_level_keys()
    raw = {k: v for k, v in ours.items() if k in known}
    secrets = [
        path
        for key, value in merged.items()
        if str(key).startswith(prefix)
        for path in stackfiles.secure_paths(value, str(key).removeprefix(prefix))
    ]
    return load_stack_config(
        decode(raw),
        stack,
        unknown_keys=ours.keys() - known.keys(),
        other_namespaces=others,
        need_region=offline,
        secret_paths=secrets,
    )
