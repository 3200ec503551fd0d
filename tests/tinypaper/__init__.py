"""A fourth paper that lives only in the tests: a straight line fitted to noisy points, one table.

It is registered through $AFFREPRO_PAPERS=tinypaper.paper (with tests/ on PYTHONPATH) and brings its own
rules, paper file and config schema, so it plans and builds its table without a shared file being edited
(tests/common/test_common_fourth_paper.py).
"""
