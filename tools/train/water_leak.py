#!/usr/bin/env -S /usr/bin/python3
"""water-leak.onnx: district flow (trigger) + pressure windows -> p(a leak in the district or a
fault on the flow sensor). Supervised window classifier (sietrain.WindowClassifier)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sietrain as st  # noqa: E402
import cards  # noqa: E402

SPEC = st.Spec(
    name="water-leak",
    domain="water",
    channels=["flow", "pressure"],
    L=1800,  # 30 min: the longest leak (1800 s) still has its onset in the window
    R=16,
    seg=60,  # 60-s segments: 30 per channel
    hidden=(64, 32),
    # half at the default fault rate, half at the demo site's 30/h, where faults crowd and a
    # window often holds the end of one leak and the start of the next
    train=[(s, "24h") for s in range(100, 108)] + [(s, "24h", 30) for s in range(110, 118)],
    val=[(200, "24h"), (201, "24h"), (202, "24h", 30)],
    stride=6,
    pos_stride=3,
    epochs=10,
    seed=21,
)

DOC = ("Water district leak / flow-sensor fault detector: flow (trigger) and pressure, the last "
       "1800 readings (1 Hz) of each -> p(fault).")

if __name__ == "__main__":
    cards.main(SPEC, cards.WATER, DOC)
