"""ECAN (Zhu et al., Electronics 2022): extra-contrast affinity network for FER.

augment: Table 1 augmentation levels; model: Siamese encoders + memory bank
(§3.1); losses: Eqs. 4-11; train: one experiment from explicit arguments.
"""
