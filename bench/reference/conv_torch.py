#!/usr/bin/python3
"""PyTorch side of bench/run_conv.sh: PyTorch's CPU convolution, as a user calls it, on the shapes
of bench/bench_conv.cpp (issue 3), forward, backward-data and backward-weights, fp32, NCHW, no
bias. Run it with Debian's /usr/bin/python3 (python3-torch 1.13).

  /usr/bin/python3 bench/reference/conv_torch.py --threads 1                   # every shape
  /usr/bin/python3 bench/reference/conv_torch.py --threads 2 --shapes a,G2 --dirs fwd

What each call is (the semantics of bench_conv.cpp's ink side):
  fwd          F.conv2d(x, w, None, stride, padding) (F.conv_transpose2d for G1, G2) under
               torch.no_grad(), then .contiguous() (a no-op: PyTorch returns NCHW memory).
  bwd_data     the graph out = conv(x, w) is built once with only x requiring grad; each call
               is torch.autograd.grad(out, x, g, retain_graph=True), the backward pass alone.
  bwd_weights  the same with only w requiring grad.

Threads: --threads N sets torch.set_num_threads(N), and before torch is imported the script
re-executes itself with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS = N (PyTorch's
own setting does not reach OpenBLAS's thread pool: a "1-thread" run would otherwise use 2, see
../shared/PEERS.md), GLIBC_TUNABLES set for a warm heap (mmap_max=0, no trimming: PyTorch frees
its large buffers and would otherwise page-fault them back on every call), OPENBLAS_L2_SIZE
removed and OPENBLAS_CORETYPE set by --openblas-core. OpenBLAS matters where PyTorch does not
use oneDNN (transposed convolutions, 1x1 with a small batch at one thread): those run im2col /
col2im + OpenBLAS GEMM. Debian's OpenBLAS 0.3.21 does not recognise every CPU: on an unknown
Intel model (e.g. family 6 model 207 in a VM) it falls back to its SSE3 "Prescott" kernels, at
a fraction of the machine's speed. The default, --openblas-core auto, names the fastest kernel
the CPU's flags allow (SkylakeX with AVX-512, Haswell with AVX2 + FMA), so the peer gets the
BLAS it would get on a CPU OpenBLAS knows; --openblas-core detect leaves OpenBLAS to detect it.
The environment of the caller is otherwise kept (run_conv.sh sets OMP_PROC_BIND=true, as for ink).

Timing: WARMUP untimed calls (default 3), then a fixed number of calls, each timed on its own:
about 4e10 FLOP as bench_conv (clamped to 7..300 calls), raised so that the timed calls last at
least --min-time seconds (default 0.3) at the warm-up speed. Reported: the median per call.

FLOP per call, every direction, as bench_conv: 2*N*Cout*OH*OW*Cin*k*k of the convolution; for a
transposed convolution, of the convolution it is the adjoint of (2*N*Cin*H*W*Cout*k*k with H, W
its input size).

Output: TSV on stdout, one line per (shape, direction), after '#' comment lines (versions,
backend, threads as PyTorch and OpenBLAS see them):
  shape  dir  threads  median_ms  gflops  calls  cpu_per_wall  impl
cpu_per_wall is the process's CPU time over wall time during the timed calls (about the number
of busy threads; spinning OpenMP workers count as busy). impl: what ran, from one extra call
of the same direction: the oneDNN convolution implementations it executed (oneDNN's verbose
log, e.g. onednn:jit:avx512_core), else the ATen op the shape's forward runs (autograd
profiler; _slow_conv2d_forward: im2col + BLAS, slow_conv_transpose2d: col2im + BLAS), which is
also the backend of its backward passes (convolution_backward picks it by the same rule).
"""
import argparse
import os
import sys

WARM_HEAP = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"
CHILD = "INK_CONV_TORCH_CONFIGURED"

