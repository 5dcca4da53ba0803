"""Run the program without a cloud: Pulumi's mock engine, realistic AWS answers, a recorder.

Shared by the tests, the offline plan and the benchmarks, so all three see the same graph.
"""

from tools.offline.plan import Plan, Resource
from tools.offline.runner import ProgramError, run_config, run_function, run_stack
from tools.offline.stackfiles import stack_config, stack_names

__all__ = [
    "Plan",
    "ProgramError",
    "Resource",
    "run_config",
    "run_function",
    "run_stack",
    "stack_config",
    "stack_names",
]
