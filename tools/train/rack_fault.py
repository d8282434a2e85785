#!/usr/bin/env -S /usr/bin/python3
"""rack-fault.onnx: rack inlet temperature (trigger) and the four server power windows ->
p(overload of the rack or a fault on the inlet sensor). Supervised window classifier
(sietrain.WindowClassifier)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sietrain as st  # noqa: E402
import cards  # noqa: E402

SPEC = st.Spec(
    name="rack-fault",
    domain="datacenter",
    channels=["inlet_temp", "power_s1", "power_s2", "power_s3", "power_s4"],
    L=600,  # 10 min: covers the longest overload, step and stuck fault (300 s)
    R=16,
    seg=20,  # 20-s segments: 30 per channel
    hidden=(64, 32),
    # mostly the default fault rate; some runs at the demo site's 30/h, where faults crowd
    train=[(s, "24h") for s in range(100, 108)] + [(s, "24h", 30) for s in range(110, 112)],
    val=[(200, "24h"), (201, "24h")],
    stride=6,
    pos_stride=3,
    epochs=10,
    seed=41,
)

DOC = ("Data-center rack fault detector: inlet temperature (trigger) and server powers s1-s4, the "
       "last 600 readings (1 Hz) of each -> p(fault).")

if __name__ == "__main__":
    cards.main(SPEC, cards.RACK, DOC)
