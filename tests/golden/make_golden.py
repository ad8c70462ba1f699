#!/usr/bin/python3
"""Writes tests/golden/ops_golden.txt: PyTorch's float32 forward values and input gradients
for every case of the op table below, read by tests/test_ops.cpp.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/make_golden.py
The output is deterministic (fixed seed), so re-running it must not change the file unless
the table or the torch version changes.

Each case names an op (a row of the C++ table in tests/test_ops.cpp), its inputs (shape, how
the values are drawn, whether the input requires grad) and its options. Inputs are drawn away
from the kinks of non-smooth ops (0 for abs/relu, the bounds of clamp, ties for max/min/
maximum/minimum) and inside the domain of log/sqrt/pow, so that the same case is also a fair
gradcheck / gradgradcheck in double precision.
Two options belong to the harness rather than to an op:
  tr=1    transposes dims 0 and 1 of the first input before the op, so that the op reads a
          strided, non-contiguous view (the gradient is still that of the stored input);
  kink=1  the inputs sit exactly on kinks (0 for relu/abs, the bounds of clamp, ties for
          max/min/maximum/minimum, 0^b for pow), on purpose, to pin PyTorch's choice of
          subgradient there; such a case is compared with PyTorch in float32 only, since
          finite differences across a kink are meaningless.

File format (one record per line, whitespace-separated tokens):
  case <name> op=<op> [<key>=<value> ...]     options: ints, floats, none, lists [a,b]
  in <requires_grad 0|1> <shape> <values...>  one line per input, in order
  gout <shape> <values...>                    the random grad_output (differentiable cases)
  out <shape> <values...>                     PyTorch's output
  gin <input index> <shape> <values...>       PyTorch's gradient, per input requiring grad
  end
A shape is [d0,d1,...] ([] for a 0-dim tensor). Floats are printed with %.9g, which
round-trips float32 exactly. Forward-only cases (op=argmax/eq/.../sign) have no gout/gin.
"""
import os
import sys

import torch

SEED = 20240611
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops_golden.txt")

gen = torch.Generator().manual_seed(SEED)


# ---------------------------------------------------------------- how input values are drawn
def draw(kind, shape, avoid=()):
    n = 1
    for d in shape:
        n *= d
    if kind == "n":  # standard normal
        x = torch.randn(shape, generator=gen)
    elif kind == "p":  # positive, inside the domain of log / sqrt / fractional pow
        x = torch.rand(shape, generator=gen) * 1.5 + 0.5
    elif kind == "a":  # away from zero (abs, relu, divisors): |x| in [0.2, 1.8]
        mag = torch.rand(shape, generator=gen) * 1.6 + 0.2
        sign = torch.randint(0, 2, shape, generator=gen).float() * 2 - 1
        x = mag * sign
    elif kind == "d":  # distinct, at least 0.2 apart (max / min without ties)
        perm = torch.randperm(n, generator=gen).float()
        x = ((perm - n / 2) * 0.25 + torch.rand(n, generator=gen) * 0.05).reshape(shape)
    elif kind in ("la", "lb"):  # two lattices whose points are >= 0.05 apart (maximum / minimum)
        k = torch.randint(-5, 6, shape, generator=gen).float()
        x = k * 0.3 + torch.rand(shape, generator=gen) * 0.1 + (0.15 if kind == "lb" else 0.0)
    elif kind == "c":  # a 0/1 condition
        x = torch.randint(0, 2, shape, generator=gen).float()
    elif kind == "w":  # wide normal (sigmoid / tanh far into their tails)
        x = torch.randn(shape, generator=gen) * 8
    elif kind == "nan":  # normal with about a third NaN (forward-only ops)
        x = torch.randn(shape, generator=gen)
        x = torch.where(torch.rand(shape, generator=gen) < 0.35, torch.tensor(float("nan")), x)
    elif kind == "z":  # in [0, 2) with about a third exact zeros (pow at base 0)
        x = torch.rand(shape, generator=gen) * 2
        x = torch.where(torch.rand(shape, generator=gen) < 0.35, torch.tensor(0.0), x)
    elif kind == "i":  # small integers: ties and zeros on purpose (comparisons, sign, argmax)
        x = torch.randint(-2, 3, shape, generator=gen).float()
    else:
        raise ValueError(kind)
    x = x.float()
    for p in avoid:  # push values within 0.05 of a kink to 0.1 from it
        near = (x - p).abs() < 0.05
        x = torch.where(near, torch.where(x >= p, torch.tensor(p + 0.1), torch.tensor(p - 0.1)), x)
    return x


