#!/usr/bin/python3
"""safetensors interop between PyTorch and ink, with no safetensors package (Debian has none):
this script reads and writes the format itself (8-byte little-endian header length, a JSON
header, raw little-endian data).

  make FILE    writes a seeded torch model's state_dict (eval mode) plus "input" and
               "expected" (its output on input) to FILE; tests/test_interop.cpp loads it into
               the same model built with ink and compares outputs.
  check FILE   reads a file written by ink's test (state_dict + "input" + "expected": ink's
               output), loads it into the torch model with load_state_dict(strict=True) and
               compares torch's output with ink's.

Run with Debian's python3-torch: /usr/bin/python3 tests/golden/torch_interop.py make FILE
"""
import json
import struct
import sys

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
TORCH = {v: k for k, v in DTYPES.items()}


def model():
    # The same layers, in the same order, as interop_model() in tests/test_interop.cpp.
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 3))


def write(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # align the data to 8 bytes, as the format recommends
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    base, out = 8 + n, {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(raw[base + begin:base + end]), dtype=TORCH[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "check"):
        sys.exit(__doc__)
    torch.manual_seed(0)
    net = model()
    if sys.argv[1] == "make":
        # Non-trivial running statistics, so that loading buffers is tested too.
        net.train()
        with torch.no_grad():
            for _ in range(3):
                net(torch.randn(16, 1, 8, 8) * 2 + 0.5)
        net.eval()
        x = torch.randn(5, 1, 8, 8)
        tensors = dict(net.state_dict())
        tensors["input"] = x
        tensors["expected"] = net(x)
        write(sys.argv[2], tensors, {"made_by": "tests/golden/torch_interop.py", "torch": torch.__version__})
        return
    tensors = read(sys.argv[2])
    x, expected = tensors.pop("input"), tensors.pop("expected")
    net.load_state_dict(tensors, strict=True)
    net.eval()
    got = net(x)
    err = (got - expected).abs().max().item()
    print(f"torch ran ink's weights: max |torch - ink| = {err:.3g} over {expected.numel()} outputs")
    sys.exit(0 if err <= 1e-5 else 1)


if __name__ == "__main__":
    main()