# Issue 3's shapes, (N, Cin, H, W -> Cout, k, stride, pad), as in bench_conv.cpp's main();
# transposed: x [N, Cin, H, W] -> [N, Cout, OH, OW], weight [Cin, Cout, k, k].
SHAPES = {
    "a": (False, 64, 1, 28, 28, 32, 3, 1, 1),
    "b": (False, 64, 32, 14, 14, 64, 3, 1, 1),
    "c": (False, 1, 64, 224, 224, 64, 3, 1, 1),
    "d": (False, 1, 128, 112, 112, 128, 3, 1, 1),
    "e": (False, 1, 256, 56, 56, 256, 3, 1, 1),
    "f": (False, 1, 512, 28, 28, 512, 3, 1, 1),
    "g": (False, 8, 64, 56, 56, 64, 1, 1, 0),
    "h": (False, 64, 64, 14, 14, 128, 4, 2, 1),
    "i": (False, 1, 3, 256, 256, 32, 9, 1, 4),
    "G1": (True, 64, 128, 7, 7, 64, 4, 2, 1),
    "G2": (True, 64, 64, 14, 14, 1, 4, 2, 1),
}
DIRS = ["fwd", "bwd_data", "bwd_weights"]


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated, default all: " + ",".join(SHAPES))
    ap.add_argument("--dirs", default=",".join(DIRS), help="comma-separated, default " + ",".join(DIRS))
    ap.add_argument("--warmup", type=int, default=3, help="untimed calls before timing (default 3)")
    ap.add_argument("--min-time", type=float, default=0.3, help="least seconds of timed calls (default 0.3)")
    ap.add_argument("--flop", type=float, default=4e10, help="FLOP of timed calls, as bench_conv (default 4e10)")
    ap.add_argument("--no-impl", action="store_true", help="skip the extra calls that name the implementation")
    ap.add_argument("--openblas-core", default="auto",
                    help="OPENBLAS_CORETYPE: auto (default: from the CPU flags), detect (OpenBLAS's own), or a name")
    a = ap.parse_args()
    for s in a.shapes.split(","):
        if s not in SHAPES:
            ap.error(f"unknown shape {s!r}; known: {', '.join(SHAPES)}")
    for d in a.dirs.split(","):
        if d not in DIRS:
            ap.error(f"unknown direction {d!r}; known: {', '.join(DIRS)}")
    if a.threads < 1:
        ap.error("--threads must be at least 1")
    return a


def openblas_core(choice):
    """The OPENBLAS_CORETYPE for --openblas-core, None to leave OpenBLAS to detect the CPU."""
    if choice == "detect":
        return None
    if choice != "auto":
        return choice
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return None
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"} <= set(flags):
        return "SkylakeX"
    if {"avx2", "fma"} <= set(flags):
        return "Haswell"
    return None


def reexec_configured(threads, core):
    """Thread counts and the heap must be set before torch (and OpenBLAS, libgomp, glibc's
    malloc) start: re-execute this script once with them in the environment."""
    if os.environ.get(CHILD) == str(threads):
        return
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = str(threads)
    env["GLIBC_TUNABLES"] = WARM_HEAP
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    if core:
        env["OPENBLAS_CORETYPE"] = core
    env[CHILD] = str(threads)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)


def openblas_lib():
    """The OpenBLAS library the process has loaded (PyTorch's BLAS here), or None."""
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "openblas" in line.split()[-1]}
    except OSError:
        return None
    for lib in sorted(libs):
        try:
            dll = ctypes.CDLL(lib)
            dll.openblas_get_num_threads, dll.openblas_set_num_threads  # noqa: B018 (both exist)
        except (OSError, AttributeError):
            continue
        dll.openblas_get_corename.restype = ctypes.c_char_p
        return dll
    return None


def openblas_set_threads(blas, threads, cpus):
    """With OMP_PROC_BIND=true, libgomp binds the main thread to one CPU when torch loads it,
    before OpenBLAS starts; OpenBLAS then counts the CPUs it may use, finds 1 and keeps 1
    thread whatever OPENBLAS_NUM_THREADS says. Raise it to `threads`, with the main thread
    briefly allowed every CPU of `cpus` (the process's CPUs before torch was imported) so that
    OpenBLAS's new worker threads, which inherit the creating thread's CPUs, are not stuck on
    the main thread's one."""
    if blas is None or blas.openblas_get_num_threads() == threads:
        return
    bound = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        blas.openblas_set_num_threads(threads)
    finally:
        os.sched_setaffinity(0, bound)


def openblas_info(blas):
    if blas is None:
        return "not loaded"
    return (f"{blas.openblas_get_num_threads()} thread(s), kernel {blas.openblas_get_corename().decode()} "
            f"(OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')})")


def thread_cpus():
    """The CPUs each thread of the process may run on, e.g. "0|1|0-1" (main thread first)."""
    out = []
    for t in sorted(os.listdir("/proc/self/task"), key=int):
        try:
            with open(f"/proc/self/task/{t}/status") as f:
                out += [line.split()[1] for line in f if line.startswith("Cpus_allowed_list")]
        except OSError:
            pass
    return "|".join(out)


