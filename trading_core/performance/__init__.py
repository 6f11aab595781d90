"""Tear-sheet statistics: what a return series and a score series say about performance and
skill, computed here and checked against empyrical-reloaded and alphalens-reloaded in tests."""
