"""XOR with a 2-8-1 MLP and BCEWithLogitsLoss (the classic first network)."""
from _imports import nn, optim, torch


def main(steps=500, seed=0):
    torch.manual_seed(seed)
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    criterion = nn.BCEWithLogitsLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    for step in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    with torch.no_grad():
        predictions = (torch.sigmoid(model(x)) > 0.5).float()
    accuracy = (predictions == y).float().mean().item()
    print(f"final loss {loss.item():.4f}, accuracy {accuracy:.2f}")
    return loss.item(), accuracy


if __name__ == "__main__":
    main()
