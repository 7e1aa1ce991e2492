"""FSL forward+backward: fast (hfpl.losses.fsl_loss, default radius) vs the all-pairs reference.

Each measurement runs in a fresh child process so its peak memory is its own: CPU peak RSS
growth over the inputs (ru_maxrss), CUDA max allocated on a GPU. Prints the time ratio, the
peak-memory ratio and the relative difference of the loss values, at the shapes the methods use.

    python benchmarks/bench_losses.py [--device cpu|cuda] [--threads N] [--shapes seam,sipe,...]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "losses"))

SHAPES = {  # name: (B, K, H=W) as in the paper's setups
    "seam": (8, 21, 56),
    "sipe": (16, 21, 64),
    "mctformer": (64, 20, 56),
}
REFERENCE_BYTES_PER_PAIR = 40  # ~10 float32 (B, HW, HW) tensors alive in the all-pairs version


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _measure(impl: str, shape: tuple[int, int, int], device: str, threads: int, repeats: int, out):
    import torch
    from loss_reference import all_pairs_fsl, seam_like_inputs

    from hfpl.losses import fsl_loss

    torch.set_num_threads(threads)
    b, k, size = shape
    image, maps = seam_like_inputs(batch=b, classes=k, size=size)
    image, maps = image.to(device), maps.to(device)
    fn = fsl_loss if impl == "fast" else all_pairs_fsl
    times = []
    rss_before = _rss_bytes()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    for _ in range(repeats):
        leaf = maps.clone().requires_grad_()
        start = time.perf_counter()
        value = fn(image, leaf)
        value.backward()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    out.put((min(times), max(peak, 1), value.item()))


def run(impl, shape, device, threads, repeats):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_measure, args=(impl, shape, device, threads, repeats, queue))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"{impl} at {shape} failed in the child process ({child.exitcode})")
    return queue.get()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument(
        "--reference-memory-gb",
        type=float,
        default=10.0,
        help="skip the all-pairs reference when it would need more than this",
    )
    args = parser.parse_args()
    print(
        f"FSL forward+backward on {args.device}, {args.threads} threads, "
        "fast = default radius 4σ (σ = 5); times are the best of the repeats"
    )
    header = f"{'shape':<10} {'B,K,HxW':<14} {'fast s':>8} {'ref s':>8} {'speed-up':>9} "
    print(header + f"{'fast MB':>9} {'ref MB':>9} {'mem ratio':>10} {'rel diff':>9}")
    for name in args.shapes.split(","):
        b, k, size = SHAPES[name]
        fast_t, fast_m, fast_v = run("fast", SHAPES[name], args.device, args.threads, 3)
        dims = f"{b},{k},{size}x{size}"
        ref_bytes = REFERENCE_BYTES_PER_PAIR * b * size**4
        if ref_bytes > args.reference_memory_gb * 2**30:
            print(
                f"{name:<10} {dims:<14} {fast_t:8.3f} {'skipped':>8} {'-':>9} "
                f"{fast_m / 2**20:9.1f} {f'~{ref_bytes / 2**30:.0f}GB':>9} {'-':>10} {'-':>9}"
            )
            continue
        ref_t, ref_m, ref_v = run("reference", SHAPES[name], args.device, args.threads, 1)
        print(
            f"{name:<10} {dims:<14} {fast_t:8.3f} {ref_t:8.3f} {ref_t / fast_t:8.1f}x "
            f"{fast_m / 2**20:9.1f} {ref_m / 2**20:9.1f} {ref_m / fast_m:9.1f}x "
            f"{abs(fast_v - ref_v) / abs(ref_v):9.1e}"
        )


if __name__ == "__main__":
    main()
