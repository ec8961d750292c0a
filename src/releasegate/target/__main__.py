"""`python -m releasegate.target [OPTIONS]`: the same as `releasegate target serve`."""

from releasegate.target.command import main

main()
