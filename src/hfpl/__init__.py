"""hfpl: the paper's ISL/FSL add-on, one J/F evaluator, and the reproduction workflow.

Jonnarth, Zhang, Felsberg, *High-fidelity Pseudo-labels for Boosting Weakly-Supervised
Segmentation*, WACV 2024.
"""

__version__ = "0.1.0"
