"""sie worker SDK for Python (standard library only).

A process-runtime function using it speaks sie's native protocol on the channel the node hands
it (fd $SIE_CHANNEL_FD):

    import sie_worker

    def handle(inv):
        return sie_worker.Decision(score=inv.value, anomaly=inv.value > 80)

    sie_worker.serve(handle)

Frames: [u32 little-endian body length][u8 type][body]. The worker sends 'H' (ready) once, then
answers each invocation — 'B' (JSON plus binary windows, which this module's hello asks for) or
'I' (JSON only) — with 'R' (result JSON) or 'E' (error JSON); an exception in the handler answers
'E' and the worker keeps serving. serve() returns when the node closes the channel. A handler
returns a Decision, a Result, a dict in the result's JSON shape, or None.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

MAX_FRAME = 16 << 20


@dataclass
class Decision:
    score: float = 0.0
    anomaly: bool = False
    label: str = ""
    detail: str = ""

    def to_json(self) -> dict:
        label = self.label or ("anomaly" if self.anomaly else "normal")
        return {"score": float(self.score), "anomaly": bool(self.anomaly), "label": label,
                "detail": self.detail}


@dataclass
class Result:
    decision: Optional[Decision] = None
    kv: list = field(default_factory=list)      # [{"key", "value", "ttlMs"}]
    events: list = field(default_factory=list)  # [{"type", "subject", "data"}]

    def to_json(self) -> dict:
        out: dict = {}
        if self.decision is not None:
            out["decision"] = self.decision.to_json()
        if self.kv:
            out["kv"] = self.kv
        if self.events:
            out["events"] = self.events
        return out


class Window:
    def __init__(self, doc: dict):
        self.ts: list = doc.get("ts", [])
        self.value: list = doc.get("value", [])

    def __len__(self) -> int:
        return len(self.value)


class Invocation:
    def __init__(self, doc: dict):
        self.doc = doc
        self.reading: dict = doc.get("reading") or {}

    @property
    def id(self) -> str:
        return self.doc.get("id", "")

    @property
    def sensor(self) -> str:
        return self.reading.get("sensor", "")

    @property
    def ts(self) -> int:
        return self.reading.get("ts", 0)

    @property
    def value(self) -> float:
        return self.reading.get("value", 0.0)

    @property
    def values(self) -> list:
        return self.reading.get("values", [self.value])

    def window(self, name: str) -> Window:
        return Window((self.doc.get("windows") or {}).get(name, {}))

    def kv(self, name: str, fallback: float = 0.0) -> float:
        return (self.doc.get("values") or {}).get(name, fallback)

    def param(self, name: str, fallback: float = 0.0) -> float:
        return (self.doc.get("params") or {}).get(name, fallback)


def _channel() -> int:
    return int(os.environ.get("SIE_CHANNEL_FD", "3"))


def _read_exact(fd: int, n: int) -> Optional[bytes]:
    chunks = []
    while n > 0:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _send(fd: int, kind: bytes, body: bytes) -> None:
    frame = struct.pack("<I", len(body)) + kind + body
    view = memoryview(frame)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int):
    header = _read_exact(fd, 5)
    if header is None:
        return None
    (n,) = struct.unpack("<I", header[:4])
    if n > MAX_FRAME:
        return None
    body = _read_exact(fd, n)
    return None if body is None else (header[4:5], body)


class _FrameReader:
    """Takes a frame's fields in order; a field cut short raises ValueError naming it."""

    def __init__(self, body: bytes):
        self.body = body
        self.at = 0

    def more(self) -> bool:
        return self.at < len(self.body)

    def take(self, size: int, what: str) -> bytes:
        if len(self.body) - self.at < size:
            raise ValueError(f"invocation frame ends inside {what}")
        self.at += size
        return self.body[self.at - size:self.at]

    def number(self, fmt: str, what: str) -> int:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]


def parse_invocation(kind: bytes, body: bytes) -> Invocation:
    """The invocation in an 'I' frame (JSON) or a 'B' frame ([u32 JSON length][JSON][per window:
    u16 name length, name, u32 n, n x i64 ts, n x f64 value], little-endian). A malformed frame
    raises ValueError."""
    if kind == b"I":
        return Invocation(json.loads(body))
    frame = _FrameReader(bytes(body))
    doc = json.loads(frame.take(frame.number("<I", "its JSON length"), "its JSON"))
    windows = doc.setdefault("windows", {})
    while frame.more():
        name = frame.take(frame.number("<H", "a window's name length"), "a window's name").decode()
        count = frame.number("<I", "a window's length")
        ts = frame.take(8 * count, "a window's timestamps")
        value = frame.take(8 * count, "a window's values")
        windows[name] = {"ts": list(struct.unpack(f"<{count}q", ts)),
                         "value": list(struct.unpack(f"<{count}d", value))}
    return Invocation(doc)


def _result_json(result: Any) -> dict:
    if result is None:
        return {}
    if isinstance(result, (Decision, Result)):
        return result.to_json() if isinstance(result, Result) else {"decision": result.to_json()}
    if isinstance(result, dict):
        return result
    raise TypeError(f"handler returned {type(result).__name__}; return a Decision, Result, dict or None")


def init_failed(message: str) -> None:
    """Tells the node the function cannot start (bad configuration, missing model, ...)."""
    _send(_channel(), b"F", message.encode())


def serve(handler: Callable[[Invocation], Any]) -> None:
    fd = _channel()
    _send(fd, b"H", b'{"sdk":"python/2","binaryWindows":true}')
    while True:
        frame = _receive(fd)
        if frame is None:
            return
        kind, body = frame
        if kind not in (b"I", b"B"):
            continue
        try:
            reply = json.dumps(_result_json(handler(parse_invocation(kind, body))))
            _send(fd, b"R", reply.encode())
        except Exception as e:  # the function's error, reported per invocation
            error = {"errorType": type(e).__name__, "errorMessage": str(e)}
            _send(fd, b"E", json.dumps(error).encode())
