"""The Python SDK's reading of 'B' frames: the windows it carries, and a cut frame's error."""

import json
import struct
import unittest

import sie_worker


def window(name: str, ts: list, value: list) -> bytes:
    encoded = name.encode()
    return (struct.pack("<H", len(encoded)) + encoded + struct.pack("<I", len(ts))
            + struct.pack(f"<{len(ts)}q", *ts) + struct.pack(f"<{len(value)}d", *value))


DOC = json.dumps({"id": "call-1", "reading": {"sensor": "pump/p1/bearing", "value": 2.5},
                  "windows": {"block": {"ts": [9], "value": [1.0]}}}).encode()
FRAME = (struct.pack("<I", len(DOC)) + DOC + window("empty", [], [])
         + window("history", [10, 20], [1.5, -2.0]))


class ParseInvocationTest(unittest.TestCase):
    def test_binary_windows_join_the_json_ones(self):
        inv = sie_worker.parse_invocation(b"B", FRAME)
        self.assertEqual(inv.id, "call-1")
        self.assertEqual(inv.value, 2.5)
        self.assertEqual(inv.window("history").ts, [10, 20])
        self.assertEqual(inv.window("history").value, [1.5, -2.0])
        self.assertEqual(len(inv.window("empty")), 0)
        self.assertEqual(inv.window("block").value, [1.0])

    def test_a_cut_frame_says_where_it_ends(self):
        json_end = 4 + len(DOC)
        history = json_end + 11  # after "empty": 2 + 5 + 4 bytes
        cuts = {2: "its JSON length",
                json_end - 1: "its JSON",
                history + 1: "a window's name length",
                history + 2 + 3: "a window's name",
                history + 9 + 2: "a window's length",
                history + 13 + 5: "a window's timestamps",
                len(FRAME) - 1: "a window's values"}
        for size, where in cuts.items():
            with self.subTest(size=size):
                with self.assertRaisesRegex(ValueError, f"invocation frame ends inside {where}$"):
                    sie_worker.parse_invocation(b"B", FRAME[:size])

    def test_malformed_json_is_a_value_error(self):
        with self.assertRaises(ValueError):
            sie_worker.parse_invocation(b"B", FRAME.replace(b'"id"', b"'id'"))


if __name__ == "__main__":
    unittest.main()
