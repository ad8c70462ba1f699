#!/usr/bin/python3
"""The PyTorch reference for examples/train_vae: the same architecture as ink's
models::ConvVae, the same loss (Bernoulli negative ELBO in nats per image: BCE-with-logits summed
over pixels plus the Gaussian KL, averaged over the batch), optimiser, batch size and epochs,
on the same Fashion-MNIST files. Prints the test negative ELBO after every epoch.

  /usr/bin/python3 examples/reference/vae_reference.py [--epochs 10] [--threads 2]
"""
import argparse
import gzip
import struct
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


class ConvVae(nn.Module):
    def __init__(self, latent=20, width=32, hidden=256):
        super().__init__()
        flat = 2 * width * 7 * 7
        self.width = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.ReLU(), nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU())
        self.to_mu = nn.Linear(hidden, latent)
        self.to_logvar = nn.Linear(hidden, latent)
        self.decoder_input = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, flat), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(width, 1, 4, 2, 1))

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.to_mu(h), self.to_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = self.decoder(self.decoder_input(z).view(-1, 2 * self.width, 7, 7))
        return logits, mu, logvar


def negative_elbo(logits, mu, logvar, x):
    n = x.shape[0]
    recon = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = (-0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(1)).mean()
    return recon + kl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train = torch.tensor(read_idx(f"{a.data}/train-images-idx3-ubyte.gz"), dtype=torch.float32).div(255).unsqueeze(1)
    test = torch.tensor(read_idx(f"{a.data}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32).div(255).unsqueeze(1)
    model = ConvVae()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    start = time.time()
    for epoch in range(a.epochs):
        order = torch.randperm(train.shape[0])
        total = 0.0
        for i in range(0, train.shape[0], a.batch_size):
            x = train[order[i:i + a.batch_size]]
            opt.zero_grad()
            loss = negative_elbo(*model(x), x)
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
        with torch.no_grad():
            test_total = sum(negative_elbo(*model(test[i:i + 500]), test[i:i + 500]).item() * 500
                             for i in range(0, test.shape[0], 500))
        print(f"epoch {epoch + 1}/{a.epochs}: train -ELBO {total / train.shape[0]:.2f} nats/image, "
              f"test -ELBO {test_total / test.shape[0]:.2f} nats/image ({time.time() - start:.0f} s so far)", flush=True)


if __name__ == "__main__":
    main()