def I(shape, kind="n", grad=True, avoid=()):
    return {"shape": list(shape), "kind": kind, "grad": grad, "avoid": avoid}


# ---------------------------------------------------------------- the op table
CASES = []


def case(op, inputs, **opts):
    CASES.append((op, inputs, opts))


# Forward-only ops (no gradient): argmax, comparisons, sign.
FORWARD_ONLY = {"argmax", "eq", "ne", "lt", "le", "gt", "ge", "sign"}

# binary arithmetic with broadcasting
for op, kb in (("add", "n"), ("sub", "n"), ("mul", "n"), ("div", "a")):
    case(op, [I([3, 5]), I([3, 5], kb)])
    case(op, [I([2, 3, 4]), I([4], kb)])                 # trailing broadcast
    case(op, [I([3, 1]), I([1, 5], kb)])                 # both sides broadcast
    case(op, [I([]), I([2, 3], kb)])                     # 0-dim operand
    case(op, [I([2, 1, 3]), I([4, 1], kb, grad=False)])  # only one side requires grad
case("add", [I([4, 3]), I([3, 1])], tr=1)            # strided first operand
case("mul", [I([5, 2]), I([2, 5])], tr=1)
case("pow", [I([3, 4], "p"), I([3, 4])])
case("pow", [I([2, 3], "p"), I([3])])
case("pow", [I([4, 1], "p"), I([1, 3], grad=False)])
case("pow", [I([5], "p", grad=False), I([5])])
case("maximum", [I([3, 4], "la"), I([3, 4], "lb")])
case("maximum", [I([2, 3, 4], "la"), I([3, 1], "lb")])
case("minimum", [I([3, 4], "la"), I([3, 4], "lb")])
case("minimum", [I([4], "lb"), I([2, 3, 4], "la")])
case("where", [I([3, 4], "c", grad=False), I([3, 4]), I([3, 4])])
case("where", [I([2, 3, 4], "c", grad=False), I([4]), I([3, 1])])
case("where", [I([3, 1], "c", grad=False), I([1, 5]), I([3, 5], grad=False)])
case("where", [I([4, 3], "c", grad=False), I([3, 4]), I([3, 4])], tr=1)

# tensor-scalar operators
case("add_scalar", [I([3, 4])], s=2.5)
case("rsub_scalar", [I([2, 3, 2])], s=-1.5)
case("mul_scalar", [I([7])], s=0.75)
case("mul_scalar", [I([2, 3])], s=-3.0)
case("div_scalar", [I([3, 4])], s=-2.5)
case("rdiv_scalar", [I([3, 4], "a")], s=1.5)

# unary
for op, kind in (("neg", "n"), ("exp", "n"), ("log", "p"), ("sqrt", "p"), ("abs", "a"),
                 ("tanh", "n"), ("sigmoid", "n"), ("relu", "a")):
    case(op, [I([3, 5], kind)])
    case(op, [I([2, 3, 4], kind)])
case("sigmoid", [I([9], "w")])
case("tanh", [I([9], "w")])
case("exp", [I([4, 3])], tr=1)
case("relu", [I([4, 3], "a")], tr=1)
case("pow_scalar", [I([3, 4])], e=2.0)
case("pow_scalar", [I([3, 4])], e=3.0)
case("pow_scalar", [I([2, 5], "a")], e=-1.0)
case("pow_scalar", [I([2, 5], "p")], e=0.5)
case("pow_scalar", [I([7], "p")], e=-1.5)
case("pow_scalar", [I([2, 3])], e=0.0)
case("clamp", [I([4, 5], avoid=(-0.5, 0.7))], lo=-0.5, hi=0.7)
case("clamp", [I([3, 4], avoid=(0.2,))], lo=0.2, hi=None)
case("clamp", [I([2, 3, 2], avoid=(-0.3,))], lo=None, hi=-0.3)

