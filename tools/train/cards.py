"""Model cards (models/<name>.md) for the window models, from a training run's metrics."""
from __future__ import annotations

import sietrain as st


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def seeds_text(seeds) -> str:
    groups: dict[tuple, list[int]] = {}
    for item in seeds:
        s, d, rate = st.run_item(item)
        groups.setdefault((d, rate), []).append(s)
    return "; ".join(f"seed{'s' if len(v) > 1 else ''} {', '.join(map(str, v))} ({d}{' each' if len(v) > 1 else ''}"
                     f"{'' if rate == 6 else f', fault rate {rate:g}/h'})" for (d, rate), v in groups.items())


def trained_on(spec: st.Spec) -> str:
    return (f"sie sim {spec.domain} (fault rate 6/h unless noted): train {seeds_text(spec.train)}; "
            f"val {seeds_text(spec.val)}; eval held-out seeds 1-5")


WATER = {
    "title": "Water district leak and flow-sensor fault detector",
    "trigger": "water/+/flow",
    "positives": ("a `leak` (process fault of the district: extra flow that does not follow demand, "
                  "lower pressure; 300-1800 s, ramping in over 60 s) or a sensor fault on the flow "
                  "sensor (spike, drift, step, oscillation, stuck). Pressure-sensor faults are not "
                  "positives for this trigger: the model learned to ignore them."),
    "why": ("Flow is the trigger; pressure is the second channel because a leak lowers it by more "
            "than the extra flow's friction explains, which separates a leak from a demand "
            "change and from a flow-sensor step. The 30-minute window keeps the onset of the "
            "longest leak in view."),
    "limits": [
        "Needs 1800 readings (30 min at 1 Hz) of history before the first decision. `sie eval` "
        "counts those warming-up decisions as normal ones unless it is given `--warmup 30m`, so "
        "without it a short run reports a lower recall than the table above.",
        "Trained on both fault rates, it trades some precision at 6 faults per district-hour "
        "(whole day: F1 0.945 -> 0.919 against the variant trained mostly at 6/h) for recall at "
        "30, where one leak often follows another within the window (0.907 -> 0.958).",
        "A leak is found by its onset (a step-like rise of flow with an extra pressure drop) in the "
        "window: a leak that started more than 30 min ago, or one already present when the node "
        "started, is not seen.",
        "The first seconds of a leak's 60-s ramp and of a drift (which starts at zero) are "
        "undetectable and count as misses in the point-wise metrics.",
        "Trained on the simulator's three districts (base flows 80/120/160 m3/h, 4.8-5.0 bar "
        "sources); real networks need retraining on their own data.",
    ],
}

HVAC = {
    "title": "HVAC zone temperature-sensor fault detector",
    "trigger": "hvac/+/temperature",
    "positives": ("a sensor fault on the zone temperature sensor (spike, drift, step, oscillation, "
                  "stuck). Airflow-sensor faults are not positives for this trigger; the sim has "
                  "no HVAC process faults."),
    "why": ("The PI controller works on the true zone temperature, so a faulty temperature reading "
            "breaks the usual relation between temperature, setpoint and the airflow the "
            "controller commands; the airflow and setpoint channels let the model tell a real "
            "temperature change (setpoint schedule, saturation) from a sensor fault."),
    "limits": [
        "Needs a full window of history before the first decision.",
        "A step or drift that started longer ago than the window is judged only by the relation "
        "to setpoint and airflow.",
        "The first seconds of a drift (which starts at zero) are undetectable.",
        "Trained on the simulator's zone model (setback 17 degC, occupied 20.5-21.5 degC, January "
        "outside temperatures).",
    ],
}

RACK = {
    "title": "Data-center rack inlet-temperature and overload detector",
    "trigger": "datacenter/+/inlet_temp",
    "positives": ("an `overload` (process fault of the rack: every server's power surges by "
                  "20-50 % and the inlet heats up) or a sensor fault on the inlet temperature "
                  "sensor. Faults of a single server's power sensor are not positives for this "
                  "trigger: the model learned to ignore them."),
    "why": ("The inlet temperature follows rack power through recirculation with a 90-s lag; the "
            "four server power channels show an overload at once (all surge together) and explain "
            "normal inlet changes, so inlet sensor faults stand out."),
    "limits": [
        "Needs a full window of history before the first decision.",
        "Assumes 4 servers per rack (power_s1..power_s4) as in the simulator.",
        "The first seconds of a drift (which starts at zero) are undetectable.",
    ],
}


