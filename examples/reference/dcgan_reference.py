#!/usr/bin/python3
"""The PyTorch reference for examples/train_dcgan (plain DCGAN, not --wgan-gp): the 28x28
models::DcganGenerator / DcganDiscriminator of include/ink/models/dcgan.hpp (the layer-for-layer
copies in bench/reference/train_step_torch.py, imported from there), trained as train_dcgan.cpp
trains them: training images scaled to [-1, 1], shuffled every epoch, batch 64 with the last
partial batch dropped, Adam lr 2e-4 betas (0.5, 0.999) for both networks, per step first
D on BCE-with-logits(D(real), 1) + BCE-with-logits(D(G(z).detach()), 0), then G on
BCE-with-logits(D(G(z)), 1) with the same fake batch.

Before training (epoch 0, the untrained generator) and after every epoch it writes, with the
generator in eval mode, --samples images from fixed noise (seeded by --sample-seed) as a float32
IDX file (type 0x0D, dims [N, 1, 28, 28], values in [-1, 1]) that examples/score_samples reads,
plus an 8x8 sample grid PNG when PIL is installed.

  /usr/bin/python3 examples/reference/dcgan_reference.py --epochs 10 --threads 1 --out out/dcgan_torch
  build/release/examples/score_samples out/dcgan_torch/samples_epoch_*.idx
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "reference"))
from train_step_torch import DcganDiscriminator, DcganGenerator  # noqa: E402

# models::DcganGenerator / DcganDiscriminator's parameter counts for the default 28x28 config
# (latent 100, width 64): ConvT 100*128*49 + BN 2*128 + ConvT 128*64*16 + BN 2*64 + ConvT 64*16,
# and Conv 16*64 + Conv 64*128*16 + BN 2*128 + Conv 128*49. build/release/examples/score_samples
# --untrained-ink prints ink's counts.
INK_GENERATOR_PARAMS = 759680
INK_DISCRIMINATOR_PARAMS = 138624


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def write_idx_f32(path, array):
    """Big-endian IDX with type code 0x0D (float32), written to a temporary name then renamed."""
    array = np.ascontiguousarray(array, dtype=">f4")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(bytes([0, 0, 0x0D, array.ndim]))
        f.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        f.write(array.tobytes())
    os.replace(tmp, path)


def write_grid(path, images, nrow=8, pad=2):
    """images [N,1,28,28] in [-1,1] -> a grid PNG with white padding (like ink's make_grid)."""
    try:
        from PIL import Image
    except ImportError:
        return False
    x = ((images[:, 0] + 1) * 0.5).clamp(0, 1).numpy()
    n, h, w = x.shape
    rows = (n + nrow - 1) // nrow
    grid = np.ones((rows * (h + pad) + pad, nrow * (w + pad) + pad), dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, nrow)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = x[i]
    Image.fromarray((grid * 255 + 0.5).astype(np.uint8), mode="L").save(path)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--latent", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1, help="torch.manual_seed: weights, shuffling, training noise")
    ap.add_argument("--sample-seed", type=int, default=108, help="seed of the fixed noise of the written samples")
    ap.add_argument("--samples", type=int, default=10000, help="images written per epoch")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default="out/dcgan_torch")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)

    train = torch.tensor(read_idx(f"{a.data}/train-images-idx3-ubyte.gz"), dtype=torch.float32)
    train = (train / 255 * 2 - 1).unsqueeze(1)  # [-1, 1], as the generator's tanh
    g = DcganGenerator(latent=a.latent)
    d = DcganDiscriminator()
    pg, pd = sum(p.numel() for p in g.parameters()), sum(p.numel() for p in d.parameters())
    print(f"generator {pg} parameters, discriminator {pd}", flush=True)
    if a.latent == 100 and (pg, pd) != (INK_GENERATOR_PARAMS, INK_DISCRIMINATOR_PARAMS):
        sys.exit(f"parameter counts differ from ink's ({INK_GENERATOR_PARAMS}, {INK_DISCRIMINATOR_PARAMS})")
    opt_g = torch.optim.Adam(g.parameters(), lr=a.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=a.lr, betas=(0.5, 0.999))
    fixed_noise = torch.randn(a.samples, a.latent, generator=torch.Generator().manual_seed(a.sample_seed))

    def write_samples(epoch):
        g.eval()
        with torch.no_grad():
            x = torch.cat([g(fixed_noise[i:i + 500]) for i in range(0, a.samples, 500)])
        path = os.path.join(a.out, f"samples_epoch_{epoch:02d}.idx")
        write_idx_f32(path, x.numpy())
        png = os.path.join(a.out, f"samples_epoch_{epoch:02d}.png")
        wrote_png = write_grid(png, x[:64])
        g.train()
        return path + (", " + png if wrote_png else "")

    print(f"epoch 0 (untrained): wrote {write_samples(0)}", flush=True)
    n = train.shape[0]
    ones, zeros = torch.ones(a.batch_size), torch.zeros(a.batch_size)
    start = time.time()
    for epoch in range(1, a.epochs + 1):
        g.train()
        d.train()
        order = torch.randperm(n)
        d_sum = g_sum = 0.0
        steps = n // a.batch_size  # drop_last
        for s in range(steps):
            real = train[order[s * a.batch_size:(s + 1) * a.batch_size]]
            fake = g(torch.randn(a.batch_size, a.latent))
            opt_d.zero_grad(set_to_none=True)
            loss_d = (F.binary_cross_entropy_with_logits(d(real), ones) +
                      F.binary_cross_entropy_with_logits(d(fake.detach()), zeros))
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad(set_to_none=True)
            loss_g = F.binary_cross_entropy_with_logits(d(fake), ones)
            loss_g.backward()
            opt_g.step()
            d_sum += loss_d.item()
            g_sum += loss_g.item()
        wrote = write_samples(epoch)
        print(f"epoch {epoch}/{a.epochs}: D loss {d_sum / steps:.4f}, G loss {g_sum / steps:.4f}; wrote {wrote} "
              f"({time.time() - start:.0f} s so far)", flush=True)


if __name__ == "__main__":
    main()
