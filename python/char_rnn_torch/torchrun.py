"""torchrun, for the PyTorch 1.13 that Debian 12 ships with Python 3.11:

    python3 -m char_rnn_torch.torchrun --standalone --nproc_per_node 2 -m char_rnn_torch train ...

takes the same arguments as `torchrun` (torch.distributed.run). That launcher fails at start there with
"'NoneType' object has no attribute 'get'": Std.from_str finds its value by iterating over the IntFlag
Std, and Python 3.11 no longer lists the zero member NONE, so the default `--redirects 0` parses as None
(pytorch/pytorch#92319, fixed in PyTorch 2.0). Std(int) finds every member: with it, this is torchrun
unchanged. On a PyTorch that parses "0" correctly, nothing is replaced.
"""

import re

from torch.distributed.elastic.multiprocessing import api
from torch.distributed.run import main


def std_from_str(vm):
    if re.match(api._VALUE_REGEX, vm):
        return api.Std(int(vm))
    if re.match(api._MAPPING_REGEX, vm):
        return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
    raise ValueError(f"{vm} does not match: <{api._VALUE_REGEX}> or <{api._MAPPING_REGEX}>")


if api.Std.from_str("0") is None:
    api.Std.from_str = std_from_str

if __name__ == "__main__":
    main()
