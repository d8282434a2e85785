"""Shared helpers for the sie model training scripts (tools/train/*.py).

Data: `build/sie sim --export` CSV files (ts_ns,sensor,value,fault) and their .faults.csv ground
truth, regenerated into a temporary folder (never into the repository).
Windows: exactly what the node's onnx runtime builds (src/exec/onnx/input_window.cc): channel 0 is
the triggering sensor and sets the timeline; other channels are zero-order held onto it; the row is
channel-major [C*L]; residual models get the L readings before the trigger and the trigger's values
as targets.
Metrics: point-wise precision/recall/F1 over decisions (one per triggering reading once its window
is full), against the faults.csv ground truth.
Export: torch -> ONNX (opset 11, dynamic batch), metadata_props for the runtime, a check with
OpenCV's DNN importer (the runtime's backend), and a reference file for the C++ numeric test.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
MODELS = Path(os.environ.get("SIE_MODELS_DIR", REPO / "models"))
DATA = Path(os.environ.get("SIE_TRAIN_DATA", "/tmp/sie-train-data"))
PROCESS_FAULTS = ("leak", "overload", "bearing")
KINDS = ("spike", "drift", "step", "oscillation", "stuck", "leak", "overload", "bearing")
EVAL_SEEDS = (1, 2, 3, 4, 5)  # held out: never used for training, validation or thresholds
EVAL_DURATION = "2h"
# CSV timestamps are 19-digit ns since 1970 (the sim starts 2026-01-01). Dropping the first 4
# digits ("1767") keeps the rest below 2^53, exact in a float64, for runs up to ~1 day.
TS_PREFIX_DIGITS = 4
TS_PREFIX = 1767 * 10**15


def log(*args) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *args, flush=True)


def setup(seed: int) -> None:
    """Deterministic, single-threaded torch (the build shares the machine)."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)


# ----------------------------------------------------------------------------------------------
# Simulator exports


def sie_binary() -> Path:
    return Path(os.environ.get("SIE_BIN", REPO / "build" / "sie"))