def capability(torch):
    """ATen's vector ISA (its own kernels; oneDNN dispatches on its own)."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage" in line:
            return line.split(":", 1)[1].strip()
    return "?"


def flop(shape):
    t, n, cin, h, w, cout, k, s, p = shape
    if t:  # the convolution it is the adjoint of: [N, Cout, OH, OW] -> [N, Cin, H, W]
        return 2.0 * n * cin * h * w * cout * k * k
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return 2.0 * n * cout * oh * ow * cin * k * k


def make_call(torch, shape, d):
    """A no-argument function doing one call of direction d on the shape, as bench_conv's ink."""
    import torch.nn.functional as F

    t, n, cin, h, w, cout, k, s, p = shape
    gen = torch.Generator().manual_seed(42)
    rand = lambda *size: torch.rand(*size, generator=gen) * 2 - 1  # uniform(-1, 1), as bench_conv
    x = rand(n, cin, h, w)
    if t:
        wt = rand(cin, cout, k, k)
        conv = lambda x_, w_: F.conv_transpose2d(x_, w_, None, stride=s, padding=p)
    else:
        wt = rand(cout, cin, k, k)
        conv = lambda x_, w_: F.conv2d(x_, w_, None, stride=s, padding=p)
    if d == "fwd":

        def call():
            with torch.no_grad():
                return conv(x, wt).contiguous()

        return call
    x2, w2 = x.clone(), wt.clone()
    wrt = x2 if d == "bwd_data" else w2
    wrt.requires_grad_(True)
    out = conv(x2, w2)
    g = rand(*out.shape)
    return lambda: torch.autograd.grad(out, wrt, g, retain_graph=True)[0]


def aten_ops(torch, shape):
    """The ATen convolution ops one forward call of the shape runs (autograd profiler), without
    the dispatch layers every call goes through."""
    from torch.autograd import profiler

    call = make_call(torch, shape, "fwd")
    with profiler.profile() as prof:
        call()
    ops = []
    for e in prof.function_events:
        name = e.name.removeprefix("aten::")
        if "conv" in name and name not in ops and name not in (
                "conv2d", "conv_transpose2d", "convolution", "_convolution"):
            ops.append(name)
    return "+".join(ops) or "-"


def onednn_impls(torch, call):
    """The oneDNN convolution / deconvolution implementations one call executes, from oneDNN's
    verbose log (written to file descriptor 1, caught in a temporary file)."""
    import tempfile

    with tempfile.TemporaryFile(mode="w+") as log:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(log.fileno(), 1)
        try:
            with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
                call()
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        log.seek(0)
        impls = []
        for line in log:
            f = line.split(",")
            if len(f) > 4 and f[1] == "exec" and "convolution" in f[3] and f[4] not in impls:
                impls.append(f[4])
    return "+".join("onednn:" + i for i in impls)


def main():
    a = parse()
    reexec_configured(a.threads, openblas_core(a.openblas_core))
    import time

    cpus = os.sched_getaffinity(0)
    import torch

    torch.set_num_threads(a.threads)
    blas = openblas_lib()
    openblas_set_threads(blas, a.threads, cpus)
    torch.ones(64, 64) @ torch.ones(64, 64)  # OpenMP's and OpenBLAS's threads started
    with torch.no_grad():
        torch.nn.functional.conv2d(torch.ones(2, 16, 32, 32), torch.ones(16, 16, 3, 3), padding=1)
    print(f"# PyTorch {torch.__version__}; mkldnn (oneDNN) available: {torch.backends.mkldnn.is_available()}, "
          f"enabled: {torch.backends.mkldnn.enabled}; ATen CPU capability: {capability(torch)}")
    print(f"# threads: torch.get_num_threads()={torch.get_num_threads()}, OpenBLAS {openblas_info(blas)}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, OMP_PROC_BIND={os.environ.get('OMP_PROC_BIND', '-')}, "
          f"threads' CPUs {thread_cpus()}, GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES')}")
    if torch.get_num_threads() != a.threads:
        sys.exit(f"conv_torch.py: asked for {a.threads} threads, PyTorch has {torch.get_num_threads()}")
    if blas is not None and blas.openblas_get_num_threads() != a.threads:
        sys.exit(f"conv_torch.py: asked for {a.threads} threads, OpenBLAS has {blas.openblas_get_num_threads()}")
    print("# shape\tdir\tthreads\tmedian_ms\tgflops\tcalls\tcpu_per_wall\timpl", flush=True)
    for name in a.shapes.split(","):
        shape = SHAPES[name]
        fl = flop(shape)
        fwd_ops = "-" if a.no_impl else aten_ops(torch, shape)
        for d in a.dirs.split(","):
            call = make_call(torch, shape, d)
            t0 = time.perf_counter()
            for _ in range(a.warmup):
                call()
            per_call = (time.perf_counter() - t0) / max(a.warmup, 1)
            calls = min(max(int(a.flop / fl), 7), 300)
            calls = max(calls, int(a.min_time / max(per_call, 1e-9)) + 1)
            times = []
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(calls):
                t0 = time.perf_counter()
                call()
                times.append(time.perf_counter() - t0)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            times.sort()
            impl = "-" if a.no_impl else (onednn_impls(torch, call) or fwd_ops)
            m = times[calls // 2] if calls % 2 else 0.5 * (times[calls // 2 - 1] + times[calls // 2])
            print(f"{name}\t{d}\t{a.threads}\t{m * 1e3:.4f}\t{fl / m / 1e9:.2f}\t{calls}\t{cpu / wall:.2f}\t{impl}",
                  flush=True)
            del call


if __name__ == "__main__":
    main()
