#!/usr/bin/python3
"""pump-rule (Python): a bearing running hot, on the native protocol through the Python SDK."""

import sys
from pathlib import Path

# The SDK from this repository (sdk/python); an installed sie_worker works the same.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sdk" / "python"))
import sie_worker  # noqa: E402


def handle(inv: sie_worker.Invocation):
    history = inv.window("history")
    rise_limit = inv.param("rise_limit", 8.0)
    max_temp = inv.param("max_temp", 90.0)
    if len(history) < 10:
        return sie_worker.Decision(label="warming-up")
    mean = sum(history.value) / len(history)
    rise = inv.value - mean
    hot = rise > rise_limit or inv.value > max_temp
    score = min(max(max(rise / rise_limit, inv.value / max_temp) / 2, 0.0), 1.0)
    return sie_worker.Decision(
        score=score, anomaly=hot, label="overheating" if hot else "normal",
        detail=f"{inv.value:.1f} degC, {rise:+.1f} from the mean of {len(history)}")


sie_worker.serve(handle)
