"""``python -m dotnet``: the same command line as ``dotnet``."""

from dotnet.cli import main

if __name__ == "__main__":
    main(prog_name="dotnet")