def write_card(spec: st.Spec, m: dict, info: dict) -> None:
    C, L = len(spec.channels), spec.L
    fmap = spec.feature_map()
    fm = getattr(fmap, "windows", fmap)  # the WindowFeatures inside a custom feature map
    seg = fm.seg
    chan_rows = "\n".join(
        f"| {c} `{sig}` | `{pat}`{' (trigger)' if c == 0 else ''} | "
        f"{m['mean'][c]:.6g} | {m['std'][c]:.6g} |"
        for c, (sig, pat) in enumerate(zip(spec.channels, spec.patterns())))
    limits = "\n".join(f"- {x}" for x in info["limits"])
    card = f"""# {spec.name}.onnx

{info['title']}. Trained and written by `tools/train/{info.get('script', spec.name.replace('-', '_') + '.py')}` (all models:
`tools/train/train_all.sh`).

## Inputs

Input tensor `input`: float32 [batch, {C * L}] = {C} channels x L = {L} readings, channel-major
(channel 0's {L} values oldest first, then channel 1's, ...). Channel 0 is the trigger
`{info['trigger']}`; its {L} newest readings (the last one is the triggering reading) set the
timeline, {info.get('others', "the other channels are the same asset's sensors")} zero-order held onto it.
Normalization x' = (x - mean) / std per channel (`sie.mean`, `sie.std`):

| channel | sensor | mean | std |
| --- | --- | ---: | ---: |
{chan_rows}

{info.get('inputs', manifest_inputs(spec))}

## Graph

{info.get('graph', '')}Fixed in-graph features per channel, relative to `ref`, the mean of the channel's last {spec.R}
values: ref itself; the last {spec.R} values minus ref; the means of the {L // seg} consecutive
{seg}-reading segments of the whole window minus ref; log of the absolute first differences of the
last {spec.R} values (a stuck sensor gives log 1e-4); per segment the log mean absolute first
difference. The linear parts are MatMuls with constant matrices (the segment means: one
{fm.n}x{fm.n // seg} matrix for every {fm.n}-value chunk of the window and of its absolute first
differences). Then a fixed standardization (training-set mean and std of each feature) and an MLP
{fmap.size}-{'-'.join(map(str, spec.hidden))}-1 with ReLU and a sigmoid; {m['nodes']} nodes in all.

## Output and score

`output`: float32 [batch, 1] = p(fault). `sie.score = probability`, score = output; anomaly when
score >= `sie.threshold` = {m['threshold']:.2f} (chosen for the best F1 on the validation seeds).
`sie.labels = normal,fault`.

## What counts as a fault

Positive decisions: {info['positives']}

{info['why']}

## Training data

`sie sim --domains {spec.domain}` (default assets), fault rate 6 per asset per hour unless noted.
Training: {seeds_text(spec.train)}; validation (epoch and threshold choice): {seeds_text(spec.val)}.
Labels: the faults.csv ground truth at each triggering reading. Every {ordinal(spec.stride)} reading plus
every {ordinal(spec.pos_stride)} faulty reading is a training window; in {int(spec.lag_prob * 100)} % of the
training windows the other channels' newest value is the one before the trigger's timestamp (a
reading of the same tick not stored yet when the function runs), so the model does not depend on
arrival order within a tick.

## Held-out metrics (seeds {', '.join(map(str, st.EVAL_SEEDS))}, {st.EVAL_DURATION} each, all assets)

Point-wise: one decision per triggering reading once the window is full (the first {L - 1} readings
of each run get none); positive when a fault listed in faults.csv is active on the trigger sensor
(or a process fault on its asset) at that reading's timestamp{bound_note(spec)}. Baseline: the builtin `zscore`
handler on the trigger sensor (mean and sample std of the 120 readings before it, anomaly when
abs z >= 5), on the same decisions.

{st.metrics_table([(f"{spec.name}.onnx", m['model']), ('z-score baseline (120 readings, abs z >= 5)', m['zscore'])])}

{st.kind_table(m['kinds_model'], m['kinds_zscore'])}
{extra_eval(m)}
## Size and check

{m['size_bytes']} bytes. Loaded with OpenCV 4.6 DNN (`readNetFromONNX`, dynamic batch, and
specialized to batch 1 as the node does): max |opencv - torch| = {max(m['cv2'].values()):.2g}.
Reference rows for the C++ test: `{spec.name}.ref.json` (8 held-out decisions, half faulty,
inputs already normalized). Training (data loading, features, {spec.epochs} epochs) took
{m['train_seconds']:.0f} s on one thread.

## Known limits

{limits}
"""
    (st.MODELS / f"{spec.name}.md").write_text(card)


def manifest_inputs(spec: st.Spec) -> str:
    L = spec.L
    if len(spec.channels) == 1:
        return (f"Function manifest: one window input on the trigger's own sensor with `last: {L - 1}`"
                f" or more (the runtime appends the triggering reading).")
    return (f"Window inputs of the function manifest, one per channel in this order: the trigger's "
            f"own window\nwith `last: {L - 1}` or more (the runtime appends the triggering reading), "
            f"the others with\n`last: {L}` or more, e.g. "
            f"`sensor: \"{spec.domain}/{{2}}/{spec.channels[1]}\"`.")


def bound_note(spec: st.Spec) -> str:
    if spec.labels != "bound":
        return ""
    return " — here, as trained (`--labels bound`), a fault on any sensor the model reads"


