"""`python -m crawler …` is the same as the `govarchive …` console script."""

from crawler.cli import main

if __name__ == "__main__":  # not when a spawned extraction worker imports this module
    main()
