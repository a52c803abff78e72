"""python -m char_rnn_torch train|eval: see --help of each, and the README's "When one machine is not enough"."""

import argparse
import sys

from .checkpoint import CheckpointError
from .evaluate import run_eval
from .safetensors import SafetensorsError
from .train import train


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m char_rnn_torch", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    t = commands.add_parser("train", help="continue an engine checkpoint's training in PyTorch (under torchrun: DistributedDataParallel)")
    t.add_argument("--resume", required=True, help="the engine's checkpoint (safetensors) with training state")
    t.add_argument("--data", help="the UTF-8 corpus (default: the checkpoint's)")
    t.add_argument("--iters", type=int, required=True, help="train until iteration N, counting the checkpoint's")
    t.add_argument("--save", help="write the engine's checkpoint here (rank 0) at the end and every --save-every")
    t.add_argument("--save-every", type=int, default=1000)
    t.add_argument("--log-every", type=int, default=100, help="print the loss every N iterations (0: never)")
    t.add_argument("--eval-every", type=int, default=1000, help="validation loss every N iterations and at the end (with val_frac > 0)")
    t.add_argument("--device", help="cpu, cuda or cuda:K (default: this process's GPU when CUDA is present, else cpu)")
    t.add_argument("--json", action="store_true", help="JSON Lines: {type: start|log|val|save|summary, ...}")

    e = commands.add_parser("eval", help="loss per character of a checkpoint on a text, as char-rnn eval")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--device")
    e.add_argument("--json", action="store_true", help="one JSON object: {loss_per_char, bits_per_char, chars}")

    args = parser.parse_args(argv)
    try:
        train(args) if args.command == "train" else run_eval(args)
    except (CheckpointError, SafetensorsError, ValueError, OSError) as err:
        sys.exit(f"char_rnn_torch {args.command}: {err}")


if __name__ == "__main__":
    main()
