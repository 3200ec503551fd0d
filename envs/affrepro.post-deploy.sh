#!/usr/bin/env bash
# Run by Snakemake inside the new conda environment (--sdm conda).
set -euo pipefail
python -m pip install --no-deps facenet-pytorch==2.6.0
python -m pip install --no-deps -e "${SNAKEMAKE_REPO_ROOT:-$PWD}"
