#!/usr/bin/env bash
# Run by Snakemake inside the new conda environment (--sdm conda), from a copy of this file beside the
# environment: the checkout to install is AFFREPRO_REPO_ROOT, which workflow/rules/common.smk sets.
set -euo pipefail
: "${AFFREPRO_REPO_ROOT:?the affrepro checkout to install is not set: run this through the workflow (snakemake --sdm conda), or set it to the affrepro checkout}"
python -m pip install --no-deps facenet-pytorch==2.6.0
python -m pip install --no-deps -e "$AFFREPRO_REPO_ROOT"
