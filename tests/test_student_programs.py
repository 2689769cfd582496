"""Short programs as students write them in PyTorch coursework, with only the import switched
(``import torch`` -> ``import tinynn as torch``). Each prints what it computes; the expected
text is what PyTorch prints for the same program.
"""
import tinynn as torch


def test_one_hot_with_scatter(capsys):
    y = torch.tensor([2, 0, 1, 2])
    one_hot = torch.zeros(len(y), 3).scatter_(1, y.unsqueeze(1), 1)
    print(one_hot)
    print(one_hot.sum(dim=1))
    assert capsys.readouterr().out == (
        "tensor([[0., 0., 1.],\n"
        "        [1., 0., 0.],\n"
        "        [0., 1., 0.],\n"
        "        [0., 0., 1.]])\n"
        "tensor([1., 1., 1., 1.])\n")


def test_standardising_features(capsys):
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    print(x.mean(0), x.std(0))
    z = (x - x.mean(0)) / x.std(0)
    print(z)
    print(z.std(0, unbiased=False))
    assert capsys.readouterr().out == (
        "tensor([3., 6.]) tensor([2., 4.])\n"
        "tensor([[-1., -1.],\n"
        "        [ 0.,  0.],\n"
        "        [ 1.,  1.]])\n"
        "tensor([0.8165, 0.8165])\n")


def test_top5_accuracy(capsys):
    torch.manual_seed(0)
    output = torch.tensor([[0.1, 0.5, 0.2, 0.9, 0.3, 0.0, 0.4],
                           [0.8, 0.1, 0.7, 0.2, 0.6, 0.3, 0.5],
                           [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
    target = torch.tensor([5, 6, 2])
    _, pred = output.topk(5, 1, True, True)
    print(pred)
    pred = pred.t()
    correct = pred.eq(target.view(1, -1).expand_as(pred))
    top1 = correct[:1].reshape(-1).float().sum(0)
    top5 = correct[:5].reshape(-1).float().sum(0)
    print(f"top-1 {top1.item() / 3:.4f}, top-5 {top5 / 3 * 100:.1f}%")
    assert capsys.readouterr().out == (
        "tensor([[3, 1, 6, 4, 2],\n"
        "        [0, 2, 4, 6, 5],\n"
        "        [6, 5, 4, 3, 2]])\n"
        "top-1 0.0000, top-5 66.7%\n")


def test_loss_formatting(capsys):
    loss = torch.nn.functional.mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([1.5, 2.5]))
    print(f"loss {loss:.4f}")
    print("epoch {}: loss {:.2f}".format(1, loss))
    print(f"{loss}")
    print(loss)
    assert capsys.readouterr().out == "loss 0.2500\nepoch 1: loss 0.25\n0.25\ntensor(0.2500)\n"


def test_float_tensor_arithmetic(capsys):
    a = torch.FloatTensor([[1, 2], [3, 4]])
    b = torch.FloatTensor([[0.5, 1], [1.5, 2]])
    print(a * 2 + 1)
    print(a @ a)
    print(a / b)
    print(a.mean(), a.sum(dim=0), a.dtype, a.shape, a.type())
    assert capsys.readouterr().out == (
        "tensor([[3., 5.],\n"
        "        [7., 9.]])\n"
        "tensor([[ 7., 10.],\n"
        "        [15., 22.]])\n"
        "tensor([[2., 2.],\n"
        "        [2., 2.]])\n"
        "tensor(2.5000) tensor([4., 6.]) tinynn.float32 tinynn.Size([2, 2]) tinynn.FloatTensor\n")


def test_linear_regression_with_autograd_grad(capsys):
    torch.manual_seed(0)
    true_w, true_b = torch.tensor([[2.0], [-3.4]]), 4.2
    X = torch.normal(0, 1, (1000, 2))
    y = X @ true_w + true_b + torch.normal(0, 0.01, size=(1000, 1))

    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr, batch_size = 0.03, 10
    for epoch in range(3):
        indices = torch.randperm(len(X))
        for i in range(0, len(X), batch_size):
            batch = indices[i:i + batch_size]
            loss = ((X[batch] @ w + b - y[batch]) ** 2 / 2).mean()
            dw, db = torch.autograd.grad(loss, [w, b])
            with torch.no_grad():
                w -= lr * dw
                b -= lr * db
        with torch.no_grad():
            train_loss = ((X @ w + b - y) ** 2 / 2).mean()
        print(f"epoch {epoch + 1}, loss {train_loss:f}")
    assert w.grad is None and b.grad is None          # autograd.grad leaves .grad alone
    assert (w - true_w).abs().max() < 0.01 and abs(b.item() - true_b) < 0.01
    lines = capsys.readouterr().out.splitlines()
    assert [line[:15] for line in lines] == ["epoch 1, loss 0", "epoch 2, loss 0", "epoch 3, loss 0"]
    assert float(lines[-1].split()[-1]) < 1e-4   # the noise floor: 0.01**2 / 2


def test_device_line_runs_on_the_cpu(capsys):
    device = ("cuda" if torch.cuda.is_available()
              else "mps" if torch.backends.mps.is_available()
              else "cpu")
    model = torch.nn.Linear(3, 2).to(device)
    x = torch.ones(4, 3).to(device, non_blocking=True)
    torch.backends.cudnn.benchmark = True
    torch.cuda.manual_seed_all(0)
    print(device, model(x).shape, x.is_mps)
    assert capsys.readouterr().out == f"{device} tinynn.Size([4, 2]) False\n"
