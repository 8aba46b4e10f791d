"""How much a code (E(x), raw pixels, a random encoder's output) says about the label: k-nearest-neighbour and
linear-probe accuracy, fit on a train subset and scored on a test set. Pure torch, deterministic (no sampling, a
zero-initialised full-batch L-BFGS), so every process computes the same numbers.

BiGAN (Donahue et al. 2017, Table 1) reports 1-NN accuracy on MNIST; 1-NN hardly separates methods there (raw
pixels ~96.9 %, a random encoder ~96.8 % in the authors' log), hence the linear probe and the floors beside it.
"""

import torch
import torch.nn.functional as F
from torch import Tensor


def knn_accuracy(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor, k: int = 1, chunk: int = 1024) -> float:
    """Accuracy of the majority label among the k nearest train codes (Euclidean) of each test code; ties in the
    vote go to the smallest label (``torch.mode``). (N, d) codes, (N,) int labels."""
    if k < 1 or k > len(train_x):
        raise ValueError(f"k must be in [1, {len(train_x)}], got {k}.")
    train_x, test_x = train_x.float(), test_x.float()
    correct = 0
    for start in range(0, len(test_x), chunk):
        part = test_x[start : start + chunk]
        distances = torch.cdist(part, train_x, compute_mode="use_mm_for_euclid_dist")  # (B, N_train), float32
        nearest = distances.topk(k, dim=1, largest=False).indices  # (B, k)
        votes = train_y[nearest]
        predicted = votes[:, 0] if k == 1 else votes.mode(dim=1).values
        correct += int((predicted == test_y[start : start + chunk]).sum())
    return correct / len(test_x)


def linear_probe_accuracy(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor, num_classes: int | None = None,
                          l2: float = 1e-4, max_iter: int = 100) -> float:
    """Test accuracy of multinomial logistic regression on standardised codes (train mean / std, the std floored at
    a tenth of its mean so near-constant inputs such as MNIST's border pixels do not blow up), L2 weight ``l2`` on
    the weights, fit by full-batch L-BFGS from zero in float64 (deterministic), ``max_iter`` iterations at most."""
    k = num_classes or int(max(train_y.max(), test_y.max())) + 1
    std = train_x.double().std(0)
    mean, std = train_x.double().mean(0), std.clamp_min(0.1 * float(std.mean()) + 1e-12)
    xtr, xte = (train_x.double() - mean) / std, (test_x.double() - mean) / std
    weight = torch.zeros(xtr.shape[1], k, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=max_iter, history_size=20,
                                  tolerance_grad=1e-9, tolerance_change=1e-12, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(xtr @ weight + bias, train_y) + l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    with torch.no_grad():
        return float(((xte @ weight + bias).argmax(1) == test_y).double().mean())


def representation_scores(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor,
                          ks: tuple[int, ...] = (1, 5), probe: bool = True) -> dict[str, float]:
    """``knn<k>_accuracy`` for each k and ``linear_probe_accuracy``, as fractions in [0, 1]."""
    train_x, test_x = train_x.flatten(1), test_x.flatten(1)
    scores = {f"knn{k}_accuracy": knn_accuracy(train_x, train_y, test_x, test_y, k) for k in ks}
    if probe:
        scores["linear_probe_accuracy"] = linear_probe_accuracy(train_x, train_y, test_x, test_y)
    return scores
