"""The EMI paper (Yu et al., CVPRW 2024): Hume-Vidmimic2, Tables 1-4."""
