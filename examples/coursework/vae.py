"""A small variational autoencoder on MNIST (the PyTorch examples' VAE, 784-400-20):
binary cross-entropy reconstruction loss plus the KL term, and a PNG of test digits above
their reconstructions, written with save_image.

    python examples/coursework/vae.py --epochs 2 --out vae.png
"""
import argparse

from _imports import DataLoader, F, TensorDataset, nn, optim, torch, torchvision


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def datasets(args):
    if args.synthetic:  # strokes on a dark background, enough to see the loss fall
        torch.manual_seed(0)
        images = torch.zeros(args.synthetic, 1, 28, 28)
        rows = torch.randint(4, 24, (args.synthetic,))
        for i, r in enumerate(rows.tolist()):
            images[i, 0, r:r + 3, 4:24] = 1.0
        labels = torch.zeros(args.synthetic, dtype=torch.long)
        split = args.synthetic * 4 // 5
        return TensorDataset(images[:split], labels[:split]), TensorDataset(images[split:], labels[split:])
    transform = torchvision.transforms.ToTensor()
    return (torchvision.datasets.MNIST(args.data_dir, train=True, download=True, transform=transform),
            torchvision.datasets.MNIST(args.data_dir, train=False, download=True, transform=transform))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--out", default="vae_reconstructions.png")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    torch.manual_seed(1)
    train_set, test_set = datasets(args)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=args.batch_size)
    model = VAE()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, args.epochs + 1):
        model.train()
        train_loss = 0.0
        for data, _ in train_loader:
            optimizer.zero_grad()
            recon, mu, logvar = model(data)
            loss = loss_function(recon, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        model.eval()
        test_loss = 0.0
        with torch.no_grad():
            for i, (data, _) in enumerate(test_loader):
                recon, mu, logvar = model(data)
                test_loss += loss_function(recon, data, mu, logvar).item()
                if i == 0:
                    n = min(data.size(0), 8)
                    comparison = torch.cat([data[:n], recon.view(-1, 1, 28, 28)[:n]])
                    torchvision.utils.save_image(comparison, args.out, nrow=n)
        print(f"epoch {epoch}: train loss {train_loss / len(train_loader.dataset):.4f}, "
              f"test loss {test_loss / len(test_loader.dataset):.4f}")
    return test_loss / len(test_loader.dataset)


if __name__ == "__main__":
    main()
