"""A DCGAN-style generator and discriminator on MNIST-sized images: ConvTranspose2d +
BatchNorm2d + ReLU up from a (N, 100, 1, 1) noise, Conv2d + LeakyReLU down, BCELoss.

    python examples/coursework/dcgan.py --steps 300 --out samples.png
"""
import argparse

from _imports import DataLoader, TensorDataset, nn, optim, torch, torchvision


def generator(nz=100, ngf=32):
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1, bias=False), nn.Tanh())          # (N, 1, 28, 28)


def discriminator(ndf=32):
    return nn.Sequential(
        nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False), nn.Flatten(0), nn.Sigmoid())


def images(args):
    if args.synthetic:
        torch.manual_seed(0)
        data = torch.rand(args.synthetic, 1, 28, 28) * 2 - 1
        return TensorDataset(data, torch.zeros(args.synthetic, dtype=torch.long))
    transform = torchvision.transforms.Compose([torchvision.transforms.ToTensor(),
                                               torchvision.transforms.Normalize((0.5,), (0.5,))])
    return torchvision.datasets.MNIST(args.data_dir, train=True, download=True, transform=transform)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--out", default="dcgan_samples.png")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    torch.manual_seed(1)
    loader = DataLoader(images(args), batch_size=args.batch_size, shuffle=True, drop_last=True)
    net_g, net_d = generator(), discriminator()
    criterion = nn.BCELoss()
    opt_g = optim.Adam(net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    fixed_noise = torch.randn(64, 100, 1, 1)
    step = 0
    while step < args.steps:
        for real, _ in loader:
            n = real.size(0)
            ones, zeros = torch.ones(n), torch.zeros(n)
            opt_d.zero_grad()
            fake = net_g(torch.randn(n, 100, 1, 1))
            loss_d = criterion(net_d(real), ones) + criterion(net_d(fake.detach()), zeros)
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = criterion(net_d(fake), ones)
            loss_g.backward()
            opt_g.step()
            step += 1
            if step % 50 == 0 or step == args.steps:
                print(f"step {step}: loss_D {loss_d.item():.4f}, loss_G {loss_g.item():.4f}")
            if step == args.steps:
                break
    with torch.no_grad():
        net_g.eval()
        torchvision.utils.save_image(net_g(fixed_noise), args.out, normalize=True)
    return loss_d.item(), loss_g.item()


if __name__ == "__main__":
    main()
