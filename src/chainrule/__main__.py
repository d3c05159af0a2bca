"""Command line: ``python -m chainrule demo``."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m chainrule",
                                     description="chainrule: automatic differentiation on NumPy")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("demo", help="walk through the autograd chapter of Dive into Deep Learning")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import main as demo_main
        demo_main()
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