# reductions
for op in ("sum", "mean"):
    case(op, [I([3, 5])])
    case(op, [I([2, 3, 4])], dims=[1], keepdim=0)
    case(op, [I([2, 3, 4])], dims=[-1], keepdim=1)
    case(op, [I([2, 3, 4])], dims=[0, 2], keepdim=0)
    case(op, [I([2, 3, 4])], dims=[2, 0], keepdim=1)
    case(op, [I([4, 3])], dims=[0], keepdim=0, tr=1)    # over a transposed (strided) input
    case(op, [I([5, 48])], dims=[1], keepdim=0)         # longer sums
for op in ("max", "min"):
    case(op, [I([3, 5], "d")])
    case(op, [I([2, 3, 4], "d")], dims=[1], keepdim=0)
    case(op, [I([2, 3, 4], "d")], dims=[-1], keepdim=1)
    case(op, [I([2, 3, 4], "d")], dims=[0, 2], keepdim=1)
case("var", [I([3, 5])], unbiased=1)
case("var", [I([11])], unbiased=0)
case("var", [I([2, 3, 4])], dims=[1], unbiased=1, keepdim=0)
case("var", [I([2, 3, 4])], dims=[-1], unbiased=0, keepdim=1)
case("var", [I([2, 3, 4])], dims=[0, 2], unbiased=1, keepdim=1)
case("var", [I([5, 3])], dims=[0], unbiased=1, keepdim=0, tr=1)
case("max", [I([4, 3], "d")], dims=[-1], keepdim=0, tr=1)

# matrix products
case("matmul", [I([7]), I([7])])                      # dot
case("matmul", [I([5]), I([5, 3])])                   # vector @ matrix
case("matmul", [I([4, 5]), I([5])])                   # matrix @ vector
case("matmul", [I([5, 7]), I([7, 3])])                # odd sizes
case("matmul", [I([3, 6]), I([5, 6])], tb=1)          # b read transposed (strided gemm operand)
case("matmul", [I([2, 3, 4]), I([2, 4, 5])])          # batched
case("matmul", [I([2, 1, 3, 4]), I([3, 4, 2])])       # batch dims broadcast
case("matmul", [I([2, 3, 4]), I([4, 2])])             # batched @ matrix
case("matmul", [I([3]), I([2, 3, 4])])                # vector @ batched
case("matmul", [I([3, 4]), I([4, 6], grad=False)])
case("matmul", [I([5, 3]), I([5, 4])], tr=1)          # a read transposed
case("matmul", [I([6, 4]), I([2, 5, 6])], tr=1, tb=1)  # both transposed, b batched
case("matmul", [I([13, 33]), I([33, 9])])            # longer sums, GEMM edge blocks
case("mm", [I([4, 6]), I([6, 3])])
case("mm", [I([1, 5]), I([5, 1])])

