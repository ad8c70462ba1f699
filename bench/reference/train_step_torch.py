#!/usr/bin/python3
"""PyTorch side of bench/run_train_step.sh: the training steps of bench/bench_train_step.cpp with
the same models, losses, optimisers and batch (64, fp32, random Fashion-MNIST-shaped data).

  /usr/bin/python3 bench/reference/train_step_torch.py --threads 1 [--steps 20 --warmup 3]
  /usr/bin/python3 bench/reference/train_step_torch.py --params
  /usr/bin/python3 bench/reference/train_step_torch.py --model vae --rss-steps 20

Timing mode prints one line per model, "train_step <model> <threads> <ms per step>": the mean
wall time of --steps steps after --warmup untimed ones, as Google Benchmark reports ink's.
The classifier and the DCGAN are written here to match include/ink/models/classifier.hpp and
dcgan.hpp layer for layer; the VAE is examples/reference/vae_reference.py's.

Gradients are reset with zero_grad(set_to_none=True), which is what ink's zero_grad does
(it drops the gradient) and PyTorch 2's default.
"""
import argparse
import os
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "reference"))
from vae_reference import ConvVae, negative_elbo  # noqa: E402

BATCH = 64


class Classifier(nn.Module):
    """models::Classifier's default config: two blocks of two bias-free 3x3 conv-BN-ReLU layers
    (32 then 64 channels), each block ending in a 2x2 max-pool; then dropout 0.3, Linear to 256,
    BatchNorm1d, ReLU; then dropout 0.3, Linear to 10."""

    def __init__(self, in_channels=1, image_size=28, width=32, hidden=256, classes=10, dropout=0.3):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        w = width
        self.features = nn.Sequential(*block(in_channels, w), *block(w, w), nn.MaxPool2d(2),
                                      *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2))
        flat = 2 * w * (image_size // 4) ** 2
        self.embedding = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(flat, hidden),
                                       nn.BatchNorm1d(hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, classes))

    def forward(self, x):
        return self.head(self.embedding(self.features(x)))


def dcgan_init(m):
    """ink's detail::dcgan_init: biases 0, batch-norm scales N(1, 0.02), conv weights N(0, 0.02)."""
    for name, p in m.named_parameters():
        if name.endswith("bias"):
            nn.init.zeros_(p)
        elif p.dim() == 1:
            nn.init.normal_(p, 1.0, 0.02)
        else:
            nn.init.normal_(p, 0.0, 0.02)


class DcganGenerator(nn.Module):
    """models::DcganGenerator, 28x28: z [N, 100] -> 1 -> 7 -> 14 -> 28, bias-free transposed
    convolutions, BN + ReLU after the first two, tanh at the end."""

    def __init__(self, latent=100, channels=1, width=64):
        super().__init__()
        w = width
        self.latent = latent
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent, 2 * w, 7, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
            nn.ConvTranspose2d(w, channels, 4, 2, 1, bias=False), nn.Tanh())
        dcgan_init(self)

    def forward(self, z):
        return self.net(z.reshape(z.shape[0], self.latent, 1, 1))


class DcganDiscriminator(nn.Module):
    """models::DcganDiscriminator, 28x28 with batch norm: 28 -> 14 -> 7 -> 1, bias-free
    convolutions, LeakyReLU(0.2), BN on the second; one logit per image, [N]."""

    def __init__(self, channels=1, width=64):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 1, 7, bias=False))
        dcgan_init(self)

    def forward(self, x):
        return self.net(x).reshape(-1)


class ClassifierStep:
    def __init__(self):
        self.net = Classifier()
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.x = torch.rand(BATCH, 1, 28, 28)
        self.y = torch.randint(0, 10, (BATCH,), dtype=torch.int64)

    def params(self):
        return sum(p.numel() for p in self.net.parameters())

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.net(self.x), self.y)
        loss.backward()
        self.opt.step()


class DcganStep:
    """examples/train_dcgan.cpp's DCGAN step: D on real and detached fake, then G through D."""

    def __init__(self):
        self.g = DcganGenerator()
        self.d = DcganDiscriminator()
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.real = torch.rand(BATCH, 1, 28, 28) * 2 - 1
        self.ones = torch.ones(BATCH)
        self.zeros = torch.zeros(BATCH)

    def params(self):
        return sum(p.numel() for p in self.g.parameters()) + sum(p.numel() for p in self.d.parameters())

    def step(self):
        fake = self.g(torch.randn(BATCH, self.g.latent))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d = (F.binary_cross_entropy_with_logits(self.d(self.real), self.ones) +
                  F.binary_cross_entropy_with_logits(self.d(fake.detach()), self.zeros))
        loss_d.backward()
        self.opt_d.step()
        self.opt_g.zero_grad(set_to_none=True)
        loss_g = F.binary_cross_entropy_with_logits(self.d(fake), self.ones)
        loss_g.backward()
        self.opt_g.step()


class VaeStep:
    def __init__(self):
        self.vae = ConvVae()
        self.opt = torch.optim.Adam(self.vae.parameters(), lr=1e-3)
        self.x = torch.rand(BATCH, 1, 28, 28)

    def params(self):
        return sum(p.numel() for p in self.vae.parameters())

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = negative_elbo(*self.vae(self.x), self.x)
        loss.backward()
        self.opt.step()


MODELS = {"classifier": ClassifierStep, "dcgan": DcganStep, "vae": VaeStep}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's)")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per model")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps before the timed ones")
    ap.add_argument("--model", choices=sorted(MODELS), help="only this model (needed by --rss-steps)")
    ap.add_argument("--params", action="store_true", help="print '<model> <parameter count>' and exit")
    ap.add_argument("--rss-steps", type=int, default=0, help="run this many steps of --model and exit")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    if a.params:
        for name, cls in MODELS.items():
            print(name, cls().params())
        return
    if a.rss_steps > 0:
        if not a.model:
            ap.error("--rss-steps needs --model")
        m = MODELS[a.model]()
        for _ in range(a.rss_steps):
            m.step()
        return
    for name, cls in MODELS.items():
        if a.model and name != a.model:
            continue
        m = cls()
        for _ in range(a.warmup):
            m.step()
        start = time.perf_counter()
        for _ in range(a.steps):
            m.step()
        ms = (time.perf_counter() - start) * 1e3 / a.steps
        print(f"train_step {name} {torch.get_num_threads()} {ms:.3f}", flush=True)


if __name__ == "__main__":
    main()
