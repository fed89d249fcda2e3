"""`hyperfuse convert config.py [--out FILE]`: the seed's config.py as the TOML `hyperfuse run`
accepts. The CLI runs this module with python3 (`python3 -m hyperfuse.convert`), so config.py is
read by one implementation, seed_config.py, whichever entry point reads it."""
import argparse
import os
import sys

from .errors import ConfigError
from .seed_config import read_seed_config
from .toml_text import toml_text


def seed_config_tables(arguments, train=None, test=None, output_dir=None):
    """read_seed_config()'s keyword arguments as TOML tables; the data and output paths as given."""
    search = {}
    for key in ("explore_all_combinations", "number_of_combinations_to_try", "rerun_count"):
        if key in arguments:
            search[key] = arguments[key]
    data = {k: v for k, v in (("train", train), ("test", test)) if v is not None}
    execution = {"cpu_count": arguments["cpu_count"]} if "cpu_count" in arguments else {}
    output = {"dir": output_dir} if output_dir is not None else {}
    return {"data": data, "search": search, "execution": execution, "output": output,
            "hyperparameters": arguments["hyperparameter_values"]}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="hyperfuse convert",
                                     description="Write the seed script's config.py as a hyperfuse TOML config "
                                                 "(read without running it).")
    parser.add_argument("config", help="the seed's config.py")
    parser.add_argument("--out", help="the TOML file to write (default: standard output)")
    parser.add_argument("--train", help="[data] train of the TOML (relative to the TOML's folder)")
    parser.add_argument("--test", help="[data] test of the TOML (relative to the TOML's folder)")
    parser.add_argument("--output-dir", help="[output] dir of the TOML (relative to the TOML's folder)")
    args = parser.parse_args(argv)
    try:
        arguments = read_seed_config(args.config)
    except ConfigError as error:
        print(f"hyperfuse: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"hyperfuse: error: {args.config}: cannot read the file ({error.strerror})", file=sys.stderr)
        return 2
    header = (f"# Converted by `hyperfuse convert` from {os.path.basename(args.config)}; every key is in "
              f"docs/CONFIG.md.\n# Without [data] train/test or [output] dir the defaults apply, relative to "
              f"this file's folder.")
    text = toml_text(seed_config_tables(arguments, args.train, args.test, args.output_dir), header)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    temporary = args.out + ".tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, args.out)
    except OSError as error:
        print(f"hyperfuse: error: {args.out}: cannot write the file ({error.strerror})", file=sys.stderr)
        return 2
    print(f"Wrote {args.out} ({len(arguments['hyperparameter_values'])} hyperparameter keys)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