# views and copies
case("reshape", [I([2, 3, 4])], shape=[4, -1])
case("reshape", [I([3, 4])], shape=[2, 6], tr=1)     # transposed input: reshape must copy
case("view", [I([2, 6])], shape=[3, 2, 2])
case("flatten", [I([2, 3, 4])], start=0, end=-1)
case("flatten", [I([2, 3, 4, 2])], start=1, end=2)
case("transpose", [I([2, 3, 4])], d0=0, d1=-1)
case("t", [I([3, 5])])
case("permute", [I([2, 3, 4])], dims=[2, 0, 1])
case("permute", [I([2, 3, 4])], dims=[-1, -3, -2])
case("narrow", [I([5, 4])], dim=0, start=1, length=3)
case("narrow", [I([2, 6])], dim=-1, start=-4, length=2)
case("slice", [I([7, 3])], dim=0, start=1, end=6, step=2)
case("slice", [I([2, 9])], dim=-1, start=None, end=-2, step=3)
case("slice", [I([3, 4])], dim=1, start=-3, end=None, step=1)
case("slice", [I([5, 3])], dim=1, start=0, end=None, step=2, tr=1)   # a slice of a strided view
case("select", [I([3, 4])], dim=0, index=1)
case("select", [I([2, 3, 4])], dim=-1, index=-1)
case("squeeze", [I([1, 3, 1, 2])])
case("squeeze", [I([3, 1, 2])], dim=-2)
case("squeeze", [I([3, 2])], dim=0)                  # size != 1: unchanged
case("unsqueeze", [I([3, 4])], dim=1)
case("unsqueeze", [I([3, 4])], dim=-1)
case("expand", [I([3, 1])], shape=[3, 4])
case("expand", [I([1, 4])], shape=[2, -1, 4])
case("expand", [I([])], shape=[2, 3])
case("contiguous", [I([3, 4])], tr=1)
case("contiguous", [I([3, 4])], tr=0)
case("clone", [I([2, 3])])
case("cat", [I([2, 3]), I([4, 3])], dim=0)
case("cat", [I([2, 3]), I([2, 1]), I([2, 2], grad=False)], dim=-1)
case("cat", [I([2, 2, 3]), I([2, 1, 3])], dim=1)
case("cat", [I([3, 2]), I([2, 3])], dim=0, tr=1)
case("stack", [I([2, 3]), I([2, 3])], dim=0)
case("stack", [I([3, 2]), I([3, 2]), I([3, 2])], dim=-1)

# on kinks, on purpose (float32 golden checks only): PyTorch's subgradients
case("relu", [I([3, 5], "i")], kink=1)
case("abs", [I([3, 5], "i")], kink=1)
case("clamp", [I([3, 5], "i")], lo=-1.0, hi=1.0, kink=1)
case("max", [I([4, 5], "i")], kink=1)                            # ties share the gradient
case("max", [I([4, 5], "i")], dims=[1], keepdim=0, kink=1)
case("min", [I([2, 3, 4], "i")], dims=[0, 2], keepdim=1, kink=1)
case("maximum", [I([3, 4], "i"), I([3, 4], "i")], kink=1)
case("minimum", [I([3, 4], "i"), I([4], "i")], kink=1)
case("pow", [I([3, 4], "z"), I([3, 4], "z")], kink=1)          # 0^b, including 0^0
case("pow_scalar", [I([3, 4], "i")], e=3.0, kink=1)

# forward only: argmax, comparisons, sign
case("argmax", [I([3, 5], grad=False)])
case("argmax", [I([3, 5], grad=False)], dim=1, keepdim=0)
case("argmax", [I([2, 3, 4], grad=False)], dim=-2, keepdim=1)
case("argmax", [I([4, 6], "i", grad=False)], dim=1, keepdim=0)   # ties: first index wins
case("argmax", [I([3, 4], "i", grad=False)], keepdim=1)
for op in ("eq", "ne", "lt", "le", "gt", "ge"):
    case(op, [I([3, 4], "i", grad=False), I([3, 4], "i", grad=False)])
    case(op, [I([2, 3, 4], "i", grad=False), I([4], "i", grad=False)])
case("sign", [I([3, 5], "i", grad=False)])
case("sign", [I([2, 4], grad=False)])
case("sign", [I([3, 4], "nan", grad=False)], tr=1)
case("argmax", [I([3, 4], "nan", grad=False)], dim=1, keepdim=0)   # NaN counts as the maximum
case("argmax", [I([11], "nan", grad=False)])
case("eq", [I([3, 4], "nan", grad=False), I([4], "nan", grad=False)])
case("ne", [I([3, 4], "nan", grad=False), I([3, 4], "nan", grad=False)])
case("lt", [I([4, 3], "i", grad=False), I([3, 1], "i", grad=False)], tr=1)


