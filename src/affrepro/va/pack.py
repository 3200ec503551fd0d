"""VA's pack job (affrepro.pack): one extractor's per-trial features -> its store, one cross-validation pool
("trials", train then validation) that affrepro.va.folds deals to folds.

    python -m affrepro.va.pack --config C --root R --features work/va/features/mfcc/shard0.json ... \
        --out-dir work/va/packed/mfcc --manifest work/va/packed/mfcc.json
"""

from __future__ import annotations

from affrepro import pack
from affrepro.va.settings import Pack


def main(argv: list[str] | None = None) -> None:
    pack.main(argv, __doc__, "va", Pack)


if __name__ == "__main__":
    main()