def sim_export(seed: int, duration: str, domains: list[str] | tuple[str, ...],
               fault_rate: float = 6.0) -> tuple[Path, Path]:
    """Runs `sie sim --export` once (cached by name in DATA); returns (readings, faults) paths."""
    DATA.mkdir(parents=True, exist_ok=True)
    name = f"{'-'.join(domains)}_s{seed}_{duration}_r{fault_rate:g}"
    csv_path = DATA / f"{name}.csv"
    faults_path = DATA / f"{name}.faults.csv"
    if csv_path.exists() and faults_path.exists() and (DATA / f"{name}.done").exists():
        return csv_path, faults_path
    cmd = [str(sie_binary()), "sim", "--export", str(csv_path), "--duration", duration,
           "--seed", str(seed), "--domains", ",".join(domains), "--fault-rate", f"{fault_rate:g}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    (DATA / f"{name}.done").write_text(" ".join(cmd) + "\n")
    return csv_path, faults_path


@dataclass
class Series:
    ts: np.ndarray  # int64 ns
    v: np.ndarray  # float64
    flag: np.ndarray  # bool: the CSV's fault column is not empty


@dataclass
class Fault:
    kind: str
    domain: str
    asset: str
    sensors: list[str]
    start: int
    end: int
    magnitude: float


@dataclass
class Run:
    """One export: scalar series by sensor id, and the fault intervals."""
    seed: int
    duration: str
    series: dict[str, Series]
    faults: list[Fault]
    blocks: dict[str, "Blocks"] = field(default_factory=dict)


@dataclass
class Blocks:
    """A block sensor (vibration): one row per reading, `samples` values each."""
    ts: np.ndarray  # int64 ns of each block's first sample (the reading's timestamp)
    x: np.ndarray  # float32 [n, samples]
    flag: np.ndarray  # bool [n, samples]: the CSV's fault column per sample


def _numeric_rows(csv_path: Path, awk_filter: str = "") -> tuple[np.ndarray, list[str]]:
    """CSV -> float64 [rows, 4] (ts offset, sensor index, value, fault flag) via mawk (fast)."""
    names_path = Path(str(csv_path) + ".names")
    cond = f"NR>1 {awk_filter}".strip()
    prog = (f'{cond} {{ if (!($2 in id)) {{ id[$2]=n++; print $2 > "{names_path}" }} '
            f'print substr($1,{TS_PREFIX_DIGITS + 1}), id[$2], $3, ($4=="")?0:1 }}')
    out = subprocess.run(["awk", "-F,", prog, str(csv_path)], check=True, capture_output=True).stdout
    rows = np.fromstring(out, dtype=np.float64, sep=" ").reshape(-1, 4) if out else np.zeros((0, 4))
    names = names_path.read_text().split() if names_path.exists() else []
    names_path.unlink(missing_ok=True)
    return rows, names


def load_faults(path: Path) -> list[Fault]:
    faults = []
    lines = path.read_text().splitlines()[1:]
    for line in lines:
        kind, domain, asset, sensors, start, end, magnitude = line.split(",")
        faults.append(Fault(kind, domain, asset, sensors.split(";"), int(start), int(end),
                            float(magnitude)))
    return faults


def load_run(seed: int, duration: str, domains, fault_rate: float = 6.0,
             block_sensors: bool = False) -> Run:
    """Scalar sensors (block_sensors=False) or only the vibration block sensors (True)."""
    csv_path, faults_path = sim_export(seed, duration, domains, fault_rate)
    faults = load_faults(faults_path)
    if block_sensors:
        run = Run(seed, duration, {}, faults, _load_blocks(csv_path))
        _prune(csv_path)
        return run
    rows, names = _numeric_rows(csv_path, '&& $2 !~ /vibration$/')
    _prune(csv_path)
    series: dict[str, Series] = {}
    sid = rows[:, 1].astype(np.int64)
    for i, name in enumerate(names):
        r = rows[sid == i]
        ts = r[:, 0].astype(np.int64) + TS_PREFIX
        series[name] = Series(ts, r[:, 2].copy(), r[:, 3] > 0)
    return Run(seed, duration, series, faults, {})


def _prune(csv_path: Path) -> None:
    """SIE_TRAIN_PRUNE=1 (train_all.sh): drop a parsed export (vibration exports are ~0.8 GB per
    hour); a later load of the same run exports it again."""
    if os.environ.get("SIE_TRAIN_PRUNE") == "1":
        csv_path.unlink(missing_ok=True)
        csv_path.with_suffix(".done").unlink(missing_ok=True)


def _load_blocks(csv_path: Path, samples: int = 256) -> dict[str, "Blocks"]:
    """Vibration rows: each sensor's samples in order, cut into consecutive blocks of `samples`
    (the sim's blocks follow each other without a gap); a block's timestamp is its first sample's.
    The last, possibly cut, block is dropped. The per-sample fault flags are not kept (the ground
    truth comes from faults.csv)."""
    ts_path = Path(str(csv_path) + ".blockts")
    names_path = Path(str(csv_path) + ".names")
    prog = (f'NR>1 && $2 ~ /vibration$/ {{ if (!($2 in id)) {{ id[$2]=n++; print $2 > "{names_path}" }} '
            f'if (c[$2]++ % {samples} == 0) print substr($1,{TS_PREFIX_DIGITS + 1}), id[$2] > "{ts_path}"; '
            f'print id[$2], $3 }}')
    out = subprocess.run(["awk", "-F,", prog, str(csv_path)], check=True, capture_output=True).stdout
    rows = np.fromstring(out, dtype=np.float64, sep=" ").reshape(-1, 2)
    del out
    starts = np.fromstring(ts_path.read_text(), dtype=np.float64, sep=" ").reshape(-1, 2)
    ts_path.unlink()
    names = names_path.read_text().split()
    names_path.unlink()
    out_blocks = {}
    for i, name in enumerate(names):
        v = rows[rows[:, 0] == i, 1]
        ts = starts[starts[:, 1] == i, 0].astype(np.int64) + TS_PREFIX
        n = len(v) // samples
        out_blocks[name] = Blocks(ts[:n].copy(), v[: n * samples].reshape(n, samples).astype(np.float32),
                                  np.zeros((n, 0), dtype=bool))
    return out_blocks


def truth(sensor: str, ts: np.ndarray, faults: list[Fault]) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth per reading: a fault listed in faults.csv is active on the sensor, or a process
    fault is active on the sensor's asset. Returns (bool positive, int kind index or -1)."""
    domain, asset, _ = sensor.split("/")
    pos = np.zeros(len(ts), dtype=bool)
    kind = np.full(len(ts), -1, dtype=np.int64)
    for f in faults:
        if f.domain != domain or f.asset != asset:
            continue
        if sensor not in f.sensors and f.kind not in PROCESS_FAULTS:
            continue
        a, b = np.searchsorted(ts, [f.start, f.end], side="left")
        pos[a:b] = True
        kind[a:b] = KINDS.index(f.kind)
    return pos, kind


def truth_bound(sensors: list[str], ts: np.ndarray, faults: list[Fault]):
    """The `sie eval` rule: a fault is active on any of the sensors the function reads (the trigger
    or a bound channel). Returns (bool positive, int kind index or -1)."""
    pos = np.zeros(len(ts), dtype=bool)
    kind = np.full(len(ts), -1, dtype=np.int64)
    for f in faults:
        if not any(s in f.sensors for s in sensors):
            continue
        a, b = np.searchsorted(ts, [f.start, f.end], side="left")
        pos[a:b] = True
        kind[a:b] = KINDS.index(f.kind)
    return pos, kind


def assets_of(run: Run, domain: str) -> list[str]:
    names = sorted({s.split("/")[1] for s in list(run.series) + list(run.blocks)
                    if s.startswith(domain + "/")}, key=lambda a: (len(a), a))
    return names


# ----------------------------------------------------------------------------------------------
# Windows, as the onnx runtime builds them


@dataclass
class WindowSet:
    """Decisions of one trigger sensor in one run: index arrays into the aligned channel matrix."""
    sensor: str
    values: np.ndarray  # float64 [C, T]: channel c zero-order held onto the trigger's timeline
    lagged: np.ndarray  # float64 [C, T]: the same, but holding the newest reading strictly before
    ts: np.ndarray  # int64 [T] the trigger's timestamps
    clean: np.ndarray | None  # float64 [C, T] the same channels from the fault-free twin run
    decisions: np.ndarray  # int64 indices t of the triggering readings that get a decision
    y: np.ndarray  # bool [len(decisions)] ground truth at those readings
    kind: np.ndarray  # int64 [len(decisions)] fault kind index or -1


def align(run: Run, trigger: str, channels: list[str], clean: Run | None = None):
    trig = run.series[trigger]
    vals, lag, cl = [], [], []
    for c, sensor in enumerate(channels):
        s = run.series[sensor]
        if c == 0:
            vals.append(s.v)
            lag.append(s.v)
        else:
            i_at = np.searchsorted(s.ts, trig.ts, side="right") - 1
            i_before = np.searchsorted(s.ts, trig.ts, side="left") - 1
            vals.append(s.v[np.maximum(i_at, 0)])
            lag.append(s.v[np.maximum(i_before, 0)])
        if clean is not None:
            cs = clean.series[sensor]
            j = np.searchsorted(cs.ts, trig.ts, side="right") - 1
            cl.append(cs.v[np.maximum(j, 0)])
    return (np.stack(vals), np.stack(lag), trig.ts,
            np.stack(cl) if clean is not None else None)


def window_set(run: Run, trigger: str, channels: list[str], L: int, residual: bool = False,
               clean: Run | None = None, labels: str = "trigger") -> WindowSet:
    values, lagged, ts, cl = align(run, trigger, channels, clean)
    first = L if residual else L - 1
    decisions = np.arange(first, len(ts))
    y, kind = truth(trigger, ts, run.faults) if labels == "trigger" else truth_bound(channels, ts, run.faults)
    return WindowSet(trigger, values, lagged, ts, cl, decisions, y[decisions], kind[decisions])


def gather(ws: WindowSet, pick: np.ndarray, L: int, mean: np.ndarray, std: np.ndarray,
           residual: bool = False, lag_prob: float = 0.0, rng: np.random.Generator | None = None):
    """Normalized input rows [n, C*L] (float32) for decisions ws.decisions[pick]; for residual
    windows also the normalized targets [n, C] (the trigger's values) and clean targets.
    lag_prob: training augmentation — with this probability the non-trigger channels' newest
    value is the one before the trigger's timestamp (a reading of the same tick not stored yet)."""
    t = ws.decisions[pick]
    C = ws.values.shape[0]
    end = t if residual else t + 1  # exclusive end of the window
    xn = ((ws.values - mean[:, None]) / std[:, None]).astype(np.float32)
    rows = np.empty((len(t), C * L), dtype=np.float32)
    for c in range(C):
        rows[:, c * L:(c + 1) * L] = np.lib.stride_tricks.sliding_window_view(xn[c], L)[end - L]
    if lag_prob > 0 and C > 1:
        sel = np.flatnonzero(rng.random(len(t)) < lag_prob)
        last = end[sel] - 1
        for c in range(1, C):
            rows[sel, c * L + L - 1] = ((ws.lagged[c, last] - mean[c]) / std[c]).astype(np.float32)
    if not residual:
        return rows
    target = ((ws.values[:, t] - mean[:, None]) / std[:, None]).T.astype(np.float32)
    clean = None
    if ws.clean is not None:
        clean = ((ws.clean[:, t] - mean[:, None]) / std[:, None]).T.astype(np.float32)
    return rows, target, clean


def channel_stats(runs: list[Run], channel_patterns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean/std over all assets' readings without a fault flag. channel_patterns are
    sensor ids with '+' for the asset ("water/+/flow")."""
    mean, std = [], []
    for pat in channel_patterns:
        d, _, sig = pat.split("/")
        vals = [s.v[~s.flag] for run in runs for sid, s in run.series.items()
                if sid.startswith(d + "/") and sid.endswith("/" + sig)]
        v = np.concatenate(vals)
        mean.append(float(v.mean()))
        std.append(float(v.std()))
    return np.array(mean), np.array(std)


# ----------------------------------------------------------------------------------------------
# In-graph feature maps (only ops OpenCV 4.6 imports with a dynamic batch: 2-D Slice, Split into
# 2+ pieces along the columns, same-shape Add/Sub/Mul, Abs, Log, MatMul with constants, Concat,
# Gemm)


def columns(t: torch.Tensor, sizes: list[int]) -> list[torch.Tensor]:
    """t cut into column blocks of these sizes: one Split node (OpenCV rejects a 1-way Split)."""
    return list(torch.split(t, sizes, 1)) if len(sizes) > 1 else [t]


class WindowFeatures(torch.nn.Module):
    """Features of a [N, C*L] window, per channel (all in normalized units), relative to
    ref = the mean of the channel's last R values:
      ref      the recent level (absolute),
      recent   the last R values minus ref (spikes, oscillation, the newest value),
      levels   means of the consecutive seg-value segments of the whole window minus ref (steps,
               drifts, onsets of process faults),
      logdiff  log(|first difference| + eps) of the last R values (a stuck sensor: log eps),
      noise    per segment, log of the mean |first difference| (how much the signal moves).
    Laid out by kind, channel-major within each: ref [C], recent [C*R], levels [C*P],
    logdiff [C*(R-1)], noise [C*P] for P = L/seg segments; column 0 is channel 0's ref
    (grid_voltage forecasts relative to it).

    Every linear part is a MatMul with a constant. OpenCV's import costs ~50 us per Slice, ~10 us
    per other node and ~3.5 ms per MB of constants (the runtime hashes and copies a model several
    times), so columns are cut with Split, and the segment means are not a dense [L, P] matrix
    per channel: one [n, n/seg] matrix serves every n-value chunk (n <= chunk) of the row and of
    its |first differences|.
    """

    def __init__(self, C: int, L: int, R: int, seg: int, eps: float = 1e-4, chunk: int = 300):
        super().__init__()
        assert L % seg == 0 and 2 <= R < L
        self.C, self.L, self.R, self.seg, self.eps = C, L, R, seg, eps
        P = L // seg
        self.n = max(n for n in range(seg, max(seg, min(chunk, L)) + 1, seg) if L % n == 0)

        def per_channel(m):
            return torch.tensor(np.kron(np.eye(C), m), dtype=torch.float32)

        avg = np.full((R, 1), 1.0 / R)
        self.register_buffer("avg", per_channel(avg))  # tails -> ref
        self.register_buffer("recent", per_channel(np.eye(R) - avg))
        self.register_buffer("diff", per_channel(np.eye(R, R - 1, -1) - np.eye(R, R - 1)))
        self.register_buffer("expand", per_channel(np.ones((1, P))))  # ref, once per segment
        self.register_buffer("means", torch.tensor(
            np.kron(np.eye(self.n // seg), np.full((seg, 1), 1.0 / seg)), dtype=torch.float32))

    @property
    def size(self) -> int:
        P = self.L // self.seg
        return self.C * (1 + self.R + P + self.R - 1 + P)

    def segment_means(self, t):
        chunks = columns(t, [self.n] * (self.C * self.L // self.n))
        return torch.cat([torch.matmul(q, self.means) for q in chunks], 1)

    def forward(self, x):
        C, L, R = self.C, self.L, self.R
        tails = torch.cat(columns(x, [L - R, R] * C)[1::2], 1)
        ref = torch.matmul(tails, self.avg)
        d = torch.abs(x[:, 1:C * L] - x[:, 0:C * L - 1])
        # each channel's |first differences| with the first one twice: one per value, so that
        # they pool in the values' segments (the difference across a channel boundary is dropped)
        p = columns(d, ([1, L - 2, 1] * C)[:-1])
        dpad = torch.cat([q for c in range(C) for q in (p[3 * c], p[3 * c], p[3 * c + 1])], 1)
        levels = self.segment_means(x) - torch.matmul(ref, self.expand)
        logdiff = torch.log(torch.abs(torch.matmul(tails, self.diff)) + self.eps)
        noise = torch.log(self.segment_means(dpad) + self.eps)
        return torch.cat([ref, torch.matmul(tails, self.recent), levels, logdiff, noise], 1)


class Standardize(torch.nn.Module):
    def __init__(self, mean: np.ndarray, std: np.ndarray):
        super().__init__()
        self.register_buffer("m", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("s", torch.tensor(1.0 / np.maximum(std, 1e-6), dtype=torch.float32))

    def forward(self, f):
        return (f - self.m) * self.s


def mlp(n_in: int, hidden: list[int], n_out: int, final=None, dropout: float = 0.0) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for h in hidden:
        layers += [torch.nn.Linear(n_in, h), torch.nn.ReLU()]
        if dropout > 0:
            layers.append(torch.nn.Dropout(dropout))
        n_in = h
    layers.append(torch.nn.Linear(n_in, n_out))
    if final is not None:
        layers.append(final)
    return torch.nn.Sequential(*layers)


def features_of(fmap: torch.nn.Module, rows: np.ndarray, batch: int = 4096) -> np.ndarray:
    out = []
    with torch.no_grad():
        for i in range(0, len(rows), batch):
            out.append(fmap(torch.from_numpy(rows[i:i + batch])).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


# ----------------------------------------------------------------------------------------------
# Metrics


def prf(pred: np.ndarray, y: np.ndarray) -> dict:
    pred = pred.astype(bool)
    y = y.astype(bool)
    tp = int(np.sum(pred & y))
    fp = int(np.sum(pred & ~y))
    fn = int(np.sum(~pred & y))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"f1": f, "precision": p, "recall": r, "tp": tp, "fp": fp, "fn": fn,
            "decisions": int(len(y)), "positives": int(y.sum())}


def best_threshold(score: np.ndarray, y: np.ndarray, lo: float = 0.02, hi: float = 0.98):
    best = (0.0, 0.5)
    for th in np.linspace(lo, hi, 97):
        f = prf(score >= th, y)["f1"]
        if f > best[0] + 1e-9:
            best = (f, float(th))
    return best[1], best[0]


def zscore_baseline(v: np.ndarray, decisions: np.ndarray, n: int = 120, k: float = 5.0):
    """The builtin zscore handler (src/exec/builtin/zscore.cc): mean and sample std of the n
    readings before the trigger; anomaly when |x - mean| / std >= k. Returns (pred, mask): pred for
    the decisions that have n readings of history, mask = which decisions those are."""
    ok = decisions >= n
    t = decisions[ok]
    pred = np.zeros(len(t), dtype=bool)
    win = np.lib.stride_tricks.sliding_window_view(v, n)  # win[j] = v[j:j+n]
    for i in range(0, len(t), 20000):
        tt = t[i:i + 20000]
        w = win[tt - n]
        mean = w.mean(axis=1)
        std = np.maximum(w.std(axis=1, ddof=1), 1e-9)
        pred[i:i + 20000] = np.abs(v[tt] - mean) / std >= k
    return pred, ok


def per_kind(pred: np.ndarray, y: np.ndarray, kind: np.ndarray) -> dict:
    out = {}
    for k in sorted(set(kind[y].tolist())):
        m = kind == k
        out[KINDS[k]] = {"recall": float(pred[m].mean()), "decisions": int(m.sum())}
    fp = pred & ~y
    out["false_positive_rate"] = float(fp.sum() / max(1, (~y).sum()))
    return out


def fmt_metrics(m: dict) -> str:
    return f"F1 {m['f1']:.3f}  P {m['precision']:.3f}  R {m['recall']:.3f}"


# ----------------------------------------------------------------------------------------------
# Export


def finish_onnx(path: Path, meta: dict, doc: str) -> None:
    """Constant nodes (torch's Slice bounds) become initializers, then the metadata for the
    runtime: OpenCV 4.6 imports initializers faster (0.05-0.3 ms of a window model's ~1.5-2 ms
    cold start)."""
    import onnx
    m = onnx.load(str(path))
    nodes = []
    for n in m.graph.node:
        if n.op_type != "Constant":
            nodes.append(n)
            continue
        assert [a.name for a in n.attribute] == ["value"], n
        t = m.graph.initializer.add()
        t.CopyFrom(n.attribute[0].t)
        t.name = n.output[0]
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    del m.metadata_props[:]
    for k, v in meta.items():
        e = m.metadata_props.add()
        e.key = k
        e.value = str(v)
    m.model_version = 1
    m.doc_string = doc
    m.producer_name = "pytorch"
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def specialized_bytes(path: Path, batch: int) -> bytes:
    """The model with its dynamic batch fixed, as the node's runtime loads it (specializeInput)."""
    import onnx
    m = onnx.load(str(path))
    for vi in list(m.graph.input) + list(m.graph.output):
        d = vi.type.tensor_type.shape.dim[0]
        if d.dim_param or d.dim_value <= 0:
            d.ClearField("dim_param")
            d.dim_value = batch
    return m.SerializeToString()


def cv2_check(path: Path, x: np.ndarray, expected: np.ndarray, tol: float = 1e-4) -> dict:
    """Runs the model with OpenCV DNN: as the file is (dynamic batch, N rows at once), and
    specialized to batch 1 (row by row, as the node runs it). Raises if any differs from torch."""
    import cv2
    report = {}
    net = cv2.dnn.readNetFromONNX(str(path))
    net.setInput(x)
    out = net.forward().reshape(expected.shape)
    report["dynamic_batch_max_abs_diff"] = float(np.abs(out - expected).max())
    tmp = DATA / f"{path.stem}.batch1.onnx"
    DATA.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(specialized_bytes(path, 1))
    net1 = cv2.dnn.readNetFromONNX(str(tmp))
    diffs = []
    for i in range(len(x)):
        net1.setInput(x[i:i + 1])
        o = net1.forward().reshape(expected[i:i + 1].shape)
        diffs.append(float(np.abs(o - expected[i:i + 1]).max()))
    report["batch1_max_abs_diff"] = max(diffs)
    worst = max(report.values())
    if not worst <= tol:
        raise RuntimeError(f"{path.name}: OpenCV output differs from torch by {worst:.3g}")
    return report


def export_model(model: torch.nn.Module, n_in: int, path: Path, meta: dict, doc: str) -> None:
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    x = torch.zeros(2, n_in)
    torch.onnx.export(model, x, str(path), opset_version=11, input_names=["input"],
                      output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True)
    finish_onnx(path, meta, doc)


def torch_forward(model: torch.nn.Module, x: np.ndarray, batch: int = 4096) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(model(torch.from_numpy(x[i:i + batch])).numpy())
    return np.concatenate(out)


def score_rows(mode: str, x: np.ndarray, out: np.ndarray, target: np.ndarray | None,
               error_scale: float) -> np.ndarray:
    """The runtime's scoring (src/exec/onnx/scoring.cc), in float64."""
    out = out.astype(np.float64)
    if mode == "probability":
        if out.shape[1] == 1:
            return np.clip(out[:, 0], 0, 1)
        return np.clip(1.0 - out[:, 0], 0, 1)
    if mode == "reconstruction":
        err = np.mean((out - x.astype(np.float64)) ** 2, axis=1)
        return err / (err + error_scale)
    if mode == "residual":
        r = np.sqrt(np.mean((out - target.astype(np.float64)) ** 2, axis=1))
        return r / (r + error_scale)
    raise ValueError(mode)


def write_ref(path: Path, model_name: str, x: np.ndarray, out: np.ndarray, scores: np.ndarray,
              target: np.ndarray | None = None, extra: dict | None = None) -> None:
    def g(v):
        return float(f"{float(v):.7g}")
    ref = {"model": model_name, "input_shape": list(x.shape),
           "inputs": [[g(v) for v in row] for row in x],
           "outputs": [[g(v) for v in row] for row in out],
           "scores": [g(s) for s in scores], "tolerance": 1e-4}
    if target is not None:
        ref["targets"] = [[g(v) for v in row] for row in target]
    if extra:
        ref.update(extra)
    path.write_text(json.dumps(ref, separators=(",", ":")) + "\n")


def ref_rows(y: np.ndarray, score: np.ndarray, rng: np.random.Generator, n: int = 8):
    """Indices of n held-out decisions: half normal, half faulty, spread over the score range."""
    pos = np.flatnonzero(y)
    neg = np.flatnonzero(~y)
    k = min(n // 2, len(pos))
    pick = []
    for group, m in ((pos, k), (neg, n - k)):
        order = group[np.argsort(score[group], kind="stable")]
        pick += [int(order[int(q)]) for q in np.linspace(0, len(order) - 1, m)]
    return np.array(pick)


def file_size(path: Path) -> int:
    return path.stat().st_size


def node_count(path: Path) -> int:
    import onnx
    return len(onnx.load(str(path)).graph.node)


def metrics_table(rows: list[tuple[str, dict]]) -> str:
    lines = ["| detector | F1 | precision | recall | TP | FP | FN | decisions |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, m in rows:
        lines.append(f"| {name} | {m['f1']:.3f} | {m['precision']:.3f} | {m['recall']:.3f} | "
                     f"{m['tp']} | {m['fp']} | {m['fn']} | {m['decisions']} |")
    return "\n".join(lines)


def kind_table(model_kinds: dict, base_kinds: dict) -> str:
    lines = ["| fault kind on the trigger | decisions | model recall | z-score recall |",
             "| --- | ---: | ---: | ---: |"]
    for k, v in model_kinds.items():
        if k == "false_positive_rate":
            continue
        b = base_kinds.get(k, {}).get("recall", float("nan"))
        lines.append(f"| {k} | {v['decisions']} | {v['recall']:.3f} | {b:.3f} |")
    lines.append(f"| (false-positive rate on normal decisions) | | "
                 f"{model_kinds['false_positive_rate']:.4f} | "
                 f"{base_kinds.get('false_positive_rate', float('nan')):.4f} |")
    return "\n".join(lines)


def save_metrics(name: str, metrics: dict) -> None:
    """Metrics of the last training run, for train_all.sh's summary (kept outside the repo)."""
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / f"{name}.metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")


# ----------------------------------------------------------------------------------------------
# Window classifiers (probability score): WindowFeatures -> Standardize -> MLP -> sigmoid


class WindowClassifier(torch.nn.Module):
    def __init__(self, fmap: WindowFeatures, f_mean, f_std, hidden=(64, 32), dropout=0.1):
        super().__init__()
        self.fmap = fmap
        self.std = Standardize(f_mean, f_std)
        self.head = mlp(fmap.size, list(hidden), 1, torch.nn.Sigmoid(), dropout)

    def forward(self, x):
        return self.head(self.std(self.fmap(x)))


@dataclass
class Spec:
    """What a window model binds: domain, the trigger's signal (channel 0) and the others."""
    name: str
    domain: str
    channels: list[str]  # signal names, channel 0 = trigger; "asset/signal" names another asset's
    L: int
    R: int = 16
    seg: int = 60  # values per pooled segment
    hidden: tuple = (64, 32)
    train: list = field(default_factory=list)  # (seed, duration)
    val: list = field(default_factory=list)
    stride: int = 3  # training decisions: every stride-th reading (random phase)
    pos_stride: int = 1  # faulty readings: every pos_stride-th
    epochs: int = 12
    lr: float = 2e-3
    lag_prob: float = 0.3
    dropout: float = 0.1
    weight_decay: float = 1e-5
    # ground truth: "trigger" = a fault on the trigger sensor or a process fault of its asset;
    # "bound" = a fault on any sensor the function reads (`sie eval` scores by "trigger")
    labels: str = "trigger"
    seed: int = 7
    # channel c is normalized with channel tie[c]'s mean and std (channels compared in-graph
    # must share a scale); None: each its own
    tie: list[int] | None = None
    # the in-graph feature map (a module with .size); None: WindowFeatures over all channels
    features: Callable[["Spec"], torch.nn.Module] | None = None

    def sensors(self, asset: str) -> list[str]:
        return [f"{self.domain}/{c}" if "/" in c else f"{self.domain}/{asset}/{c}"
                for c in self.channels]

    def patterns(self) -> list[str]:
        return [f"{self.domain}/{c}" if "/" in c else f"{self.domain}/+/{c}" for c in self.channels]

    def feature_map(self) -> torch.nn.Module:
        if self.features is not None:
            return self.features(self)
        return WindowFeatures(len(self.channels), self.L, self.R, self.seg)

    def stats(self, sets: list["WindowSet"]) -> tuple[np.ndarray, np.ndarray]:
        mean, std = _stats_from_sets(sets)
        if self.tie is not None:
            mean, std = mean[self.tie], std[self.tie]
        return mean, std


def run_item(item) -> tuple[int, str, float]:
    """(seed, duration) or (seed, duration, fault rate per asset-hour; default 6)."""
    seed, dur, *rest = item
    return seed, dur, float(rest[0]) if rest else 6.0


def window_sets(spec: Spec, seeds, residual: bool = False, clean: bool = False) -> list[WindowSet]:
    out = []
    for item in seeds:
        seed, dur, rate = run_item(item)
        run = load_run(seed, dur, [spec.domain], fault_rate=rate)
        twin = load_run(seed, dur, [spec.domain], fault_rate=0.0) if clean else None
        n = 0
        for asset in assets_of(run, spec.domain):
            s = spec.sensors(asset)
            ws = window_set(run, s[0], s, spec.L, residual, twin, spec.labels)
            ws.seed = seed
            out.append(ws)
            n += len(ws.decisions)
        log(f"{spec.domain} seed {seed} {dur} fault rate {rate:g}/h: {n} decisions")
    return out


def sample_decisions(ws: WindowSet, stride: int, pos_stride: int, rng) -> np.ndarray:
    n = len(ws.decisions)
    base = np.arange(int(rng.integers(stride)), n, stride)
    pos = np.flatnonzero(ws.y)
    pos = pos[int(rng.integers(pos_stride))::pos_stride] if len(pos) else pos
    return np.unique(np.concatenate([base, pos]))


def build_features(fmap, sets, spec: Spec, mean, std, rng, train: bool):
    feats, ys = [], []
    for ws in sets:
        pick = (sample_decisions(ws, spec.stride, spec.pos_stride, rng) if train
                else np.arange(0, len(ws.decisions), spec.stride))
        for i in range(0, len(pick), 4096):
            p = pick[i:i + 4096]
            rows = gather(ws, p, spec.L, mean, std, lag_prob=spec.lag_prob if train else 0.0, rng=rng)
            feats.append(features_of(fmap, rows))
            ys.append(ws.y[p])
    return np.concatenate(feats), np.concatenate(ys)


def train_classifier(spec: Spec):
    """Trains a WindowClassifier; returns (model, mean, std, threshold, val_f1, seconds)."""
    t0 = time.time()
    setup(spec.seed)
    rng = np.random.default_rng(spec.seed)
    train_sets = window_sets(spec, spec.train)
    val_sets = window_sets(spec, spec.val)
    runs_mean, runs_std = spec.stats(train_sets)
    fmap = spec.feature_map()
    ftr, ytr = build_features(fmap, train_sets, spec, runs_mean, runs_std, rng, train=True)
    fva, yva = build_features(fmap, val_sets, spec, runs_mean, runs_std, rng, train=False)
    log(f"features: train {ftr.shape} ({ytr.mean():.3f} positive), val {fva.shape}")
    model = WindowClassifier(fmap, ftr.mean(0), ftr.std(0), spec.hidden, spec.dropout)
    opt = torch.optim.Adam(model.head.parameters(), lr=spec.lr, weight_decay=spec.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, spec.epochs)
    lossf = torch.nn.BCELoss()
    xs = model.std(torch.from_numpy(ftr)).detach()
    xv = model.std(torch.from_numpy(fva)).detach()
    yt = torch.from_numpy(ytr.astype(np.float32))[:, None]
    best = (-1.0, 0.5, None)
    for epoch in range(spec.epochs):
        model.train()
        perm = torch.from_numpy(rng.permutation(len(xs)))
        total = 0.0
        for i in range(0, len(perm), 1024):
            b = perm[i:i + 1024]
            opt.zero_grad()
            loss = lossf(model.head(xs[b]), yt[b])
            loss.backward()
            opt.step()
            total += float(loss) * len(b)
        sched.step()
        model.eval()
        with torch.no_grad():
            pv = model.head(xv).numpy()[:, 0]
        th, f1 = best_threshold(pv, yva)
        log(f"epoch {epoch}: loss {total / len(perm):.4f}  val F1 {f1:.4f} at {th:.2f}")
        if f1 > best[0]:
            best = (f1, th, {k: v.clone() for k, v in model.state_dict().items()})
    model.load_state_dict(best[2])
    model.eval()
    return model, runs_mean, runs_std, best[1], best[0], time.time() - t0


def _stats_from_sets(sets: list[WindowSet]):
    """Per-channel mean/std of the training windows' values (all assets, all readings)."""
    v = np.concatenate([ws.values for ws in sets], axis=1)
    return v.mean(axis=1), v.std(axis=1)


def evaluate(model, spec: Spec, mean, std, threshold, residual=False, error_scale=1.0,
             seeds=None, duration=None, fault_rate=6.0):
    """Held-out decisions (every triggering reading with a full window), model vs zscore."""
    seeds = seeds or EVAL_SEEDS
    duration = duration or EVAL_DURATION
    sets = window_sets(spec, [(s, duration, fault_rate) for s in seeds], residual=residual)
    scores, ys, kinds, base, rows_keep = [], [], [], [], []
    for ws in sets:
        sc = []
        for i in range(0, len(ws.decisions), 4096):
            p = np.arange(i, min(i + 4096, len(ws.decisions)))
            g = gather(ws, p, spec.L, mean, std, residual=residual)
            if residual:
                rows, target, _ = g
                out = torch_forward(model, rows)
                sc.append(score_rows("residual", rows, out, target, error_scale))
            else:
                out = torch_forward(model, g)
                sc.append(score_rows("probability", g, out, None, 1.0))
        scores.append(np.concatenate(sc))
        ys.append(ws.y)
        kinds.append(ws.kind)
        z, ok = zscore_baseline(ws.values[0], ws.decisions)
        assert ok.all()
        base.append(z)
    score = np.concatenate(scores)
    y = np.concatenate(ys)
    kind = np.concatenate(kinds)
    z = np.concatenate(base)
    pred = score >= threshold
    return {"model": prf(pred, y), "zscore": prf(z, y),
            "kinds_model": per_kind(pred, y, kind), "kinds_zscore": per_kind(z, y, kind),
            "_score": score, "_y": y, "_sets": sets}


def finish(model, spec: Spec, mean, std, threshold, ev: dict, meta_extra: dict, doc: str,
           train_seconds: float, residual=False, error_scale=1.0, t0=None, metrics_name=None):
    """Export + metadata + cv2 check + reference file + metrics json. Returns the metrics."""
    path = MODELS / f"{spec.name}.onnx"
    C, L = len(spec.channels), spec.L
    meta = {
        "sie.channels": ",".join(spec.channels),
        "sie.window": str(L),
        "sie.mean": ",".join(f"{v:.7g}" for v in mean),
        "sie.std": ",".join(f"{v:.7g}" for v in std),
        "sie.score": "residual" if residual else "probability",
        "sie.threshold": f"{threshold:.4g}",
        "sie.error_scale": f"{error_scale:.4g}",
    }
    meta.update(meta_extra)
    export_model(model, C * L, path, meta, doc)
    # reference rows: 8 held-out decisions, half faulty
    rng = np.random.default_rng(spec.seed)
    score, y, sets = ev["_score"], ev["_y"], ev["_sets"]
    pick = ref_rows(y, score, rng)
    offsets = np.cumsum([0] + [len(ws.decisions) for ws in sets])
    xs, ts = [], []
    for p in pick:
        k = int(np.searchsorted(offsets, p, side="right") - 1)
        g = gather(sets[k], np.array([p - offsets[k]]), L, mean, std, residual=residual)
        if residual:
            xs.append(g[0])
            ts.append(g[1])
        else:
            xs.append(g)
    x = np.concatenate(xs)
    target = np.concatenate(ts) if residual else None
    out = torch_forward(model, x)
    check = cv2_check(path, x, out)
    log("cv2 check", check)
    sc = score_rows("residual" if residual else "probability", x, out, target, error_scale)
    write_ref(MODELS / f"{spec.name}.ref.json", path.name, x, out, sc, target,
              extra={"truth": [bool(v) for v in y[pick]], "threshold": threshold})
    metrics = {k: v for k, v in ev.items() if not k.startswith("_")}
    metrics.update({"threshold": threshold, "train_seconds": train_seconds,
                    "size_bytes": file_size(path), "nodes": node_count(path), "cv2": check,
                    "total_seconds": (time.time() - t0) if t0 else None,
                    "mean": list(map(float, mean)), "std": list(map(float, std))})
    save_metrics(metrics_name or spec.name, metrics)
    log(f"{spec.name}: model {fmt_metrics(metrics['model'])} | zscore {fmt_metrics(metrics['zscore'])}")
    log(f"wrote {path} ({metrics['size_bytes']} bytes, {metrics['nodes']} nodes)")
    return metrics