# ---------------------------------------------------------------- PyTorch reference of each op
def _dims(o):
    return o.get("dims")


def _reduce(fn_all, fn_dims):
    def f(x, o):
        if _dims(o) is None:
            return fn_all(x[0])
        return fn_dims(x[0], _dims(o), bool(o["keepdim"]))
    return f


def _slice(x, o):
    d = o["dim"] % x.dim()
    return x[(slice(None),) * d + (slice(o["start"], o["end"], o["step"]),)]


def _narrow(x, o):
    start = o["start"] % x.shape[o["dim"]] if o["start"] < 0 else o["start"]
    return x.narrow(o["dim"], start, o["length"])


def _scalar(o):
    return torch.tensor(o["s"], dtype=torch.float32)


def _argmax(x, o):
    if "dim" not in o:
        r = x.argmax()
        return r.reshape([1] * x.dim()) if o.get("keepdim") else r
    return x.argmax(dim=o["dim"], keepdim=bool(o["keepdim"]))


TORCH = {
    "add": lambda x, o: torch.add(x[0], x[1]),
    "sub": lambda x, o: torch.sub(x[0], x[1]),
    "mul": lambda x, o: torch.mul(x[0], x[1]),
    "div": lambda x, o: torch.div(x[0], x[1]),
    "pow": lambda x, o: torch.pow(x[0], x[1]),
    "maximum": lambda x, o: torch.maximum(x[0], x[1]),
    "minimum": lambda x, o: torch.minimum(x[0], x[1]),
    "where": lambda x, o: torch.where(x[0] != 0, x[1], x[2]),
    # a 0-dim tensor operand, which is what ink's scalar operators build
    "add_scalar": lambda x, o: torch.add(x[0], _scalar(o)),
    "rsub_scalar": lambda x, o: torch.sub(_scalar(o), x[0]),
    "mul_scalar": lambda x, o: torch.mul(x[0], _scalar(o)),
    "div_scalar": lambda x, o: torch.div(x[0], _scalar(o)),
    "rdiv_scalar": lambda x, o: torch.div(_scalar(o), x[0]),
    "neg": lambda x, o: torch.neg(x[0]),
    "exp": lambda x, o: torch.exp(x[0]),
    "log": lambda x, o: torch.log(x[0]),
    "sqrt": lambda x, o: torch.sqrt(x[0]),
    "abs": lambda x, o: torch.abs(x[0]),
    "tanh": lambda x, o: torch.tanh(x[0]),
    "sigmoid": lambda x, o: torch.sigmoid(x[0]),
    "relu": lambda x, o: torch.relu(x[0]),
    "pow_scalar": lambda x, o: torch.pow(x[0], o["e"]),
    "clamp": lambda x, o: torch.clamp(x[0], min=o["lo"], max=o["hi"]),
    "sum": _reduce(torch.sum, lambda t, d, k: t.sum(dim=d, keepdim=k)),
    "mean": _reduce(torch.mean, lambda t, d, k: t.mean(dim=d, keepdim=k)),
    "max": _reduce(torch.max, lambda t, d, k: torch.amax(t, dim=d, keepdim=k)),
    "min": _reduce(torch.min, lambda t, d, k: torch.amin(t, dim=d, keepdim=k)),
    "var": lambda x, o: (torch.var(x[0], unbiased=bool(o["unbiased"])) if _dims(o) is None else
                         torch.var(x[0], dim=_dims(o), unbiased=bool(o["unbiased"]), keepdim=bool(o["keepdim"]))),
    "matmul": lambda x, o: torch.matmul(x[0], x[1].transpose(-1, -2) if o.get("tb") else x[1]),
    "mm": lambda x, o: torch.mm(x[0], x[1]),
    "reshape": lambda x, o: x[0].reshape(o["shape"]),
    "view": lambda x, o: x[0].view(o["shape"]),
    "flatten": lambda x, o: x[0].flatten(o["start"], o["end"]),
    "transpose": lambda x, o: x[0].transpose(o["d0"], o["d1"]),
    "t": lambda x, o: x[0].t(),
    "permute": lambda x, o: x[0].permute(o["dims"]),
    "narrow": lambda x, o: _narrow(x[0], o),
    "slice": lambda x, o: _slice(x[0], o),
    "select": lambda x, o: x[0].select(o["dim"], o["index"]),
    "squeeze": lambda x, o: x[0].squeeze() if "dim" not in o else x[0].squeeze(o["dim"]),
    "unsqueeze": lambda x, o: x[0].unsqueeze(o["dim"]),
    "expand": lambda x, o: x[0].expand(o["shape"]),
    "contiguous": lambda x, o: x[0].contiguous(),
    "clone": lambda x, o: x[0].clone(),
    "cat": lambda x, o: torch.cat(x, o["dim"]),
    "stack": lambda x, o: torch.stack(x, o["dim"]),
    "argmax": lambda x, o: _argmax(x[0], o),
    "eq": lambda x, o: torch.eq(x[0], x[1]).float(),
    "ne": lambda x, o: torch.ne(x[0], x[1]).float(),
    "lt": lambda x, o: torch.lt(x[0], x[1]).float(),
    "le": lambda x, o: torch.le(x[0], x[1]).float(),
    "gt": lambda x, o: torch.gt(x[0], x[1]).float(),
    "ge": lambda x, o: torch.ge(x[0], x[1]).float(),
    "sign": lambda x, o: torch.sign(x[0]),
}


