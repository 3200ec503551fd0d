"""EMI's pack job (affrepro.pack): one extractor's per-clip features -> its store, in the dataset's partitions
(train, valid, test), each in the plan's sample order.

    python -m affrepro.emi.pack --config C --root R --features work/emi/features/au/shard0.json ... \
        --out-dir work/emi/packed/au --manifest work/emi/packed/au.json
"""

from __future__ import annotations

from affrepro import pack
from affrepro.emi.settings import Pack


def main(argv: list[str] | None = None) -> None:
    pack.main(argv, __doc__, "emi", Pack)


if __name__ == "__main__":
    main()
