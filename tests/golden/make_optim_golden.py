#!/usr/bin/python3
"""Makes optim_golden.txt: 10 steps of each torch.optim optimiser (and LR schedule) on a fixed
quadratic-plus-quartic loss, so that ink's optimisers can be checked step for step.
Run with Debian's python3-torch: /usr/bin/python3 tests/golden/make_optim_golden.py

Loss of a parameter vector p (float64): sum(a * p^2) + sum(b * p) + 0.1 * sum(p^4), with a, b
and the starting p written to the file; ink recomputes the same loss with its own autograd.
Each case line: name, then the options, then 10 lines of p after each step.
"""
import pathlib
import torch

torch.manual_seed(0)
n = 7
a = torch.rand(n, dtype=torch.float64) + 0.5
b = torch.randn(n, dtype=torch.float64)
p0 = torch.randn(n, dtype=torch.float64)


def loss(p):
    return (a * p * p).sum() + (b * p).sum() + 0.1 * (p ** 4).sum()


CASES = [
    ("sgd", "lr=0.05", lambda p: torch.optim.SGD([p], lr=0.05), None),
    ("sgd_momentum_wd", "lr=0.05 momentum=0.9 dampening=0.1 weight_decay=0.01",
     lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01), None),
    ("sgd_nesterov", "lr=0.05 momentum=0.8 nesterov=1",
     lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8, nesterov=True), None),
    ("adam", "lr=0.1 beta1=0.9 beta2=0.999 eps=1e-8 weight_decay=0.05",
     lambda p: torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05), None),
    ("adamw", "lr=0.1 beta1=0.8 beta2=0.99 eps=1e-6 weight_decay=0.1",
     lambda p: torch.optim.AdamW([p], lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), None),
    ("rmsprop", "lr=0.01 alpha=0.9 eps=1e-8 weight_decay=0 momentum=0 centered=0",
     lambda p: torch.optim.RMSprop([p], lr=0.01, alpha=0.9, eps=1e-8), None),
    ("rmsprop_centered_momentum", "lr=0.01 alpha=0.95 eps=1e-6 weight_decay=0.02 momentum=0.5 centered=1",
     lambda p: torch.optim.RMSprop([p], lr=0.01, alpha=0.95, eps=1e-6, weight_decay=0.02, momentum=0.5, centered=True), None),
    ("sgd_steplr", "lr=0.1 step_size=3 gamma=0.5",
     lambda p: torch.optim.SGD([p], lr=0.1), lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    ("sgd_cosine", "lr=0.1 t_max=10 eta_min=0.01",
     lambda p: torch.optim.SGD([p], lr=0.1), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    ("sgd_exponential", "lr=0.1 gamma=0.8",
     lambda p: torch.optim.SGD([p], lr=0.1), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)),
]


def fmt(t):
    return " ".join("%.17g" % v for v in t.tolist())


out = [f"# made by tests/golden/make_optim_golden.py with torch {torch.__version__}",
       f"a {fmt(a)}", f"b {fmt(b)}", f"p0 {fmt(p0)}"]
for name, options, make, schedule in CASES:
    p = p0.clone().requires_grad_(True)
    opt = make(p)
    sched = schedule(opt) if schedule else None
    out.append(f"case {name} {options}")
    for _ in range(10):
        opt.zero_grad()
        loss(p).backward()
        opt.step()
        if sched:  # one schedule step per optimiser step: each "epoch" here is one step
            sched.step()
        out.append(f"p {fmt(p.detach())}")
pathlib.Path(__file__).with_name("optim_golden.txt").write_text("\n".join(out) + "\n")
