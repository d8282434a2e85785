#!/usr/bin/env -S /usr/bin/python3
"""hvac-zone.onnx: zone temperature (trigger), airflow and setpoint windows -> p(fault on the
temperature sensor). Supervised window classifier (sietrain.WindowClassifier)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sietrain as st  # noqa: E402
import cards  # noqa: E402

SPEC = st.Spec(
    name="hvac-zone",
    domain="hvac",
    channels=["temperature", "airflow", "setpoint"],
    L=600,  # 10 min: covers the longest step and stuck fault (300 s) and most of a drift
    R=16,
    seg=20,  # 20-s segments: 30 per channel
    hidden=(64, 32),
    # mostly the default fault rate; some runs at the demo site's 30/h, where faults crowd
    train=[(s, "24h") for s in range(100, 106)] + [(s, "24h", 30) for s in range(110, 112)],
    val=[(200, "24h"), (201, "24h")],
    stride=6,
    pos_stride=3,
    epochs=10,
    seed=31,
)

DOC = ("HVAC zone temperature-sensor fault detector: temperature (trigger), airflow, setpoint, the "
       "last 600 readings (1 Hz) of each -> p(fault).")

if __name__ == "__main__":
    cards.main(SPEC, cards.HVAC, DOC)
