"""`python -m intake.cli …` is the same as `intake …`."""
from . import main

main()
