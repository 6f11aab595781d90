"""Choosing what goes to production: candidates compared out of sample, the winner promoted."""
