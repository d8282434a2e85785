#!/usr/bin/env -S /usr/bin/python3
"""grid-frequency.onnx: feeder frequency-sensor fault and overload classifier.

One interconnected grid: every feeder's frequency sensor reads the same system frequency plus
0.001 Hz of noise, so a faulty frequency sensor shows as a departure from the other feeders'
readings, which the system's own wander (tens of mHz) hides in the frequency alone. The model
reads the trigger's frequency, the frequencies of all three feeders (fixed sensors), and the
trigger feeder's load and voltage; in the graph it forms the trigger's deviation from the median
of the three feeders (the median of three stays on a healthy sensor when one is faulty, the
trigger's own included), then the window features of [frequency, deviation, load, voltage].
The load and the voltage show the feeder's overload (a process fault of the feeder, a positive
for each of its triggers) and tell it from a load-sensor fault.
"""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sietrain as st  # noqa: E402
import cards  # noqa: E402

FEEDERS = ("feeder1", "feeder2", "feeder3")


class MedianDeviation(torch.nn.Module):
    """[N, 6L] = frequency, feeder1..3 frequency, load, voltage -> window features of
    [frequency, frequency - median(feeder1..3), load, voltage]. min/max as (a + b -/+ |a - b|) / 2:
    only Add, Sub, Abs and Mul, which OpenCV imports with a dynamic batch."""

    def __init__(self, spec: st.Spec, chunk: int = 1000):
        super().__init__()
        self.L = spec.L
        self.windows = st.WindowFeatures(4, spec.L, spec.R, spec.seg, chunk=chunk)

    @property
    def size(self) -> int:
        return self.windows.size

    def forward(self, x):
        own, a, b, c, load, volts = st.columns(x, [self.L] * 6)
        s, t = a + b, torch.abs(a - b)
        lo, hi = (s - t) * 0.5, (s + t) * 0.5
        mid = (hi + c - torch.abs(hi - c)) * 0.5  # min(max(a, b), c)
        median = (lo + mid + torch.abs(lo - mid)) * 0.5  # max(min(a, b), min(max(a, b), c))
        return self.windows(torch.cat([own, own - median, load, volts], 1))


SPEC = st.Spec(
    name="grid-frequency",
    domain="grid",
    channels=["frequency", *(f"{f}/frequency" for f in FEEDERS), "load", "voltage"],
    tie=[0, 0, 0, 0, 4, 5],  # the four frequencies on one scale: the graph subtracts them
    features=MedianDeviation,
    L=3000,  # 300 s: the onset of the longest overload, step and stuck fault stays in view
    R=20,
    seg=100,
    hidden=(64, 32),
    train=[(s, "24h") for s in range(100, 103)] + [(110, "24h", 30)],
    val=[(200, "24h")],
    stride=24,
    pos_stride=4,
    epochs=10,
    seed=53,
)

INFO = {
    "title": "Feeder frequency-sensor fault and overload detector",
    "trigger": "grid/+/frequency",
    "others": ("the three feeders' frequencies (fixed sensors, the trigger's own among\nthem) and "
               "the trigger feeder's load and voltage"),
    "inputs": ("Window inputs of the function manifest, in this order: the trigger's own window "
               "with `last: 2999`\nor more (the runtime appends the triggering reading), then "
               "`sensor: \"grid/feeder1/frequency\"`,\n`\"grid/feeder2/frequency\"`, "
               "`\"grid/feeder3/frequency\"`, `\"grid/{2}/load\"` and `\"grid/{2}/voltage\"`,\n"
               "each with `last: 3000` or more. The four frequency channels share one "
               "normalization (the\ngraph subtracts them)."),
    "graph": ("First the trigger's deviation from the median of the three feeders' frequencies "
              "(min and max as\n(a + b -/+ |a - b|) / 2: Add, Sub, Abs, Mul), which replaces the "
              "three feeder channels: the\nfeatures below are of 4 channels, the trigger's "
              "frequency, that deviation, the load and the\nvoltage.\n\n"),
    "positives": ("a sensor fault on the feeder's frequency sensor (spike, drift, step, "
                  "oscillation, stuck) or an `overload` of the feeder (load x1.5-2 within 3 s, "
                  "deeper voltage sag). Voltage- and load-sensor faults of any feeder and "
                  "frequency-sensor faults of the other feeders are not positives."),
    "why": ("The system frequency is common to all feeders and wanders by tens of mHz, while each "
            "sensor adds only 0.001 Hz of noise: the deviation from the three feeders' median is "
            "near zero on a healthy sensor and shows a spike, step, drift or oscillation at once, "
            "and the median stays on a healthy reading when one sensor (the trigger's own or "
            "another) is faulty. A stuck sensor shows as exactly repeated readings of the "
            "trigger. The frequency does not show an overload; the load does (a jump of x1.5-2), "
            "and the voltage's deeper sag tells it from a load-sensor step."),
    "limits": [
        "Bound to a site of three feeders named feeder1..feeder3 (the fixed frequency inputs); "
        "another site needs its own frequency sensors in those inputs and retraining.",
        "Two frequency sensors faulty at once move the median: the deviation of a healthy "
        "trigger is then that of the faulty pair's middle reading.",
        "Needs 3000 readings (5 min at 10 Hz) of history before the first decision; the window "
        "fetch is 3000 readings of each of 6 channels per decision.",
        "The first seconds of a drift (which starts at zero) are undetectable.",
    ],
}

DOC = ("Feeder frequency-sensor fault/overload classifier: the last 3000 readings (10 Hz) of the "
       "trigger's frequency, the three feeders' frequencies, the feeder's load and voltage -> "
       "p(fault).")

if __name__ == "__main__":
    cards.run_classifier(SPEC, INFO, DOC, day_seeds=())
