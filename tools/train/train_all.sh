#!/usr/bin/env bash
# Retrains the simulator models into models/ (pump-health, water-leak, grid-voltage and
# grid-voltage-window, grid-frequency, hvac-zone, rack-fault): regenerates the simulator exports
# with build/sie into a temporary folder, trains each model with fixed seeds, exports ONNX with
# its metadata, checks it with OpenCV's DNN importer, writes its model card and reference outputs,
# and prints a summary.
#
#   tools/train/train_all.sh                 # all of them
#   tools/train/train_all.sh water_leak      # just some (script names without .py)
#
# Environment: SIE_BIN (default build/sie), SIE_TRAIN_DATA (default: a fresh /tmp folder, removed
# at the end unless KEEP_DATA=1), PYTHON (default /usr/bin/python3: Debian's, with python3-torch,
# python3-onnx, python3-opencv, python3-numpy).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
SIE_BIN=${SIE_BIN:-$ROOT/build/sie}
MODELS=(pump_health water_leak grid_voltage grid_frequency hvac_zone rack_fault)
[ $# -gt 0 ] && MODELS=("$@")

[ -x "$SIE_BIN" ] || { echo "train_all.sh: no simulator at $SIE_BIN (build first, or set SIE_BIN)" >&2; exit 1; }
"$PYTHON" -c 'import torch, onnx, cv2, numpy' 2>/dev/null || {
  echo "train_all.sh: $PYTHON lacks torch/onnx/cv2/numpy (apt-get install python3-torch python3-onnx python3-opencv)" >&2
  exit 1
}

DATA=${SIE_TRAIN_DATA:-$(mktemp -d /tmp/sie-train.XXXXXX)}
mkdir -p "$DATA"
cleanup() { [ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$DATA"; }
trap cleanup EXIT
# A private copy of the simulator: a rebuild of build/ while this runs does not disturb it.
cp "$SIE_BIN" "$DATA/sie"
export SIE_BIN="$DATA/sie" SIE_TRAIN_DATA="$DATA" SIE_TRAIN_PRUNE=1 PYTHONDONTWRITEBYTECODE=1 \
  PYTHONWARNINGS=ignore
echo "train_all.sh: data in $DATA, simulator $("$SIE_BIN" --version 2>/dev/null || echo "$SIE_BIN")"

start=$(date +%s)
for m in "${MODELS[@]}"; do
  echo "=== $m"
  t0=$(date +%s)
  "$PYTHON" "$ROOT/tools/train/$m.py" || { echo "train_all.sh: $m failed" >&2; exit 1; }
  echo "=== $m: $(( $(date +%s) - t0 )) s"
done

"$PYTHON" - "$DATA" "${MODELS[@]}" <<'PY'
import json, sys
from pathlib import Path
data = Path(sys.argv[1])
print("\nheld-out seeds 1-5, 2 h each (point-wise decisions)")
print(f"{'model':14s} {'F1':>6s} {'P':>6s} {'R':>6s} | {'z F1':>6s} {'z P':>6s} {'z R':>6s} | {'train s':>7s} {'bytes':>7s}")
names = [m.replace("_", "-") for m in sys.argv[2:]]
names += ["grid-voltage-window"] if "grid-voltage" in names else []
for name in names:
    f = data / f"{name}.metrics.json"
    if not f.exists():
        continue
    r = json.loads(f.read_text())
    a = r["model"]
    z = r.get("zscore") or r.get("zscore_rms")
    print(f"{name:14s} {a['f1']:6.3f} {a['precision']:6.3f} {a['recall']:6.3f} | "
          f"{z['f1']:6.3f} {z['precision']:6.3f} {z['recall']:6.3f} | {r['train_seconds']:7.0f} {r['size_bytes']:7d}")
PY
echo "train_all.sh: done in $(( $(date +%s) - start )) s; models in $ROOT/models"
