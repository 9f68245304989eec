"""Hypothesis strategies for the four APIs: valid and near-valid messages, whole feeds, fault
plans, tape frames.

One entry point per thing a test draws:

* :func:`messages` ``(api, family)``: valid, realistic messages of one family;
* :func:`near_valid` ``(api, family)``: messages with exactly one rule broken, as
  :class:`NearValid` values that say which (``pointer``, ``rule``);
* :func:`feeds` ``(api)``: whole conversations with timing, as :class:`Feed` values (frames a tape
  holds, what a client receives);
* :func:`fault_plans` ``(...)``: :class:`~harness.core.fuzz.FuzzPlan` schedules for
  ``MockServer.set_fuzz``, shrinking towards fewer and simpler faults;
* :func:`frames`: any tape frame of any kind (for tape and redaction properties).

Family names are those ``harness validate --list`` prints.
"""

from harness.strategies.families import messages
from harness.strategies.faults import fault_plans
from harness.strategies.feeds import Feed, feeds
from harness.strategies.frames import frames
from harness.strategies.mutations import NearValid, near_valid

__all__ = ["Feed", "NearValid", "fault_plans", "feeds", "frames", "messages", "near_valid"]
