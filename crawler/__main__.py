"""`python -m crawler …` is the same as the `govarchive …` console script."""

from crawler.cli import main

main()
