"""webgpu-char-rnn's model and training loop in PyTorch: continue an engine checkpoint on more machines
(torchrun with DistributedDataParallel) and bring the result back to the engine in its own format.

Modules: safetensors (the container), model (CharModel), optim (the optimizers and their state),
checkpoint (the engine's files), data (corpus, split, streams), distributed, train, evaluate.
"""