# ---------------------------------------------------------------- writing
def fmt_shape(shape):
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


def fmt_tensor(t):
    t = t.detach().contiguous()
    if t.dtype == torch.int64:
        vals = " ".join(str(int(v)) for v in t.reshape(-1).tolist())
    else:
        vals = " ".join("%.9g" % v for v in t.float().reshape(-1).tolist())
    return fmt_shape(t.shape) + (" " + vals if vals else "")


def fmt_opt(v):
    if v is None:
        return "none"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(str(int(d)) for d in v) + "]"
    if isinstance(v, float):
        return "%.9g" % v
    return str(int(v))


def main():
    lines = [
        "# ink op golden values: PyTorch float32 forward outputs and input gradients.",
        "# Made by tests/golden/make_golden.py (seed %d) with torch %s; do not edit by hand."
        % (SEED, torch.__version__),
        "# Read by tests/test_ops.cpp; the format is described at the top of the script.",
    ]
    counts = {}
    for op, inputs, opts in CASES:
        assert op in TORCH, op
        k = counts.get(op, 0)
        counts[op] = k + 1
        xs = []
        for spec in inputs:
            x = draw(spec["kind"], spec["shape"], spec["avoid"])
            if spec["grad"] and op not in FORWARD_ONLY:
                x.requires_grad_(True)
            xs.append(x)
        args = [xs[0].transpose(0, 1)] + xs[1:] if opts.get("tr") else xs
        out = TORCH[op](args, opts)
        head = "case %s.%d op=%s" % (op, k, op)
        for key, v in opts.items():
            head += " %s=%s" % (key, fmt_opt(v))
        lines.append(head)
        for spec, x in zip(inputs, xs):
            lines.append("in %d %s" % (int(x.requires_grad), fmt_tensor(x)))
        if op not in FORWARD_ONLY:
            assert out.dtype == torch.float32 and out.requires_grad, op
            gout = torch.randn(out.shape, generator=gen)
            grads = torch.autograd.grad([out], [x for x in xs if x.requires_grad], [gout])
            lines.append("gout " + fmt_tensor(gout))
            lines.append("out " + fmt_tensor(out))
            it = iter(grads)
            for i, x in enumerate(xs):
                if x.requires_grad:
                    lines.append("gin %d %s" % (i, fmt_tensor(next(it))))
        else:
            lines.append("out " + fmt_tensor(out))
        lines.append("end")
    missing = set(TORCH) - set(counts)
    assert not missing, "ops without a case: %s" % sorted(missing)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d cases, %d ops, %d bytes" % (OUT, len(CASES), len(counts), os.path.getsize(OUT)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
