#!/usr/bin/env python3
"""Fails when a file under src/ includes a folder its layer may not use (docs/ARCHITECTURE.md).

Usage: check_layers.py SRC_DIR      checks the tree, lists each crossing
       check_layers.py --self-test  shows that an upward include is caught
"""
import os
import re
import sys
import tempfile

# Folder -> the folders its files may include, besides its own and include/sie. Lower layers
# come first; a folder never includes one listed after it.
LAYERS = {
    "core": [],
    "gateway": ["core"],
    "http": ["core"],
    "privacy": ["core"],
    "state": ["core"],
    "security": ["core", "http"],
    "exec/builtin": [],
    "exec/onnx": ["core", "exec/builtin"],
    "exec/process": ["core", "http"],
    "exec": ["core", "http", "exec"],
    "adapters": ["core", "gateway", "http", "adapters"],
    "runtime": ["core", "gateway", "http", "state", "security", "exec"],
    "config": ["core", "gateway", "http", "privacy", "runtime"],
    "control": ["core", "gateway", "http", "privacy", "security", "state", "runtime", "config"],
    "eval": ["core", "state", "adapters", "exec", "runtime", "config"],
    "node": ["core", "gateway", "http", "privacy", "security", "state", "exec", "adapters",
             "runtime", "config", "control"],
    "tools": ["core", "adapters"],
    "cli": ["core", "gateway", "http", "privacy", "security", "state", "exec", "adapters",
            "runtime", "config", "control", "eval", "node"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+(?:/[a-z_]+)*)/[^"/]+"', re.M)


def within(path, folder):
    return path == folder or path.startswith(folder + "/")


def layer_of(rel_dir):
    """The most specific folder of LAYERS that holds rel_dir, or None."""
    best = None
    for folder in LAYERS:
        if within(rel_dir, folder) and (best is None or len(folder) > len(best)):
            best = folder
    return best


def crossings(src):
    found = []
    for root, _, files in os.walk(src):
        rel_dir = os.path.relpath(root, src)
        if rel_dir == ".":
            continue
        layer = layer_of(rel_dir)
        for name in sorted(files):
            if not name.endswith((".h", ".cc", ".in")):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for match in INCLUDE.finditer(text):
                target = match.group(1)
                if target == "sie":
                    continue
                allowed = [layer] + LAYERS[layer] if layer else []
                if not any(within(target, a) for a in allowed):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{os.path.relpath(path, src)}:{line}: includes {target}/, "
                                 f"which {layer or rel_dir} may not use")
    return found


def self_test():
    with tempfile.TemporaryDirectory() as src:
        for rel, text in {"runtime/a.cc": '#include "runtime/b.h"\n#include "core/c.h"\n',
                          "config/d.cc": '#include "runtime/b.h"\n'}.items():
            os.makedirs(os.path.join(src, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(src, rel), "w") as f:
                f.write(text)
        if crossings(src):
            print("self-test: a downward include was refused")
            return 1
        with open(os.path.join(src, "runtime/e.cc"), "w") as f:
            f.write('#include "control/control_plane.h"\n')
        found = crossings(src)
        if len(found) != 1 or "runtime/e.cc:1" not in found[0]:
            print(f"self-test: the upward include was not caught: {found}")
            return 1
    print("self-test: an upward include is caught, downward ones pass")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    found = crossings(sys.argv[1])
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} include(s) cross a layer upward; see docs/ARCHITECTURE.md")
        return 1
    print("every include stays within its layer's reach")
    return 0


if __name__ == "__main__":
    sys.exit(main())
