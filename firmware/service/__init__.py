"""`stretchstep run` as two supervised processes: the sampler and the web (see supervisor.py).

Re-exports what the rest of the project imports, so `from firmware.service import ...` keeps
working whichever module of the package a name lives in.
"""

from firmware.service.sampler import LoopRunner, make_detector, open_checked_source
from firmware.service.supervisor import ServiceError, lan_addresses, run_service

__all__ = ["LoopRunner", "ServiceError", "lan_addresses", "make_detector",
           "open_checked_source", "run_service"]