def extra_eval(m: dict) -> str:
    out = ""
    if "rate30" in m:
        h = m["rate30"]
        out += f"""
At the demo site's fault rate (held-out seeds {', '.join(map(str, st.EVAL_SEEDS))}, {st.EVAL_DURATION} each, {DEMO_RATE:g} faults per asset
per hour instead of 6: faults follow each other closely, so windows often hold several):

{st.metrics_table([(f"model, {DEMO_RATE:g}/h", h['model']), (f'z-score baseline, {DEMO_RATE:g}/h', h['zscore'])])}
"""
    if "day" not in m:
        return out
    d = m["day"]
    return out + f"""
Whole-day check (held-out seed {', '.join(map(str, d['seeds']))}, 24 h; the {st.EVAL_DURATION} runs above only cover
00:00-02:00 simulated time):

{st.metrics_table([(f"model, 24 h", d['model']), ('z-score baseline, 24 h', d['zscore'])])}
"""


DEMO_RATE = 30.0  # the demo site's sim source (examples/demo-site/site.yaml: faultRate 30)


def add_extra_evals(ev, model, spec, mean, std, threshold, day_seeds=(1,), residual=False,
                    error_scale=1.0) -> None:
    """A whole held-out day (the 2 h runs only see 00:00-02:00) and the held-out seeds at the demo
    site's fault rate."""
    if day_seeds:
        day = st.evaluate(model, spec, mean, std, threshold, residual, error_scale,
                          seeds=list(day_seeds), duration="24h")
        ev["day"] = {"seeds": list(day_seeds), "model": day["model"], "zscore": day["zscore"],
                     "kinds_model": day["kinds_model"]}
    hi = st.evaluate(model, spec, mean, std, threshold, residual, error_scale,
                     fault_rate=DEMO_RATE)
    ev["rate30"] = {"model": hi["model"], "zscore": hi["zscore"], "kinds_model": hi["kinds_model"]}


def main(spec: st.Spec, info: dict, doc: str) -> dict:
    """Command line of the window-classifier scripts: --labels trigger|bound."""
    import argparse
    import dataclasses
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--labels", choices=["trigger", "bound"], default="trigger",
                    help="trigger (default, shipped): faults on the trigger sensor or process faults "
                         "of its asset are positives (the rule `sie eval` scores); bound: faults "
                         "on any sensor the model reads")
    args = ap.parse_args()
    if args.labels == "bound":
        spec = dataclasses.replace(spec, labels="bound")
        info = dict(info, positives=("a fault on any sensor the model reads (trigger or another "
                                     "channel): sensor faults on each of them and process faults "
                                     "of the asset."),
                    title=info["title"] + " (variant trained with `--labels bound`)")
        return run_classifier(spec, info, doc, metrics_name=spec.name + "-bound")
    return run_classifier(spec, info, doc)


def run_classifier(spec: st.Spec, info: dict, doc: str, day_seeds=(1,), metrics_name=None) -> dict:
    """Train, evaluate (held-out seeds, 2 h; plus a whole day), export, check, card."""
    import time
    t0 = time.time()
    model, mean, std, threshold, vf1, train_s = st.train_classifier(spec)
    st.log(f"threshold {threshold:.2f} (val F1 {vf1:.4f}), trained in {train_s:.0f}s")
    ev = st.evaluate(model, spec, mean, std, threshold)
    add_extra_evals(ev, model, spec, mean, std, threshold, day_seeds)
    meta = {"sie.labels": "normal,fault",
            "sie.trained_on": trained_on(spec) + ("; labels: fault on any bound sensor"
                                                 if spec.labels == "bound" else "")}
    metrics = st.finish(model, spec, mean, std, threshold, ev, meta, doc, train_s, t0=t0)
    metrics["val_f1"] = vf1
    st.save_metrics(metrics_name or spec.name, metrics)
    write_card(spec, metrics, info)
    return metrics

GRID = {
    "title": "Feeder voltage-sensor fault and overload detector (classifier variant)",
    "script": "grid_voltage.py --mode probability",
    "trigger": "grid/+/voltage",
    "positives": ("a sensor fault on the feeder's voltage sensor (spike, drift, step, oscillation, "
                  "stuck) or an `overload` of the feeder (load x1.5-2 within 3 s, deeper voltage "
                  "sag). Frequency- and load-sensor faults are not positives for this trigger."),
    "why": ("Sensor faults distort the voltage, an overload sags it within 3 s. The feeder's load "
            "is the second channel: the sag follows it, so the load tells a voltage movement the "
            "feeder explains from one it does not, and an overload shows in it outright (the "
            "voltage-only variant: recall on overloads 0.94, false positives 0.45 %). A 300-s "
            "window keeps the onset of the longest step, stuck and overload fault in view; a "
            "stuck sensor shows as exactly repeated readings."),
    "limits": [
        "Needs 3000 readings (5 min at 10 Hz) of history before the first decision; the window "
        "fetch is 3000 readings of each channel per decision.",
        "The first seconds of a drift (which starts at zero) are undetectable.",
        "The probability-score variant of the feeder model, shipped beside the forecast-residual "
        "grid-voltage.onnx (both trained by `grid_voltage.py`); the demo site runs both.",
    ],
}
