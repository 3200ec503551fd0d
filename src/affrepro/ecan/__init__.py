"""ECAN (Zhu et al., Electronics 2022): extra-contrast affinity network for FER.

Its declaration for the shared code is paper (affrepro.registry). The paper modules: plan (the runs
and their ids), prepare (RAF-DB / FER2013 -> train/val/test splits), train (one run: the job),
aggregate (runs -> one JSON per table or figure), provenance (the tables' provenance), settings (what each job reads).
ECAN-only: augment (Table 1 levels), losses (Eqs. 4-11), figures (Figures 3,
4, 6, 7), stats (dataset facts, Table 1's ours-column). The network (Siamese
encoders + memory bank, §3.1) is affrepro.models.ecan.
"""
